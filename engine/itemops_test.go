package engine_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

// pairFor starts Acme on Asana and Globex on p's tracker, connected by
// invitation.
func pairFor(t *testing.T, p trackerPair) (a, b *testNode, connA, connB engine.Connection) {
	t.Helper()
	a, b = startNode(t, "Acme", &clock{}), p.start(t, "Globex", &clock{})
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if connB, err = b.Accept(ctx, code, p.project); err != nil {
		t.Fatal(err)
	}
	return a, b, connA, connB
}

// dbCount runs a count query on a node's store.
func dbCount(t *testing.T, n *testNode, query string, args ...any) int {
	t.Helper()
	var c int
	if err := n.Store().DB().QueryRow(query, args...).Scan(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// detectRounds waits for two full rounds of change detection on every
// connection of n, each started after the call.
func detectRounds(t *testing.T, n *testNode) {
	t.Helper()
	cs, err := n.Connections(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		mark := time.Now()
		for range 2 {
			within(t, 30*time.Second, "a round of change detection", func() bool {
				_, checked, err := n.Store().DetectCursor(ctxFor(t), c.ID)
				if err == nil && checked.After(mark) {
					mark = checked
					return true
				}
				return false
			})
		}
	}
}

// TestUnexalateOverTrackerPairs: unexalate removes the pair's links on
// both nodes and deletes nothing; later edits on either side don't sync;
// an explicit exalate makes a fresh pair.
func TestUnexalateOverTrackerPairs(t *testing.T) {
	for _, p := range trackerPairs() {
		t.Run(p.name, func(t *testing.T) {
			a, b, connA, connB := pairFor(t, p)
			ctx := ctxFor(t)
			src, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "Pair to part"})
			if err != nil {
				t.Fatal(err)
			}
			userComment(t, a.et(), src.ID, "words before parting")
			attach(t, a, src.ID, "part.txt", []byte("parting notes\n"))
			done := exalate(t, a, src.URL)
			settledWithoutEcho(t, a, b)
			twin := read(t, b, done.RemoteKey)

			// Unexalate from Globex, naming Acme's task: either side's
			// reference does.
			res, err := b.Unexalate(ctx, "", twin.Key)
			if err != nil {
				t.Fatal(err)
			}
			if res.LocalKey != twin.Key || res.RemoteKey != src.Key {
				t.Errorf("unexalate answered %+v, want the pair %s ↔ %s", res, twin.Key, src.Key)
			}
			for _, n := range []*testNode{a, b} {
				if got := dbCount(t, n, `SELECT count(*) FROM twins`); got != 0 {
					t.Errorf("%s keeps %d twins after unexalate", n.Info().Name, got)
				}
				if got := dbCount(t, n, `SELECT count(*) FROM item_links`); got != 0 {
					t.Errorf("%s keeps %d comment or attachment links after unexalate", n.Info().Name, got)
				}
			}
			// Nothing deleted in either tracker.
			onA, onB := read(t, a, src.ID), read(t, b, twin.ID)
			if onA.Deleted || onB.Deleted || len(onA.Comments) != 1 || len(onB.Comments) != 1 || len(onB.Attachments) != 1 {
				t.Errorf("after unexalate: Acme %+v, Globex %+v; want both items with their comment and file", onA, onB)
			}
			if _, err := b.Unexalate(ctx, "", twin.Key); !errors.Is(err, engine.ErrNotFound) {
				t.Errorf("a second unexalate: %v, want not found (no twin)", err)
			}

			// Edits on both sides stay where they are made.
			sentA, sentB := sent(t, a), sent(t, b)
			renamedA, renamedB := "Pair to part (Acme's)", "Pair to part (Globex's)"
			if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &renamedA}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.et().Update(ctx, twin.ID, engine.EntityUpdate{Summary: &renamedB}); err != nil {
				t.Fatal(err)
			}
			// With new items synced automatically, too: the mark, not the
			// trigger, keeps them apart.
			if _, err := a.SetTrigger(ctx, connA.ID, true); err != nil {
				t.Fatal(err)
			}
			if _, err := b.SetTrigger(ctx, connB.ID, true); err != nil {
				t.Fatal(err)
			}
			detectRounds(t, a)
			detectRounds(t, b)
			if sent(t, a) != sentA || sent(t, b) != sentB {
				t.Errorf("edits after unexalate were synced: Acme sent %d, Globex %d", sent(t, a)-sentA, sent(t, b)-sentB)
			}
			if read(t, b, twin.ID).Summary != renamedB || read(t, a, src.ID).Summary != renamedA {
				t.Error("an edit after unexalate reached the other side")
			}
			h, err := a.ItemHistory(ctx, "", src.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if h.UnexalatedAt.IsZero() || h.UnexalatedTwin != twin.Key || h.RemoteKey != "" || len(h.Syncs) != 1 {
				t.Errorf("Acme's history after unexalate: %+v", h)
			}

			// An explicit exalate makes a fresh pair.
			again := exalate(t, a, src.URL)
			if again.RemoteKey == "" || again.RemoteKey == twin.Key {
				t.Errorf("exalate after unexalate went to %q, want a new twin (not %s)", again.RemoteKey, twin.Key)
			}
			if got := read(t, b, again.RemoteKey).Summary; got != renamedA {
				t.Errorf("the fresh twin is %q, want %q", got, renamedA)
			}
			if onB := read(t, b, twin.ID); onB.Summary != renamedB || onB.Deleted {
				t.Errorf("the old twin changed: %+v", onB)
			}
			h, err = a.ItemHistory(ctx, "", src.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !h.UnexalatedAt.IsZero() || h.RemoteKey != again.RemoteKey || len(h.Syncs) != 2 {
				t.Errorf("Acme's history after the fresh exalate: %+v", h)
			}
			for _, s := range h.Syncs {
				if s.RulesVersion != "basic" || len(s.Stages) != len(engine.Stages()) {
					t.Errorf("sync %s: rules %q, %d stages; want basic and all five", s.EventID, s.RulesVersion, len(s.Stages))
				}
			}
			settledWithoutEcho(t, a, b)
		})
	}
}

// TestLinkItemsOverTrackerPairs: two items made on each side separately
// become twins; the comments and file both have are linked, not copied;
// the winner's fields win; later edits sync both ways; a twin already
// linked is refused.
func TestLinkItemsOverTrackerPairs(t *testing.T) {
	for _, p := range trackerPairs() {
		t.Run(p.name, func(t *testing.T) {
			a, b, connA, connB := pairFor(t, p)
			ctx := ctxFor(t)
			file := bytes.Repeat([]byte("shared spec\n"), 100)
			onA, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "Acme's name for it",
				Description: "<body>words of Acme</body>"})
			if err != nil {
				t.Fatal(err)
			}
			userComment(t, a.et(), onA.ID, "said on both sides")
			userComment(t, a.et(), onA.ID, "only on Acme")
			attach(t, a, onA.ID, "spec.txt", file)
			onB, err := b.et().Create(ctx, engine.NewEntity{Project: connB.LocalProject, Summary: "Globex's name for it",
				Description: "<body>words of Globex</body>"})
			if err != nil {
				t.Fatal(err)
			}
			userComment(t, b.et(), onB.ID, "said on both sides")
			userComment(t, b.et(), onB.ID, "only on Globex")
			attach(t, b, onB.ID, "spec.txt", file)

			res, err := a.LinkItems(ctx, adminapi.LinkRequest{Ref: onA.ID, RemoteRef: onB.Key, Winner: adminapi.WinnerRemote})
			if err != nil {
				t.Fatal(err)
			}
			if res.MatchedComments != 1 || res.MatchedAttachments != 1 || res.RemoteKey != onB.Key {
				t.Errorf("link answered %+v, want %s with 1 comment and 1 file matched", res, onB.Key)
			}
			within(t, 30*time.Second, "Globex's fields and both sides' comments", func() bool {
				eA, eB := read(t, a, onA.ID), read(t, b, onB.ID)
				return eA.Summary == "Globex's name for it" && strings.Contains(eA.Description, "words of Globex") &&
					commentsWith(eA, "only on Globex") == 1 && commentsWith(eB, "only on Acme") == 1
			})
			settledWithoutEcho(t, a, b)
			eA, eB := read(t, a, onA.ID), read(t, b, onB.ID)
			if eB.Summary != "Globex's name for it" || !strings.Contains(eB.Description, "words of Globex") {
				t.Errorf("the winner's item changed: %q %q", eB.Summary, eB.Description)
			}
			for _, e := range []engine.Entity{eA, eB} {
				if len(e.Comments) != 3 || commentsWith(e, "said on both sides") != 1 || len(e.Attachments) != 1 {
					t.Errorf("%s: %d comments (%d shared), %d files; want 3 comments, the shared one once, and 1 file",
						e.Key, len(e.Comments), commentsWith(e, "said on both sides"), len(e.Attachments))
				}
			}

			// Later edits sync both ways.
			renamed := "renamed on Acme after the link"
			if _, err := a.et().Update(ctx, onA.ID, engine.EntityUpdate{Summary: &renamed}); err != nil {
				t.Fatal(err)
			}
			userComment(t, b.et(), onB.ID, "a word from Globex after the link")
			within(t, 30*time.Second, "edits after the link, both ways", func() bool {
				return read(t, b, onB.ID).Summary == renamed && commentsWith(read(t, a, onA.ID), "a word from Globex after the link") == 1
			})
			settledWithoutEcho(t, a, b)

			// A twin already linked is refused, by the peer.
			other, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "a latecomer"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.LinkItems(ctx, adminapi.LinkRequest{Ref: other.ID, RemoteRef: onB.Key})
			if !errors.Is(err, engine.ErrConflict) || !strings.Contains(err.Error(), "already the twin") {
				t.Errorf("linking to a twinned item: %v, want a conflict saying it is a twin already", err)
			}
			if got := dbCount(t, a, `SELECT count(*) FROM twins WHERE local_id = ?`, other.ID); got != 0 {
				t.Errorf("the refused link left %d twins on Acme", got)
			}
			// And so is an item here that has a twin.
			if _, err := a.LinkItems(ctx, adminapi.LinkRequest{Ref: onA.ID, RemoteRef: onB.Key}); !errors.Is(err, engine.ErrConflict) {
				t.Errorf("linking an item that has a twin: %v, want a conflict", err)
			}
		})
	}
}

// TestUnexalateOnALocalConnection: both ends of a local connection are one
// node, which agrees with itself over its own peer API without waiting on
// itself; then the pair is linked again from the other end.
func TestUnexalateOnALocalConnection(t *testing.T) {
	a := startNode(t, "Acme", &clock{})
	ctx := ctxFor(t)
	c, err := a.Connect(ctx, engine.ConnectRequest{To: a.url, Project: "Company", DestProject: "Test"})
	if err != nil {
		t.Fatal(err)
	}
	src, err := a.et().Create(ctx, engine.NewEntity{Project: c.LocalProject, Summary: "one node, two projects"})
	if err != nil {
		t.Fatal(err)
	}
	done, err := a.Exalate(ctx, c.ID, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	var twin string
	within(t, 30*time.Second, "the local sync", func() bool {
		st, err := a.EventStatus(ctx, c.ID, done.EventID)
		twin = st.RemoteKey
		return err == nil && st.Stage == engine.StageSynchronized
	})
	settledWithoutEcho(t, a)
	if _, err := a.Unexalate(ctx, c.ID, src.ID); err != nil {
		t.Fatal(err)
	}
	if got := dbCount(t, a, `SELECT count(*) FROM twins`); got != 0 {
		t.Errorf("%d twins left on the node after unexalate", got)
	}
	// Linked again from the other end, by the twin's reference.
	cs, err := a.Connections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := cs[0].ID
	if other == c.ID {
		other = cs[1].ID
	}
	res, err := a.LinkItems(ctx, adminapi.LinkRequest{Ref: twin, RemoteRef: src.ID, Connection: other})
	if err != nil {
		t.Fatal(err)
	}
	if res.RemoteKey != src.Key {
		t.Errorf("linked to %s, want %s", res.RemoteKey, src.Key)
	}
	if got := dbCount(t, a, `SELECT count(*) FROM twins`); got != 2 {
		t.Errorf("%d twins after the link, want one per end", got)
	}
	settledWithoutEcho(t, a)
}

// TestUnexalateRefusedWhilePeerDown: with the other node down, unexalate
// changes nothing on either side, says so in one line, and
// keeps the pair whole, as it was.
func TestUnexalateRefusedWhilePeerDown(t *testing.T) {
	a, b, connA, _ := connected(t)
	ctx := ctxFor(t)
	src, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "kept while Globex is down"})
	if err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a, src.ID)
	settledWithoutEcho(t, a, b)
	b.stop()
	_, err = a.Unexalate(ctx, "", src.ID)
	if !errors.Is(err, engine.ErrUnreachable) || !strings.Contains(err.Error(), "nothing was changed on either side") ||
		strings.Contains(err.Error(), "\n") {
		t.Errorf("unexalate with Globex down: %v, want one line saying Globex can't be reached and nothing changed", err)
	}
	if h, err := a.ItemHistory(ctx, "", src.ID, 0); err != nil || h.RemoteKey != done.RemoteKey || !h.UnexalatedAt.IsZero() {
		t.Errorf("after the refusal Acme's pair is %+v (%v), want it linked as before", h, err)
	}
}
