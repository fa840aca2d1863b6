package asana_test

import (
	"bytes"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
)

func TestEventsResetThenIncremental(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	test := e.project(t, "Test")

	// First call: no token → 412, which the client turns into a Reset page.
	first, err := e.client.Events(c, test.GID, "")
	if err != nil {
		t.Fatal(err)
	}
	if !first.Reset || first.Sync == "" || len(first.Events) != 0 {
		t.Fatalf("first call = %+v, want Reset with a new token and no events", first)
	}
	start := time.Now().Add(-time.Second)

	task, err := e.client.CreateTask(c, asana.NewTask{Project: test.GID, Name: "watch me"})
	if err != nil {
		t.Fatal(err)
	}
	name := "watch me (renamed)"
	if _, err := e.client.UpdateTask(c, task.GID, asana.TaskUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	story, err := e.client.AddComment(c, task.GID, "<body>hello</body>")
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("tiny file")
	att, err := e.client.UploadAttachment(c, asana.Upload{Parent: task.GID, Name: "tiny.txt", Size: int64(len(data)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
	if err != nil {
		t.Fatal(err)
	}

	page, err := e.client.Events(c, test.GID, first.Sync)
	if err != nil {
		t.Fatal(err)
	}
	if page.Reset || page.Sync == "" || page.Sync == first.Sync {
		t.Fatalf("incremental call = %+v, want events and a fresh token", page)
	}
	want := []struct{ action, gid string }{
		{"added", task.GID}, {"changed", task.GID}, {"added", story.GID}, {"added", att.GID},
	}
	for _, w := range want {
		i := slices.IndexFunc(page.Events, func(ev asana.Event) bool { return ev.Action == w.action && ev.Resource.GID == w.gid })
		if i < 0 {
			t.Errorf("no %s event for %s in %+v", w.action, w.gid, page.Events)
			continue
		}
		ev := page.Events[i]
		if ev.CreatedAt.Before(start) {
			t.Errorf("event %+v has created_at %v before the test began", ev, ev.CreatedAt)
		}
		if ev.Action == "changed" && (ev.Change == nil || ev.Change.Field != "name") {
			t.Errorf("rename event %+v lacks change.field name", ev)
		}
		if w.gid != task.GID && (ev.Parent == nil || ev.Parent.GID != task.GID) {
			t.Errorf("event %+v should name the task as its parent", ev)
		}
	}

	// Nothing new: an empty page and yet another usable token.
	again, err := e.client.Events(c, test.GID, page.Sync)
	if err != nil {
		t.Fatal(err)
	}
	if again.Reset || len(again.Events) != 0 || again.HasMore {
		t.Errorf("quiet call = %+v, want no events", again)
	}

	// A token the server doesn't know (expired, or from another server).
	expired, err := e.client.Events(c, test.GID, "0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	if !expired.Reset || expired.Sync == "" {
		t.Errorf("unknown token = %+v, want Reset with a new token", expired)
	}

	// After a Reset the caller reconciles with modified_since.
	changed, err := e.client.ProjectTasks(c, test.GID, asana.TaskQuery{ModifiedSince: start})
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0].GID != task.GID {
		t.Errorf("modified since the start: %+v, want only %s", changed, task.GID)
	}
	e.requireValidated(t)
}

func TestEventsHasMore(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	test := e.project(t, "Test")
	first, err := e.client.Events(c, test.GID, "")
	if err != nil {
		t.Fatal(err)
	}
	const n = 130
	for i := range n {
		name := "n" + string(rune('a'+i%26))
		if _, err := e.client.CreateTask(c, asana.NewTask{Project: test.GID, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	var total, calls int
	token := first.Sync
	for {
		page, err := e.client.Events(c, test.GID, token)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		if len(page.Events) > 100 {
			t.Fatalf("one call returned %d events, Asana's cap is 100", len(page.Events))
		}
		for _, ev := range page.Events {
			if ev.Action == "added" && ev.Resource.ResourceType == "task" {
				total++
			}
		}
		token = page.Sync
		if !page.HasMore {
			break
		}
	}
	if total != n || calls < 2 {
		t.Errorf("drained %d task-added events in %d calls, want %d in 2 or more", total, calls, n)
	}
	e.requireValidated(t)
}
