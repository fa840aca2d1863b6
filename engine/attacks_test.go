package engine_test

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

// TestForgedDeliveriesAreNotApplied replays and forges the request that
// carried a real replica from Acme to Globex: every variant is refused
// with 401 and Globex's syncs and tasks stay as they were.
func TestForgedDeliveriesAreNotApplied(t *testing.T) {
	a, b, connA, connB := connected(t)
	ctx := ctxFor(t)
	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil || len(ids) == 0 {
		t.Fatalf("Acme's tasks: %v %v", ids, err)
	}
	exalate(t, a, ids[0])
	delivery := a.sent.find(t, engine.PathEvents)
	// A second connection, whose key is not this one's.
	other, err := a.Connect(ctx, engine.ConnectRequest{To: b.url, DestToken: b.token, DestProject: "Company", Project: "Test"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := engine.ConnectionKeyForTest(ctx, a.Node, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := engine.ConnectionKeyForTest(ctx, a.Node, other.ID)
	if err != nil {
		t.Fatal(err)
	}

	if !bytes.Contains(delivery.body, []byte(`"summary":"`)) {
		t.Fatalf("the delivery carries no summary to tamper with: %.200s", delivery.body)
	}
	before := globexState(t, b, connB)
	resign := func(k []byte, at time.Time, body func([]byte) []byte) func(*http.Request, []byte) []byte {
		return func(r *http.Request, b []byte) []byte {
			if body != nil {
				b = body(b)
			}
			u, _ := url.Parse(r.URL.String())
			r.URL = u
			engine.SignRequest(r, b, r.Header.Get(engine.HeaderConnection), k, r.Header.Get(engine.HeaderIdempotency), at)
			return b
		}
	}
	for _, tt := range []struct {
		name  string
		alter func(*http.Request, []byte) []byte
	}{
		{"replayed as sent", nil},
		{"summary changed, signature kept", func(_ *http.Request, b []byte) []byte {
			return bytes.Replace(b, []byte(`"summary":"`), []byte(`"summary":"PWNED `), 1)
		}},
		{"signed 10 minutes in the future", resign(key, time.Now().Add(10*time.Minute), nil)},
		{"signed 10 minutes ago", resign(key, time.Now().Add(-10*time.Minute), nil)},
		{"signed with another connection's key", resign(otherKey, time.Now(), nil)},
		{"unsigned", func(r *http.Request, b []byte) []byte {
			r.Header.Del(engine.HeaderSignature)
			return b
		}},
	} {
		if got := send(t, delivery, tt.alter); got != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", tt.name, got)
		}
	}
	// The control: the same request re-signed now with the right key is
	// accepted, so the refusals above were the forgeries', not the test's.
	if got := send(t, delivery, resign(key, time.Now(), nil)); got/100 != 2 {
		t.Fatalf("a correctly signed redelivery: status %d", got)
	}
	after := globexState(t, b, connB)
	if after != before {
		t.Errorf("Globex changed: before %+v, after %+v (a redelivery of an applied event must change nothing either)", before, after)
	}
}

// state is what a forged delivery could have changed on a node.
type state struct {
	events int
	tasks  int
}

func globexState(t *testing.T, b *testNode, conn engine.Connection) state {
	t.Helper()
	evs, err := b.RecentEvents(ctxFor(t), conn.ID, 200)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := b.et().List(ctxFor(t), conn.LocalProject)
	if err != nil {
		t.Fatal(err)
	}
	return state{events: len(evs), tasks: len(ids)}
}
