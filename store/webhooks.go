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
