package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Webhook is a webhook subscription the node holds on its tracker for one
// project. Secret is sealed by the engine; the store never sees it open.
type Webhook struct {
	Project   string
	Token     string
	TrackerID string
	Secret    []byte
	CreatedAt time.Time
}

// Webhooks lists the node's webhook subscriptions.
func (s *Store) Webhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT project, token, tracker_id, secret, created_at FROM webhooks ORDER BY project`)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	var hooks []Webhook
	for rows.Next() {
		var w Webhook
		var at string
		if err := rows.Scan(&w.Project, &w.Token, &w.TrackerID, &w.Secret, &at); err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		if w.CreatedAt, err = parseTime(at); err != nil {
			return nil, err
		}
		hooks = append(hooks, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return hooks, nil
}

// WebhookByToken is the webhook whose delivery URL ends in token;
// ErrNotFound if there is none.
func (s *Store) WebhookByToken(ctx context.Context, token string) (Webhook, error) {
	var w Webhook
	var at string
	err := s.db.QueryRowContext(ctx, `SELECT project, token, tracker_id, secret, created_at FROM webhooks WHERE token = ?`, token).
		Scan(&w.Project, &w.Token, &w.TrackerID, &w.Secret, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return w, ErrNotFound
	}
	if err != nil {
		return w, fmt.Errorf("the webhook of a token: %w", err)
	}
	w.CreatedAt, err = parseTime(at)
	return w, err
}

// PutWebhook records a project's webhook, in place of any it had.
func (s *Store) PutWebhook(ctx context.Context, w Webhook) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO webhooks (project, token, tracker_id, secret, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (project) DO UPDATE SET token = excluded.token, tracker_id = excluded.tracker_id,
		secret = excluded.secret, created_at = excluded.created_at`,
		w.Project, w.Token, w.TrackerID, w.Secret, formatTime(w.CreatedAt))
	if err != nil {
		return fmt.Errorf("put the webhook of project %s: %w", w.Project, err)
	}
	return nil
}

// DeleteWebhook forgets a project's webhook; none is no error.
func (s *Store) DeleteWebhook(ctx context.Context, project string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM webhooks WHERE project = ?`, project); err != nil {
		return fmt.Errorf("delete the webhook of project %s: %w", project, err)
	}
	return nil
}

// A webhook being established (webhook_pending): the tracker's handshake
// may reach another replica than the one subscribing. The subscriber
// records the token first (BeginWebhook), the replica the handshake
// reaches stores its secret (WebhookHandshake), and the subscriber reads
// it when its subscribe call returns (PendingWebhook) and forgets
// the row (EndWebhook). Secrets are sealed by the engine.

// BeginWebhook records that the node is establishing a webhook on project
// with token, from at; rows begun before stale (left by a replica that
// died while subscribing) are deleted in the same transaction.
func (s *Store) BeginWebhook(ctx context.Context, token, project string, at, stale time.Time) error {
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_pending WHERE created_at < ?`, formatTime(stale)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO webhook_pending (token, project, created_at) VALUES (?, ?, ?)`,
			token, project, formatTime(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("record the webhook being established on project %s: %w", project, err)
	}
	return nil
}

// WebhookHandshake stores the handshake's sealed secret for token if a
// webhook is being established with it and no handshake came for it yet;
// it reports whether it did. A second handshake for one token is refused.
func (s *Store) WebhookHandshake(ctx context.Context, token string, sealed []byte) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE webhook_pending SET secret = ? WHERE token = ? AND secret IS NULL`, sealed, token)
	if err != nil {
		return false, fmt.Errorf("store a webhook handshake: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store a webhook handshake: %w", err)
	}
	return n == 1, nil
}

// PendingWebhook is the project and the sealed secret the handshake
// stored for token; ErrNotFound when no handshake came (or no webhook is
// being established with token).
func (s *Store) PendingWebhook(ctx context.Context, token string) (project string, sealed []byte, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT project, secret FROM webhook_pending WHERE token = ? AND secret IS NOT NULL`, token).
		Scan(&project, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, ErrNotFound
	}
	if err != nil {
		return "", nil, fmt.Errorf("read a webhook handshake: %w", err)
	}
	return project, sealed, nil
}

// EndWebhook forgets the webhook being established with token, whatever
// came of it; none is no error.
func (s *Store) EndWebhook(ctx context.Context, token string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM webhook_pending WHERE token = ?`, token); err != nil {
		return fmt.Errorf("forget a webhook being established: %w", err)
	}
	return nil
}
