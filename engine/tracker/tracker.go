// Package tracker is the contract between the engine and the connectors:
// what a node needs of the work tracker it fronts (Tracker, EntityTracker
// and the optional ItemLister, SearchLagger, UserFinder, BulkReader and
// ModifiedLister), the tracker-neutral
// entities the sync pipeline moves, and the sentinel errors both sides
// branch on.
//
// It is a leaf: it imports the standard library only, so a connector that
// imports it pulls in neither the engine nor the store (no SQLite, no
// River, no cgo). Each connector implements the contract with a
// compile-time check (var _ tracker.EntityTracker = (*Client)(nil)); the
// engine re-exports these names as aliases, so code written against
// engine.Tracker and engine.ErrNotFound means the same types and the same
// error values.
//
// Rich text has one neutral form, owned by this contract in the richtext
// sub-package; every connector converts its tracker's rich text to and from
// it at its edge.
package tracker

import (
	"context"
	"time"
)

// Tracker is what the engine needs of the work tracker a node fronts. Each
// connector implements it (connectors/asana, connectors/jira) with a
// compile-time check; the engine never talks to a tracker's API directly.
//
// This is the part connections need; the sync pipeline extends it with
// reading and writing entities (EntityTracker).
type Tracker interface {
	// Kind names the tracker ("asana"), as other nodes see it.
	Kind() string
	// Check verifies the tracker's credentials and says whose they are, so
	// a wrong token is caught when the node starts.
	Check(ctx context.Context) (TrackerAccount, error)
	// Projects lists the projects entities can be synced from and to.
	Projects(ctx context.Context) ([]Project, error)
}

// TrackerAccount describes the account a node uses on its tracker.
type TrackerAccount struct {
	// User is the account's display name.
	User string
	// Space is the workspace (Asana) or site (Jira) the node works in.
	Space string
}

// Project is a project of the node's tracker.
type Project struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Item is a tracker item as a picker lists it: enough to recognise it and
// to exalate it (Key or URL are valid references).
type Item struct {
	ID         string    `json:"id"`
	Key        string    `json:"key"`
	Summary    string    `json:"summary"`
	URL        string    `json:"url"`
	ModifiedAt time.Time `json:"modified_at"`
}

// ItemLister is a tracker that can list a project's most recently modified
// items cheaply (one API call per page of items on Asana). Trackers
// implement it optionally; the engine's RecentItems needs it.
type ItemLister interface {
	// RecentItems returns up to limit items of the project (an id), most
	// recently modified first.
	RecentItems(ctx context.Context, project string, limit int) ([]Item, error)
}

// SearchLagger is a tracker whose search (FindBySummary) can take a while
// to show what was just written: Jira's index, not Asana's. Trackers
// implement it optionally; a retried create whose first attempt's outcome
// is unknown waits that long for the search before creating again.
type SearchLagger interface {
	SearchLag() time.Duration
}

// UserFinder is a tracker that finds its users by e-mail, for Script
// mode's user_by_email. Trackers implement it optionally.
type UserFinder interface {
	// UserByEmail returns the user with this e-mail; nil and no error
	// when no user (the account may see) has it.
	UserByEmail(ctx context.Context, email string) (*User, error)
}

// Webhooks is a tracker that calls the node back when a project changes
// (Asana's webhooks), so change detection can wake at once instead of
// polling often. Trackers implement it optionally; one that doesn't (Jira,
// whose dynamic webhooks need an app) is polled. A delivery only wakes
// change detection, which still reads what changed through Changes, so a
// lost or forged delivery can't change what syncs.
type Webhooks interface {
	// Subscribe asks the tracker to POST to target whenever project
	// changes. The tracker's handshake reaches target while the call is
	// in flight (the node must answer it then); the call fails when the
	// handshake did.
	Subscribe(ctx context.Context, project, target string) (Hook, error)
	// Hook reads a subscription by its id; ErrNotFound when the tracker
	// dropped it (as Asana does after failing deliveries long enough).
	Hook(ctx context.Context, id string) (Hook, error)
	// Hooks lists the subscriptions on project, of any target.
	Hooks(ctx context.Context, project string) ([]Hook, error)
	// Unsubscribe deletes a subscription; one already gone is no error.
	Unsubscribe(ctx context.Context, id string) error
}

// Hook is a webhook subscription as the tracker keeps it.
type Hook struct {
	// ID is the tracker's id of the subscription (an Asana gid).
	ID string
	// Project is the project it watches, Target where it posts.
	Project, Target string
	// Active says the tracker still delivers to it.
	Active bool
}

// BulkReader is a tracker whose project listing carries every field Get
// reads (Asana's GET /tasks with opt_fields, a page of 100 tasks per call;
// Jira's JQL search, which carries comments and attachments too), so a
// bulk sync reads at most each entity's comments and attachments, never
// the entity itself. Trackers implement it optionally; Bulk Exalate uses
// it.
type BulkReader interface {
	// ListEntities lists a project's entities with their fields as Get
	// reads them, a page at a time (as the tracker pages its listing):
	// each gets every page in turn, and an error from it stops the
	// listing and is returned. Comments and Attachments are nil where the
	// listing did not carry them whole (always on Asana); a non-nil one is
	// complete. A page is the caller's to keep or drop: a Bulk Exalate of
	// a large project holds one page, not the project.
	ListEntities(ctx context.Context, project string, each func([]Entity) error) error
	// ReadItems fills in those of e's Comments and Attachments that are
	// nil, as Get reads them, and leaves the others; an entity gone since
	// it was listed is an error matching ErrNotFound.
	ReadItems(ctx context.Context, e *Entity) error
}

// ModifiedLister is a tracker that lists a project's entities modified
// since a time with each one's modification time, in a few calls (Asana:
// GET /tasks?modified_since, a page of 100 per call; Jira: a JQL search on
// updated). Trackers implement
// it optionally; the reconcile after a lost cursor uses it to skip the
// entities it has read since they last changed.
type ModifiedLister interface {
	// ModifiedSince is ChangedSince with each entity's ModifiedAt (the
	// tracker's clock, as Entity.ModifiedAt).
	ModifiedSince(ctx context.Context, project string, t time.Time) (map[string]time.Time, error)
}
