package store

import (
	"bytes"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// invitedConnection creates connection id and its invitation expiring at
// expires, atomically as the engine does.
func invitedConnection(t *testing.T, s *Store, id string, expires time.Time) {
	t.Helper()
	ctx := t.Context()
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.CreateConnection(ctx, tx, testConnection(id)); err != nil {
			return err
		}
		return s.CreateInvitation(ctx, tx, Invitation{
			ConnectionID: id, SecretHash: []byte("secret-hash-" + id), ExpiresAt: expires,
		})
	})
	if err != nil {
		t.Fatalf("invite %s: %v", id, err)
	}
}

func TestInvitationCreateAndRead(t *testing.T) { onEngines(t, testInvitationCreateAndRead) }

func testInvitationCreateAndRead(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	expires := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	invitedConnection(t, s, "a", expires)

	inv, err := s.Invitation(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if inv.ConnectionID != "a" || !bytes.Equal(inv.SecretHash, []byte("secret-hash-a")) ||
		!inv.ExpiresAt.Equal(expires) || !inv.RedeemedAt.IsZero() || inv.AcceptNonce != nil ||
		inv.AcceptorInstanceID != "" {
		t.Errorf("Invitation = %+v", inv)
	}
	if _, err := s.Invitation(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Invitation(nope): err = %v, want ErrNotFound", err)
	}
	err = s.CreateInvitation(ctx, nil, Invitation{ConnectionID: "a", SecretHash: []byte("x"), ExpiresAt: expires})
	if !errors.Is(err, ErrExists) {
		t.Errorf("second invitation: err = %v, want ErrExists", err)
	}
	err = s.CreateInvitation(ctx, nil, Invitation{ConnectionID: "nope", SecretHash: []byte("x"), ExpiresAt: expires})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("invitation for missing connection: err = %v, want ErrNotFound", err)
	}
}

func TestCreateInvitationRollsBackWithConnection(t *testing.T) {
	onEngines(t, testCreateInvitationRollsBackWithConnection)
}

func testCreateInvitationRollsBackWithConnection(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	// An invalid invitation must take its connection down with it.
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.CreateConnection(ctx, tx, testConnection("a")); err != nil {
			return err
		}
		return s.CreateInvitation(ctx, tx, Invitation{ConnectionID: "a"})
	})
	if err == nil {
		t.Fatal("invalid invitation accepted")
	}
	if _, err := s.Connection(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("connection survived the rollback: err = %v", err)
	}
}

func TestRedeemInvitation(t *testing.T) { onEngines(t, testRedeemInvitation) }

func testRedeemInvitation(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	invitedConnection(t, s, "a", now.Add(time.Hour))
	nonce := []byte("nonce-1")

	if err := s.RedeemInvitation(ctx, nil, "a", nonce, "acceptor-1", now); err != nil {
		t.Fatalf("first redeem: %v", err)
	}
	inv, err := s.Invitation(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !inv.RedeemedAt.Equal(now) || !bytes.Equal(inv.AcceptNonce, nonce) || inv.AcceptorInstanceID != "acceptor-1" {
		t.Errorf("after redeem Invitation = %+v", inv)
	}

	// A second redemption is refused, even one repeating the first exactly:
	// whoever saw the first request knows its nonce and acceptor.
	for name, try := range map[string]struct {
		nonce    []byte
		acceptor string
	}{
		"same nonce and acceptor": {nonce, "acceptor-1"},
		"other nonce":             {[]byte("nonce-2"), "acceptor-1"},
		"other acceptor":          {nonce, "acceptor-2"},
	} {
		err := s.RedeemInvitation(ctx, nil, "a", try.nonce, try.acceptor, now)
		if !errors.Is(err, ErrInvitationUsed) {
			t.Errorf("%s: err = %v, want ErrInvitationUsed", name, err)
		}
	}
	inv2, err := s.Invitation(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(inv2.AcceptNonce, nonce) || inv2.AcceptorInstanceID != "acceptor-1" || !inv2.RedeemedAt.Equal(now) {
		t.Errorf("refused redemptions changed the invitation: %+v", inv2)
	}

	if err := s.RedeemInvitation(ctx, nil, "nope", nonce, "acceptor-1", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("redeem missing: err = %v, want ErrNotFound", err)
	}
}

func TestRedeemInvitationExpired(t *testing.T) { onEngines(t, testRedeemInvitationExpired) }

func testRedeemInvitationExpired(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	expires := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	invitedConnection(t, s, "a", expires)

	for _, at := range []time.Time{expires, expires.Add(time.Nanosecond)} {
		err := s.RedeemInvitation(ctx, nil, "a", []byte("n"), "acceptor-1", at)
		if !errors.Is(err, ErrInvitationExpired) {
			t.Errorf("redeem at %v: err = %v, want ErrInvitationExpired", at, err)
		}
	}
	inv, err := s.Invitation(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !inv.RedeemedAt.IsZero() {
		t.Errorf("expired redemption was recorded: %+v", inv)
	}
	// Just before expiry still works.
	if err := s.RedeemInvitation(ctx, nil, "a", []byte("n"), "acceptor-1", expires.Add(-time.Nanosecond)); err != nil {
		t.Errorf("redeem just before expiry: %v", err)
	}
}

func TestRedeemInvitationInTxRollsBack(t *testing.T) { onEngines(t, testRedeemInvitationInTxRollsBack) }

func testRedeemInvitationInTxRollsBack(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	now := time.Now()
	invitedConnection(t, s, "a", now.Add(time.Hour))
	boom := errors.New("activation failed")
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.RedeemInvitation(ctx, tx, "a", []byte("n1"), "acc", now); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	// The rolled-back redemption left the invitation usable by anyone.
	if err := s.RedeemInvitation(ctx, nil, "a", []byte("n2"), "acc2", now); err != nil {
		t.Errorf("redeem after rollback: %v", err)
	}
}

// TestRenewInvitation checks that a renewed invitation keeps only the new
// secret's hash and expiry, and that a redeemed one can't be renewed.
func TestRenewInvitation(t *testing.T) { onEngines(t, testRenewInvitation) }

func testRenewInvitation(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	invitedConnection(t, s, "a", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	later := time.Date(2030, 1, 4, 0, 0, 0, 0, time.UTC)
	if err := s.RenewInvitation(ctx, nil, "a", []byte("new-hash"), later); err != nil {
		t.Fatal(err)
	}
	inv, err := s.Invitation(ctx, "a")
	if err != nil || !bytes.Equal(inv.SecretHash, []byte("new-hash")) || !inv.ExpiresAt.Equal(later) {
		t.Errorf("renewed: %+v (%v)", inv, err)
	}
	if err := s.RenewInvitation(ctx, nil, "nope", []byte("x"), later); !errors.Is(err, ErrNotFound) {
		t.Errorf("renewing a missing invitation: err = %v, want ErrNotFound", err)
	}
	if err := s.RedeemInvitation(ctx, nil, "a", []byte("nonce"), "acceptor", time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := s.RenewInvitation(ctx, nil, "a", []byte("again"), later); !errors.Is(err, ErrInvitationUsed) {
		t.Errorf("renewing a redeemed invitation: err = %v, want ErrInvitationUsed", err)
	}
}
