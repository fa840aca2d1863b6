package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notifications between the processes sharing a database (PostgreSQL's
// NOTIFY and LISTEN). A replica tells the others something happened —
// a sync moved to a stage, a webhook delivery came in — by Notify in the
// transaction that records it, so the notification goes out only if that
// transaction commits, and in commit order; each replica hears it with
// Listen. On SQLite one process works the file: Notify does nothing, and
// Listen returns at once with nothing heard (the process already knows).
//
// A notification is a hint, not the record: its payload is small (the
// server refuses more than MaxNotifyPayload bytes), a listener whose
// connection drops misses what was sent meanwhile, and the row it points
// to is the truth. Listen says when it (re)starts listening (ready), so a
// caller can read again what it may have missed.

// MaxNotifyPayload is the longest payload Notify sends (PostgreSQL's own
// limit is 8000 bytes).
const MaxNotifyPayload = 7999

// ErrPayloadTooLong is returned by Notify for a payload over
// MaxNotifyPayload bytes.
var ErrPayloadTooLong = errors.New("notification payload too long")

// Notification is one notification heard by Listen.
type Notification struct {
	Channel string
	Payload string
}

// Notify sends payload on channel when tx commits (PostgreSQL); on SQLite
// it does nothing.
func (s *Store) Notify(ctx context.Context, tx *sql.Tx, channel, payload string) error {
	if !s.dialect.postgres() {
		return nil
	}
	if len(payload) > MaxNotifyPayload {
		return fmt.Errorf("notify %s: %w (%d bytes)", channel, ErrPayloadTooLong, len(payload))
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify(?, ?)`, channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// listenRetry is how long Listen waits before connecting again after its
// connection failed.
var listenRetry = 500 * time.Millisecond

// Listen calls heard with every notification sent on channel, by any
// process on the database (this one included), until ctx is done; it
// returns ctx's error then. It listens on a connection of its own and, when
// that connection fails, connects again; ready is called (if not nil) each
// time it has started listening, the first time and after each reconnect,
// before any notification sent after that moment is passed to heard.
// heard and ready run on Listen's goroutine: a slow heard holds up the
// notifications behind it (the server queues them).
//
// On SQLite there is nothing to hear: Listen calls ready once and returns
// nil at once.
func (s *Store) Listen(ctx context.Context, channel string, ready func(), heard func(Notification)) error {
	if !s.dialect.postgres() {
		if ready != nil {
			ready()
		}
		return nil
	}
	for {
		err := s.listenOnce(ctx, channel, ready, heard)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_ = err // the connection failed: connect again after a pause
		t := time.NewTimer(listenRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// listenOnce listens on one connection until it fails or ctx is done.
func (s *Store) listenOnce(ctx context.Context, channel string, ready func(), heard func(Notification)) error {
	pc, err := s.listener.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection is the listener's for as long as it listens: out of
	// the pool, closed when done (a connection LISTENing must not be
	// handed to anyone else).
	conn := pc.Hijack()
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	if ready != nil {
		ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		heard(Notification{Channel: n.Channel, Payload: n.Payload})
	}
}
