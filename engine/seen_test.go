package engine_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

// TestEditRightAfterIncomingWriteSyncsBack: a change made on the
// receiving side while (or right after) a sync writes the twin there, by
// the very account the node writes with, still goes back. Change
// detection drops the events of the node's own writes without reading the
// twin (their times are the ones its writes returned); a user's change
// has another time, so the twin is read and the change syncs.
func TestEditRightAfterIncomingWriteSyncsBack(t *testing.T) {
	a, b, connA, connB := connectedPair(t, startNode, "Company")
	ctx := ctxFor(t)
	src, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "Order the parts"})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"<body>one</body>", "<body>two</body>", "<body>three</body>"} {
		if _, err := a.et().AddComment(ctx, src.ID, body); err != nil {
			t.Fatal(err)
		}
	}
	attach(t, a, src.ID, "parts.csv", bytes.Repeat([]byte("bolt,4\n"), 1000))
	if _, err := a.Exalate(ctx, connA.ID, src.URL); err != nil {
		t.Fatal(err)
	}
	// As soon as the twin exists on Globex (its comments and file may
	// still be on their way), a user edits it and comments.
	var twinID string
	within(t, 30*time.Second, "the twin on Globex", func() bool {
		err := b.Store().DB().QueryRow(`SELECT local_id FROM twins WHERE connection_id = ? AND remote_id = ?`, connB.ID, src.ID).Scan(&twinID)
		return err == nil
	})
	edited := "Order the parts (and the spares)"
	if _, err := b.et().Update(ctx, twinID, engine.EntityUpdate{Summary: &edited}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.et().AddComment(ctx, twinID, "<body>spares too</body>"); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "Globex's edit and comment on Acme", func() bool {
		e := read(t, a, src.ID)
		return e.Summary == edited && commentsWith(e, "spares too") == 1
	})
	settledWithoutEcho(t, a, b)
	eA, eB := read(t, a, src.ID), read(t, b, twinID)
	if len(eA.Comments) != 4 || len(eB.Comments) != 4 || len(eA.Attachments) != 1 || len(eB.Attachments) != 1 {
		t.Errorf("Acme %d comments %d files, Globex %d comments %d files; want 4 and 1 on both",
			len(eA.Comments), len(eA.Attachments), len(eB.Comments), len(eB.Attachments))
	}

	// And once all is quiet: a user's edit a moment after the node's
	// last write goes back too.
	again := "Order the parts today"
	if _, err := b.et().Update(ctx, twinID, engine.EntityUpdate{Summary: &again}); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "the second edit on Acme", func() bool { return read(t, a, src.ID).Summary == again })
	settledWithoutEcho(t, a, b)
}
