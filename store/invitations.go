package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrInvitationUsed is returned when redeeming an invitation that was already
// redeemed by another acceptor or with another nonce.
var ErrInvitationUsed = errors.New("invitation already used")

// ErrInvitationExpired is returned when redeeming an invitation past its
// expiry.
var ErrInvitationExpired = errors.New("invitation expired")

// Invitation is the initiator's record of the code it issued for a pending
// connection. Only a hash of the code's secret is kept.
type Invitation struct {
	ConnectionID string
	SecretHash   []byte
	ExpiresAt    time.Time
	// RedeemedAt is zero until the invitation is redeemed.
	RedeemedAt time.Time
	// AcceptNonce and AcceptorInstanceID identify the redemption, so that
	// the same acceptor retrying it is told yes again.
	AcceptNonce        []byte
	AcceptorInstanceID string
}

// InvitationStore keeps invitations. Methods taking a *sql.Tx run in it, or in
// a transaction of their own when it is nil.
type InvitationStore interface {
	CreateInvitation(ctx context.Context, tx *sql.Tx, inv Invitation) error
	Invitation(ctx context.Context, connID string) (Invitation, error)
	RedeemInvitation(ctx context.Context, tx *sql.Tx, connID string, nonce []byte, acceptorInstanceID string, now time.Time) error
	RenewInvitation(ctx context.Context, tx *sql.Tx, connID string, secretHash []byte, expires time.Time) error
}

var _ InvitationStore = (*Store)(nil)

// CreateInvitation stores an unredeemed invitation for an existing connection
// in tx (nil: on its own). It returns ErrExists if the connection has one and
// ErrNotFound if the connection does not exist.
func (s *Store) CreateInvitation(ctx context.Context, tx *sql.Tx, inv Invitation) error {
	if len(inv.SecretHash) == 0 {
		return fmt.Errorf("create invitation for connection %s: empty secret hash", inv.ConnectionID)
	}
	if inv.ExpiresAt.IsZero() {
		return fmt.Errorf("create invitation for connection %s: no expiry", inv.ConnectionID)
	}
	err := s.inTx(ctx, tx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			"INSERT INTO invitations (connection_id, secret_hash, expires_at) VALUES (?, ?, ?)",
			inv.ConnectionID, inv.SecretHash, formatTime(inv.ExpiresAt))
		switch {
		case isDuplicate(err):
			return ErrExists
		case isForeignKey(err):
			return fmt.Errorf("connection: %w", ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create invitation for connection %s: %w", inv.ConnectionID, err)
	}
	return nil
}

// Invitation returns the invitation of a connection, or ErrNotFound.
func (s *Store) Invitation(ctx context.Context, connID string) (Invitation, error) {
	inv, err := readInvitation(ctx, s.db, connID)
	if err != nil {
		return Invitation{}, fmt.Errorf("invitation for connection %s: %w", connID, err)
	}
	return inv, nil
}

// RedeemInvitation marks the invitation redeemed by acceptorInstanceID with
// nonce at now, in tx (nil: on its own), after the engine has checked the
// secret. Any second redemption returns ErrInvitationUsed. An
// unredeemed invitation at or past its expiry returns ErrInvitationExpired.
func (s *Store) RedeemInvitation(ctx context.Context, tx *sql.Tx, connID string, nonce []byte, acceptorInstanceID string, now time.Time) error {
	if len(nonce) == 0 || acceptorInstanceID == "" {
		return fmt.Errorf("redeem invitation for connection %s: empty nonce or acceptor", connID)
	}
	// The read and the update share one BEGIN IMMEDIATE transaction, so no
	// other redemption can slip in between them.
	err := s.inTx(ctx, tx, func(tx *sql.Tx) error {
		inv, err := readInvitation(ctx, tx, connID)
		if err != nil {
			return err
		}
		// A second redemption is refused whoever sends it: the nonce and
		// the acceptor's instance id travel in the request, so matching them
		// would let anyone who saw it redeem again.
		if !inv.RedeemedAt.IsZero() {
			return ErrInvitationUsed
		}
		if !now.Before(inv.ExpiresAt) {
			return ErrInvitationExpired
		}
		return execOne(ctx, tx, `UPDATE invitations
			SET redeemed_at = ?, accept_nonce = ?, acceptor_instance_id = ?
			WHERE connection_id = ? AND redeemed_at IS NULL`,
			formatTime(now), nonce, acceptorInstanceID, connID)
	})
	if err != nil {
		return fmt.Errorf("redeem invitation for connection %s: %w", connID, err)
	}
	return nil
}

// RenewInvitation gives an unredeemed invitation a new secret (its hash)
// and expiry, in tx (nil: on its own): the code made with the old secret
// stops working, since only the one hash is kept. An invitation already
// redeemed returns ErrInvitationUsed, a connection without one ErrNotFound.
func (s *Store) RenewInvitation(ctx context.Context, tx *sql.Tx, connID string, secretHash []byte, expires time.Time) error {
	if len(secretHash) == 0 || expires.IsZero() {
		return fmt.Errorf("renew invitation for connection %s: empty secret hash or no expiry", connID)
	}
	err := s.inTx(ctx, tx, func(tx *sql.Tx) error {
		inv, err := readInvitation(ctx, tx, connID)
		if err != nil {
			return err
		}
		if !inv.RedeemedAt.IsZero() {
			return ErrInvitationUsed
		}
		return execOne(ctx, tx, `UPDATE invitations SET secret_hash = ?, expires_at = ?
			WHERE connection_id = ? AND redeemed_at IS NULL`, secretHash, formatTime(expires), connID)
	})
	if err != nil {
		return fmt.Errorf("renew invitation for connection %s: %w", connID, err)
	}
	return nil
}

// readInvitation reads an invitation through q (the pool or a transaction).
func readInvitation(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, connID string) (Invitation, error) {
	var (
		inv        Invitation
		expiresAt  string
		redeemedAt sql.NullString
	)
	err := q.QueryRowContext(ctx, `SELECT connection_id, secret_hash, expires_at, redeemed_at,
		accept_nonce, acceptor_instance_id FROM invitations WHERE connection_id = ?`, connID).
		Scan(&inv.ConnectionID, &inv.SecretHash, &expiresAt, &redeemedAt,
			&inv.AcceptNonce, &inv.AcceptorInstanceID)
	if errors.Is(err, sql.ErrNoRows) {
		return Invitation{}, ErrNotFound
	}
	if err != nil {
		return Invitation{}, err
	}
	if inv.ExpiresAt, err = parseTime(expiresAt); err != nil {
		return Invitation{}, err
	}
	if inv.RedeemedAt, err = parseTime(redeemedAt.String); err != nil {
		return Invitation{}, err
	}
	return inv, nil
}
