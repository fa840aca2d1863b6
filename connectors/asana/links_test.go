package asana_test

import (
	"io"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// TestBulkReadAndListedDownloadLinks: ListEntities gives the fields Get
// gives from the listing alone, ReadItems the comments and files, and a
// file is downloaded from the link its listing carried, with no call of
// its own while that link is fresh and with GET /attachments/{gid} once
// it is stale.
func TestBulkReadAndListedDownloadLinks(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	now := time.Now()
	asana.SetNow(tr, func() time.Time { return now })
	company := e.project(t, "Company")
	seeded := e.taskNamed(t, company.GID, "Update brand guidelines (logo usage)")
	want, err := tr.Get(c, seeded.GID)
	if err != nil {
		t.Fatal(err)
	}

	before := e.client.Stats()
	var listed []tracker.Entity
	err = tr.ListEntities(c, company.GID, func(p []tracker.Entity) error {
		listed = append(listed, p...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	d := e.client.Stats().Sub(before)
	if d.ByEndpoint["GET /tasks/{gid}"] != 0 || d.ByEndpoint["GET /tasks"] == 0 {
		t.Errorf("ListEntities took %v; want the listing and no task read by itself", d.ByEndpoint)
	}
	i := -1
	for j, le := range listed {
		if le.ID == seeded.GID {
			i = j
		}
	}
	if i < 0 {
		t.Fatalf("ListEntities left out %s", seeded.GID)
	}
	e1 := listed[i]
	if e1.Comments != nil || e1.Attachments != nil {
		t.Errorf("listed entity has comments or files before ReadItems: %+v", e1)
	}
	if err := tr.ReadItems(c, &e1); err != nil {
		t.Fatal(err)
	}
	if e1.Summary != want.Summary || e1.Description != want.Description || e1.URL != want.URL || e1.Project != want.Project ||
		!e1.ModifiedAt.Equal(want.ModifiedAt) || len(e1.Comments) != len(want.Comments) || len(e1.Attachments) != 1 {
		t.Fatalf("listed and read %+v, want what Get gives: %+v", e1, want)
	}

	open := func() int64 {
		t.Helper()
		before := e.client.Stats()
		rc, _, err := tr.OpenAttachment(c, e1.Attachments[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || int64(len(data)) != e1.Attachments[0].Size {
			t.Fatalf("downloaded %d bytes (%v), want %d", len(data), err, e1.Attachments[0].Size)
		}
		return e.client.Stats().Sub(before).ByEndpoint["GET /attachments/{gid}"]
	}
	if n := open(); n != 0 {
		t.Errorf("a fresh listed link cost %d × GET /attachments/{gid}, want none", n)
	}
	// Used once: a second open (a retry) asks for a fresh link.
	if n := open(); n != 1 {
		t.Errorf("a second open made %d × GET /attachments/{gid}, want 1", n)
	}
	// A link listed over a minute ago is not tried.
	if err := tr.ReadItems(c, &e1); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if n := open(); n != 1 {
		t.Errorf("a stale listed link: %d × GET /attachments/{gid}, want 1", n)
	}
	e.requireValidated(t)
}
