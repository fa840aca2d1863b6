package store

import (
	"errors"
	"testing"
	"time"
)

func TestWebhooks(t *testing.T) { onEngines(t, testWebhooks) }

func testWebhooks(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, w := range []Webhook{
		{Project: "p2", Token: "t2", TrackerID: "g2", Secret: []byte{0, 1, 2}, CreatedAt: at},
		{Project: "p1", Token: "t1", TrackerID: "g1", Secret: []byte("sealed"), CreatedAt: at},
		// Replaces p1's.
		{Project: "p1", Token: "t1b", TrackerID: "g1b", Secret: []byte("sealed again"), CreatedAt: at.Add(time.Hour)},
	} {
		if err := s.PutWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	hooks, err := s.Webhooks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 2 || hooks[0].Project != "p1" || hooks[0].Token != "t1b" || string(hooks[0].Secret) != "sealed again" ||
		!hooks[0].CreatedAt.Equal(at.Add(time.Hour)) || hooks[1].Project != "p2" || string(hooks[1].Secret) != "\x00\x01\x02" {
		t.Fatalf("webhooks: %+v", hooks)
	}
	if err := s.DeleteWebhook(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhook(ctx, "none"); err != nil {
		t.Fatalf("deleting no webhook: %v", err)
	}
	if hooks, err = s.Webhooks(ctx); err != nil || len(hooks) != 1 || hooks[0].Project != "p2" {
		t.Fatalf("after delete: %+v, %v", hooks, err)
	}
}

func TestPendingWebhooks(t *testing.T) { onEngines(t, testPendingWebhooks) }

// testPendingWebhooks: a handshake is taken once, only for a token being
// established; the subscriber reads its secret; stale rows go.
func testPendingWebhooks(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if err := s.BeginWebhook(ctx, "old", "p0", at, at); err != nil {
		t.Fatal(err)
	}
	if err := s.BeginWebhook(ctx, "t1", "p1", at.Add(time.Hour), at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PendingWebhook(ctx, "t1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the secret before the handshake: %v, want ErrNotFound", err)
	}
	for _, tc := range []struct {
		token, secret string
		want          bool
	}{
		{"old", "s0", false}, // deleted as stale by the second BeginWebhook
		{"made-up", "s", false},
		{"t1", "sealed", true},
		{"t1", "again", false},
	} {
		if got, err := s.WebhookHandshake(ctx, tc.token, []byte(tc.secret)); err != nil || got != tc.want {
			t.Errorf("handshake %s/%s: %v, %v; want %v", tc.token, tc.secret, got, err, tc.want)
		}
	}
	if p, got, err := s.PendingWebhook(ctx, "t1"); err != nil || p != "p1" || string(got) != "sealed" {
		t.Fatalf("the secret after the handshake: %q, %q, %v", p, got, err)
	}
	if err := s.EndWebhook(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if err := s.EndWebhook(ctx, "t1"); err != nil {
		t.Fatalf("ending it twice: %v", err)
	}
	if _, _, err := s.PendingWebhook(ctx, "t1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the secret after the end: %v, want ErrNotFound", err)
	}
}
