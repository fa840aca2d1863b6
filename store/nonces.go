package store

import (
	"context"
	"fmt"
	"time"
)

// noncePurgeBatch bounds how many expired nonces one SeenNonce call deletes.
// Each call inserts at most one row and deletes up to this many, so the table
// cannot outgrow the live window, while no call pays for a large backlog.
const noncePurgeBatch = 64

// NonceStore remembers the nonces of signed peer requests to refuse replays.
type NonceStore interface {
	SeenNonce(ctx context.Context, connID, nonce string, expires time.Time) (fresh bool, err error)
}

var _ NonceStore = (*Store)(nil)

// SeenNonce records nonce for the connection until expires and reports whether
// it was fresh: false means the request is a replay. A nonce whose earlier
// record has expired counts as fresh again, consistent with the purge (the
// request's timestamp check is what refuses old requests). It returns
// ErrNotFound for an unknown connection.
//
// Its two statements run on their own, outside InTx: each is atomic by
// itself (the insert's conflict clause decides fresh or replay in one
// statement, on both engines), and nothing is read in between, so the
// writer lock and its transaction (BEGIN, the lock, COMMIT: three more
// round trips on PostgreSQL, for every peer request) guarded nothing. The
// purge's expires_at test is repeated outside its subquery for
// PostgreSQL's read committed: a row renewed by a concurrent insert after
// the subquery chose it is checked again and kept.
func (s *Store) SeenNonce(ctx context.Context, connID, nonce string, expires time.Time) (bool, error) {
	now := formatTime(time.Now())
	if _, err := s.db.ExecContext(ctx, `DELETE FROM nonces WHERE expires_at <= ? AND rowid IN (
		SELECT rowid FROM nonces WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
		now, now, noncePurgeBatch); err != nil {
		return false, fmt.Errorf("record nonce for connection %s: purge expired nonces: %w", connID, err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO nonces (connection_id, nonce, expires_at)
		VALUES (?, ?, ?)
		ON CONFLICT (connection_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
		WHERE nonces.expires_at <= ?`,
		connID, nonce, formatTime(expires), now)
	if isForeignKey(err) {
		err = fmt.Errorf("connection: %w", ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("record nonce for connection %s: %w", connID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record nonce for connection %s: %w", connID, err)
	}
	return n == 1, nil
}
