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
