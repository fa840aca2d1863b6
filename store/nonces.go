package store

import (
	"context"
	"database/sql"
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
func (s *Store) SeenNonce(ctx context.Context, connID, nonce string, expires time.Time) (bool, error) {
	now := formatTime(time.Now())
	var fresh bool
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM nonces WHERE rowid IN (
			SELECT rowid FROM nonces WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
			now, noncePurgeBatch); err != nil {
			return fmt.Errorf("purge expired nonces: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO nonces (connection_id, nonce, expires_at)
			VALUES (?, ?, ?)
			ON CONFLICT (connection_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
			WHERE nonces.expires_at <= ?`,
			connID, nonce, formatTime(expires), now)
		if isForeignKey(err) {
			return fmt.Errorf("connection: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		fresh = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record nonce for connection %s: %w", connID, err)
	}
	return fresh, nil
}
