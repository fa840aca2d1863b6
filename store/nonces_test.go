package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/store/pgtest"
)

func TestSeenNonce(t *testing.T) { onEngines(t, testSeenNonce) }

func testSeenNonce(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	for _, id := range []string{"a", "b"} {
		if err := s.CreateConnection(ctx, nil, testConnection(id)); err != nil {
			t.Fatal(err)
		}
	}
	later := time.Now().Add(time.Hour)
	seen := func(conn, nonce string, expires time.Time, want bool) {
		t.Helper()
		fresh, err := s.SeenNonce(ctx, conn, nonce, expires)
		if err != nil {
			t.Fatalf("SeenNonce(%s, %s): %v", conn, nonce, err)
		}
		if fresh != want {
			t.Errorf("SeenNonce(%s, %s) fresh = %v, want %v", conn, nonce, fresh, want)
		}
	}
	seen("a", "n1", later, true)
	seen("a", "n1", later, false) // replay
	seen("b", "n1", later, true)  // nonces are per connection
	seen("a", "n2", later, true)

	if _, err := s.SeenNonce(ctx, "nope", "n1", later); !errors.Is(err, ErrNotFound) {
		t.Errorf("SeenNonce for unknown connection: err = %v, want ErrNotFound", err)
	}

	// An expired record no longer counts, and is purged.
	past := time.Now().Add(-time.Minute)
	seen("a", "old", past, true)
	seen("a", "old", later, true)
	seen("a", "old", later, false)
}

func TestSeenNoncePurgesExpired(t *testing.T) { onEngines(t, testSeenNoncePurgesExpired) }

func testSeenNoncePurgesExpired(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	if err := s.CreateConnection(ctx, nil, testConnection("a")); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Minute)
	const expired = noncePurgeBatch + 10
	for i := range expired {
		if _, err := s.SeenNonce(ctx, "a", fmt.Sprintf("old-%d", i), past); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		var n int
		if err := s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM nonces").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Each call purged what had expired before it, so only the last remains.
	if n := count(); n != 1 {
		t.Errorf("rows after %d expired inserts = %d, want 1", expired, n)
	}

	// A backlog larger than a batch is purged in bounded steps.
	if _, err := s.DB().ExecContext(ctx, `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM seq WHERE i < 150)
		INSERT INTO nonces (connection_id, nonce, expires_at) SELECT 'a', 'bulk-' || i, ? FROM seq`,
		formatTime(past)); err != nil {
		t.Fatal(err)
	}
	before := count()
	if _, err := s.SeenNonce(ctx, "a", "fresh-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, want := count(), before-noncePurgeBatch+1; got != want {
		t.Errorf("rows after one call = %d, want %d (one batch purged, one inserted)", got, want)
	}
}

// TestSeenNonceSkipsTheWriterLock: recording a peer request's nonce does
// not wait for the store's writer lock (one statement decides fresh or
// replay; a transaction around it cost three round trips more on
// PostgreSQL and queued every peer request behind the syncs' writes).
func TestSeenNonceSkipsTheWriterLock(t *testing.T) {
	if !pgtest.Available() {
		t.Skip(pgtest.SkipMessage)
	}
	t.Parallel()
	s := testEngines[1].open(t)
	ctx := t.Context()
	if err := s.CreateConnection(ctx, nil, testConnection("c")); err != nil {
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(ctx, func(*sql.Tx) error { close(held); <-release; return nil })
	}()
	<-held
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	fresh, err := s.SeenNonce(wait, "c", "n1", time.Now().Add(time.Minute))
	cancel()
	close(release)
	if err != nil {
		t.Fatalf("SeenNonce while another transaction held the writer lock: %v", err)
	}
	if !fresh {
		t.Error("a new nonce was not fresh")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fresh, err := s.SeenNonce(ctx, "c", "n1", time.Now().Add(time.Minute)); err != nil || fresh {
		t.Errorf("replayed nonce: fresh %v, err %v; want a replay", fresh, err)
	}
}
