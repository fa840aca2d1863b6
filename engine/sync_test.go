package engine_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

// connected starts two nodes and connects Acme's Company project with
// Globex's Test project by invitation.
func connected(t *testing.T) (a, b *testNode, connA, connB engine.Connection) {
	t.Helper()
	a, b = startNode(t, "Acme", &clock{}), startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if connB, err = b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	return a, b, connA, connB
}

// waitStages waits for a sync to reach Synchronized and returns every
// stage event it saw, failing on a deadline instead of sleeping.
func waitStages(t *testing.T, events <-chan engine.StageEvent, eventID string) []engine.StageEvent {
	t.Helper()
	var seen []engine.StageEvent
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.EventID != eventID {
				continue
			}
			seen = append(seen, ev)
			if ev.Stage == engine.StageSynchronized && ev.Direction == "out" {
				return seen
			}
		case <-deadline:
			t.Fatalf("sync %s did not reach Synchronized; saw %+v", eventID, seen)
		}
	}
}

// exalate syncs ref from n and waits until it is Synchronized.
func exalate(t *testing.T, n *testNode, ref string) engine.StageEvent {
	t.Helper()
	events, stop := n.Subscribe()
	defer stop()
	first, err := n.Exalate(ctxFor(t), "", ref)
	if err != nil {
		t.Fatal(err)
	}
	seen := waitStages(t, events, first.EventID)
	var stages []string
	for _, ev := range seen {
		stages = append(stages, ev.Stage)
	}
	// Stage events arrive in order, each once, ending at Synchronized.
	if want := engine.Stages(); !slices.Equal(stages, want) {
		t.Errorf("stage events: %v, want %v", stages, want)
	}
	return seen[len(seen)-1]
}

func TestExalateCopiesEverythingOnce(t *testing.T) {
	a, b, connA, _ := connected(t)
	ctx := ctxFor(t)
	et := a.et()
	// The seeded Company task with the most comments and an attachment.
	ids, err := et.List(ctx, connA.LocalProject)
	if err != nil {
		t.Fatal(err)
	}
	var src engine.Entity
	for _, id := range ids {
		e, err := et.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Attachments) > 0 && len(e.Comments) > len(src.Comments) {
			src = e
		}
	}
	if src.ID == "" {
		t.Fatal("no seeded task with comments and attachments")
	}

	done := exalate(t, a, src.URL)
	if done.RemoteKey == "" || done.RemoteURL == "" || done.LocalURL != src.URL {
		t.Errorf("the Synchronized event lacks both links: %+v", done)
	}
	st, err := a.Status(ctx, "", src.ID)
	if err != nil || st.Stage != engine.StageSynchronized || len(st.Stages) != 5 {
		t.Errorf("status: %+v, %v", st, err)
	}

	dst, err := b.et().Get(ctx, done.RemoteKey)
	if err != nil {
		t.Fatal(err)
	}
	if dst.Summary != src.Summary || dst.Description != src.Description || dst.Type != src.Type {
		t.Errorf("twin fields: %q %q %q, want %q %q %q", dst.Summary, dst.Type, dst.Description, src.Summary, src.Type, src.Description)
	}
	if len(dst.Comments) != len(src.Comments) {
		t.Fatalf("twin has %d comments, want %d", len(dst.Comments), len(src.Comments))
	}
	for i, c := range src.Comments {
		inner := strings.TrimSuffix(strings.TrimPrefix(c.Body, "<body>"), "</body>")
		if !strings.Contains(dst.Comments[i].Body, inner) || !strings.Contains(dst.Comments[i].Body, c.Author) ||
			!strings.Contains(dst.Comments[i].Body, "Acme") {
			t.Errorf("comment %d: %q, want %q by %s from Acme", i, dst.Comments[i].Body, c.Body, c.Author)
		}
	}
	if len(dst.Attachments) != len(src.Attachments) {
		t.Fatalf("twin has %d attachments, want %d", len(dst.Attachments), len(src.Attachments))
	}
	for i, att := range src.Attachments {
		if got, want := sum(t, b, dst.Attachments[i].ID), sum(t, a, att.ID); got != want || dst.Attachments[i].Name != att.Name {
			t.Errorf("attachment %q: bytes or name differ", att.Name)
		}
	}

	// Syncing again with no change sends nothing new and duplicates nothing.
	exalate(t, a, src.ID)
	again, _ := b.et().Get(ctx, done.RemoteKey)
	if len(again.Comments) != len(src.Comments) || len(again.Attachments) != len(src.Attachments) {
		t.Errorf("a second sync duplicated: %d comments, %d attachments", len(again.Comments), len(again.Attachments))
	}
}

func sum(t *testing.T, n *testNode, attachmentID string) [32]byte {
	t.Helper()
	rc, _, err := n.et().OpenAttachment(ctxFor(t), attachmentID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, rc); err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(buf.Bytes())
}
