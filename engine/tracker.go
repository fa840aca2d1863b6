package engine

import "github.com/tandem-sync/tandem/engine/tracker"

// The tracker contract lives in the leaf package engine/tracker, so that
// connectors can implement it without importing the engine (and with it
// the store, SQLite and River). These aliases keep the engine's own names:
// engine.Tracker and tracker.Tracker are the same type, and the sentinel
// errors below are the same values, so errors.Is holds on either name.

// Tracker is what the engine needs of the work tracker a node fronts; see
// tracker.Tracker.
type Tracker = tracker.Tracker

// TrackerAccount describes the account a node uses on its tracker; see
// tracker.TrackerAccount.
type TrackerAccount = tracker.TrackerAccount

// Project is a project of the node's tracker; see tracker.Project.
type Project = tracker.Project

// Item is a tracker item as a picker lists it; see tracker.Item.
type Item = tracker.Item

// ItemLister is a tracker that can list recent items; see
// tracker.ItemLister.
type ItemLister = tracker.ItemLister

// SearchLagger is a tracker whose search lags its writes; see
// tracker.SearchLagger.
type SearchLagger = tracker.SearchLagger

// EntityTracker is what the sync pipeline needs of a tracker; see
// tracker.EntityTracker.
type EntityTracker = tracker.EntityTracker

// Entity is one tracker item with everything the rules sync; see
// tracker.Entity.
type Entity = tracker.Entity

// Vocabulary is how a tracker's users name things; see tracker.Vocabulary.
type Vocabulary = tracker.Vocabulary

// Comment is a comment on an entity; see tracker.Comment.
type Comment = tracker.Comment

// Attachment is a file on an entity; see tracker.Attachment.
type Attachment = tracker.Attachment

// NewEntity is what Create needs; see tracker.NewEntity.
type NewEntity = tracker.NewEntity

// EntityUpdate changes the fields that are not nil; see
// tracker.EntityUpdate.
type EntityUpdate = tracker.EntityUpdate

// Changes is one round of change detection on a project; see
// tracker.Changes.
type Changes = tracker.Changes

// BulkReader is a tracker whose listing carries the entities' fields; see
// tracker.BulkReader.
type BulkReader = tracker.BulkReader

// ModifiedLister is a tracker that lists entities modified since a time
// with their modification times; see tracker.ModifiedLister.
type ModifiedLister = tracker.ModifiedLister
