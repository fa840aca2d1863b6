package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/store/pgtest"
)

// TestStoreFailureIsNotABadSignature: when the receiving node can't record
// a signed request's nonce (its disk is full), it answers 503 saying so,
// the sender logs that, not "not signed by this connection", and the sync
// goes through once the store works again.
func TestStoreFailureIsNotABadSignature(t *testing.T) {
	a := startNode(t, "Acme", &clock{})
	ctx := ctxFor(t)
	c, err := a.Connect(ctx, engine.ConnectRequest{To: a.url, Project: "Company", DestProject: "Test"})
	if err != nil {
		t.Fatal(err)
	}
	// The store fails every nonce it is asked to record, as a full disk
	// would; everything else still works. A trigger in each engine's SQL.
	fail, fixed := []string{`CREATE TRIGGER full_disk BEFORE INSERT ON nonces BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`},
		[]string{`DROP TRIGGER full_disk`}
	if pgtest.NodesOnPostgres() {
		fail = []string{`CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$`,
			`CREATE TRIGGER full_disk BEFORE INSERT ON nonces FOR EACH ROW EXECUTE FUNCTION full_disk()`}
		fixed = []string{`DROP TRIGGER full_disk ON nonces`}
	}
	for _, q := range fail {
		if _, err := a.Store().DB().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	src := firstTask(t, a, c.LocalProject)
	if _, err := a.Exalate(ctx, c.ID, src.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the sender logs the receiver's store failure", func() bool {
		return strings.Contains(a.log.String(), "this node can't record the request")
	})
	for line := range strings.Lines(a.log.String()) {
		if strings.Contains(line, "sync step failed") {
			t.Logf("the sender's log: %s", strings.TrimSpace(line))
			break
		}
	}
	if n := refusedCount(t, a.url, "store_failed"); n == 0 {
		t.Error("no store_failed refusal counted")
	}
	if n := refusedCount(t, a.url, "bad_signature"); n != 0 {
		t.Errorf("%d requests counted as badly signed", n)
	}
	if strings.Contains(a.log.String(), "not signed by this connection") {
		t.Error("a store failure was reported as a bad signature")
	}

	for _, q := range fixed {
		if _, err := a.Store().DB().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	waitSynchronized(t, a, src.ID)
	t.Logf("synchronized %v after the store was fixed", time.Since(start).Round(time.Millisecond))
}

// TestUnrecordedCommentsAreNotDoubled: an apply writes a replica's comments
// and records them in one commit after the last (commentWriter). When that
// record fails, as a full disk or a crash before the commit would leave it,
// the comments are in the tracker and not in the store: the retry finds
// them by their pending writes and adopts them, and the twin ends with each
// comment once.
func TestUnrecordedCommentsAreNotDoubled(t *testing.T) {
	a, b, connA, connB := connectedAcmeWith(t)
	ctx := ctxFor(t)
	var src engine.Entity
	ids, _ := a.et().List(ctx, connA.LocalProject)
	for _, id := range ids {
		if e, _ := a.et().Get(ctx, id); len(e.Comments) > 1 {
			src = e
			break
		}
	}
	if src.ID == "" {
		t.Fatal("no seeded task with comments")
	}
	// Globex's store refuses every comment link, as a full disk would.
	if _, err := b.Store().DB().ExecContext(ctx,
		`CREATE TRIGGER full_disk BEFORE INSERT ON item_links WHEN NEW.kind = 'comment' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exalate(ctx, connA.ID, src.ID); err != nil {
		t.Fatal(err)
	}
	var twinID string
	eventually(t, "the comments written on Globex and their record failed", func() bool {
		if twinID == "" {
			b.Store().DB().QueryRow(`SELECT local_id FROM twins WHERE connection_id = ? AND remote_id = ?`, connB.ID, src.ID).Scan(&twinID)
			if twinID == "" {
				return false
			}
		}
		dst, err := b.et().Get(ctx, twinID)
		return err == nil && len(dst.Comments) >= len(src.Comments) && strings.Contains(b.log.String(), "database or disk is full")
	})
	if _, err := b.Store().DB().ExecContext(ctx, `DROP TRIGGER full_disk`); err != nil {
		t.Fatal(err)
	}
	waitSynchronized(t, a, src.ID)
	dst, err := b.et().Get(ctx, twinID)
	if err != nil {
		t.Fatal(err)
	}
	if len(dst.Comments) != len(src.Comments) {
		t.Errorf("Globex's twin has %d comments, want %d (each once)", len(dst.Comments), len(src.Comments))
	}
	var links int
	b.Store().DB().QueryRow(`SELECT count(*) FROM item_links WHERE connection_id = ? AND kind = 'comment' AND entity_id = ?`, connB.ID, twinID).Scan(&links)
	if links != len(src.Comments) {
		t.Errorf("%d comment links on Globex, want %d", links, len(src.Comments))
	}
	var pending int
	b.Store().DB().QueryRow(`SELECT count(*) FROM pending_writes WHERE connection_id = ?`, connB.ID).Scan(&pending)
	if pending != 0 {
		t.Errorf("%d pending writes left on Globex", pending)
	}
}
