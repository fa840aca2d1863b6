package jira_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/jira/sandbox"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// TestTrackerListEntities: the search listing carries every issue as Get
// reads it, comments and attachments included, in one call for the
// project; ReadItems then costs nothing.
func TestTrackerListEntities(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	made, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "Listed whole", Description: "<body>Has <strong>all</strong> of it</body>"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := tr.AddComment(c, made.ID, "<body>comment "+strconv.Itoa(i)+"</body>"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.AddAttachment(c, made.ID, "notes.txt", 5, func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader([]byte("notes"))), nil
	}); err != nil {
		t.Fatal(err)
	}

	before := e.client.Stats()
	listed, err := listAll(c, tr, "KAN")
	if err != nil {
		t.Fatal(err)
	}
	if d := e.client.Stats().Sub(before); d.Total() != 1 || d.ByEndpoint["POST /search/jql"] != 1 {
		t.Errorf("ListEntities cost %+v, want one search", d.ByEndpoint)
	}
	ids, err := tr.List(c, "KAN")
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(ids) || len(listed) < 2 {
		t.Fatalf("%d issues listed, List has %d", len(listed), len(ids))
	}
	var sawFiles, sawComments bool
	for i, got := range listed {
		if got.ID != ids[i] {
			t.Errorf("listed #%d is %s, List says %s (oldest first)", i, got.ID, ids[i])
		}
		if got.Comments == nil || got.Attachments == nil {
			t.Errorf("%s: comments %v, attachments %v; want both from the listing", got.Key, got.Comments, got.Attachments)
		}
		before := e.client.Stats()
		if err := tr.ReadItems(c, &got); err != nil {
			t.Fatal(err)
		}
		if d := e.client.Stats().Sub(before); d.Total() != 0 {
			t.Errorf("ReadItems(%s) cost %+v, want nothing: the listing carried it all", got.Key, d.ByEndpoint)
		}
		want, err := tr.Get(c, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("listed differs from Get:\nlisted %+v\n   got %+v", got, want)
		}
		sawFiles = sawFiles || len(got.Attachments) > 0
		sawComments = sawComments || len(got.Comments) > 1
	}
	if !sawFiles || !sawComments {
		t.Error("no issue with comments and files was listed: the test tested little")
	}
}

// TestTrackerReadItemsWhatTheListingLacks: an issue with more comments than
// Jira embeds is listed without them (its total says so), and ReadItems
// lists its comments alone; an entity known by its id alone gets its
// attachments and comments in one GET; a missing issue is ErrNotFound.
func TestTrackerReadItemsWhatTheListingLacks(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"), sandbox.WithEmbeddedComments(2))
	c := ctx(t)
	tr, _ := e.tracker(t)
	many, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "Many comments"})
	if err != nil {
		t.Fatal(err)
	}
	few, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "Few comments"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := tr.AddComment(c, many.ID, "<body>comment "+strconv.Itoa(i)+"</body>"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.AddComment(c, few.ID, "<body>only one</body>"); err != nil {
		t.Fatal(err)
	}
	listed, err := listAll(c, tr, "KAN")
	if err != nil || len(listed) != 2 || listed[0].ID != many.ID {
		t.Fatalf("ListEntities = %+v, %v", listed, err)
	}
	got := listed[0]
	if got.Comments != nil || got.Attachments == nil {
		t.Errorf("listed with 2 of 5 comments embedded: comments %v, attachments %v; want comments unread, attachments listed", got.Comments, got.Attachments)
	}
	before := e.client.Stats()
	if err := tr.ReadItems(c, &got); err != nil {
		t.Fatal(err)
	}
	if d := e.client.Stats().Sub(before); d.Total() != 1 || d.ByEndpoint["GET /issue/{id}/comment"] != 1 {
		t.Errorf("ReadItems cost %+v, want one comments list", d.ByEndpoint)
	}
	if want, err := tr.Get(c, many.ID); err != nil || !reflect.DeepEqual(got, want) || len(got.Comments) != 5 {
		t.Errorf("after ReadItems:\n got %+v\nwant %+v (%v)", got, want, err)
	}
	if len(listed[1].Comments) != 1 {
		t.Errorf("an issue with 1 comment was listed with %v", listed[1].Comments)
	}

	bare := tracker.Entity{ID: few.ID}
	before = e.client.Stats()
	if err := tr.ReadItems(c, &bare); err != nil {
		t.Fatal(err)
	}
	if d := e.client.Stats().Sub(before); d.Total() != 1 || d.ByEndpoint["GET /issue/{id}"] != 1 {
		t.Errorf("ReadItems of a bare entity cost %+v, want one GET /issue", d.ByEndpoint)
	}
	if len(bare.Comments) != 1 || bare.Attachments == nil {
		t.Errorf("bare entity after ReadItems: %+v", bare)
	}
	if err := tr.ReadItems(c, &tracker.Entity{ID: "99999"}); !errors.Is(err, tracker.ErrNotFound) {
		t.Errorf("ReadItems of a missing issue: %v, want tracker.ErrNotFound", err)
	}
}

// TestTrackerModifiedSince lists what ChangedSince does, each with the
// time Get reads as ModifiedAt, in one search.
func TestTrackerModifiedSince(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	a, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "modified"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tr.Get(c, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	before := e.client.Stats()
	mod, err := tr.ModifiedSince(c, "KAN", got.ModifiedAt.Add(-time.Hour))
	if err != nil || len(mod) != 1 || !mod[a.ID].Equal(got.ModifiedAt) {
		t.Errorf("ModifiedSince = %v, %v; want %s at %v", mod, err, a.ID, got.ModifiedAt)
	}
	if d := e.client.Stats().Sub(before); d.Total() != 1 {
		t.Errorf("ModifiedSince cost %+v, want one search", d.ByEndpoint)
	}
	if mod, err := tr.ModifiedSince(c, "KAN", got.ModifiedAt.Add(time.Millisecond)); err != nil || len(mod) != 0 {
		t.Errorf("ModifiedSince(1 ms after) = %v, %v; want none", mod, err)
	}
}

// listAll gathers every page ListEntities hands over.
func listAll(ctx context.Context, tr tracker.BulkReader, project string) ([]tracker.Entity, error) {
	var all []tracker.Entity
	err := tr.ListEntities(ctx, project, func(p []tracker.Entity) error {
		all = append(all, p...)
		return nil
	})
	return all, err
}
