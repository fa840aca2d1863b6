package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestNotifyReachesEveryListener: a notification sent in a transaction is
// heard by a listener on another store of the same database only when the
// transaction commits, in commit order; one rolled back is never heard;
// a listener whose connection the server cuts listens again (ready called
// again) and hears what is sent after. On SQLite Listen says ready once
// and returns, and Notify does nothing.
func TestNotifyReachesEveryListener(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		spec := e.spec(t)
		sender, receiver := e.openAt(t, spec), e.openAt(t, spec)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()

		notify := func(payload string, commit bool) {
			t.Helper()
			errRollback := errors.New("rolled back on purpose")
			err := sender.InTx(ctx, func(tx *sql.Tx) error {
				if err := sender.Notify(ctx, tx, "tandem_test", payload); err != nil {
					return err
				}
				if !commit {
					return errRollback
				}
				return nil
			})
			if commit && err != nil || !commit && !errors.Is(err, errRollback) {
				t.Fatalf("notify %q: %v", payload, err)
			}
		}

		if !sender.Shared() {
			readies := 0
			err := receiver.Listen(ctx, "tandem_test", func() { readies++ }, func(n Notification) {
				t.Errorf("heard %+v on SQLite", n)
			})
			if err != nil || readies != 1 {
				t.Fatalf("Listen on SQLite = %v after %d readies; want nil after 1", err, readies)
			}
			notify("nothing", true)
			return
		}

		ready := make(chan struct{}, 4)
		heard := make(chan Notification, 16)
		done := make(chan error, 1)
		go func() {
			done <- receiver.Listen(ctx, "tandem_test", func() { ready <- struct{}{} }, func(n Notification) { heard <- n })
		}()
		waitFor(t, ready, "the listener to be ready")

		notify("one", true)
		notify("never", false)
		notify("two", true)
		for _, want := range []string{"one", "two"} {
			n := waitFor(t, heard, "notification "+want)
			if n.Channel != "tandem_test" || n.Payload != want {
				t.Fatalf("heard %+v, want %q on tandem_test", n, want)
			}
		}

		// The server ends the listener's session: it listens again.
		if _, err := sender.db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ready, "the listener to listen again")
		notify("three", true)
		if n := waitFor(t, heard, "notification three"); n.Payload != "three" {
			t.Fatalf("after reconnecting heard %+v, want three", n)
		}

		err := sender.InTx(ctx, func(tx *sql.Tx) error {
			return sender.Notify(ctx, tx, "tandem_test", strings.Repeat("x", MaxNotifyPayload+1))
		})
		if !errors.Is(err, ErrPayloadTooLong) {
			t.Fatalf("an over-long payload: %v, want ErrPayloadTooLong", err)
		}

		cancel()
		if err := waitFor(t, done, "Listen to return"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Listen returned %v after its context ended, want context.Canceled", err)
		}
	})
}

// waitFor returns the next value on ch, failing the test after 10 s.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}
