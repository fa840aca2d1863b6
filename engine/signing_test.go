package engine

import (
	"bytes"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

// replayMemory is an in-memory stand-in for the store's nonce table.
type replayMemory struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (m *replayMemory) seenFn(connID, nonce string, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	k := connID + "\x00" + nonce
	if m.seen[k] {
		return false, nil
	}
	m.seen[k] = true
	return true, nil
}

func TestSignedRequests(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	// conn-twin shares conn-a's key, as the two ends of a local connection do.
	keys := map[string][]byte{"conn-a": bytes.Repeat([]byte{1}, 32), "conn-b": bytes.Repeat([]byte{2}, 32),
		"conn-twin": bytes.Repeat([]byte{1}, 32)}
	lookup := func(id string) ([]byte, error) {
		if k, ok := keys[id]; ok {
			return k, nil
		}
		return nil, ErrUnknownPeer
	}
	body := []byte(`{"event":"e1","summary":"hello"}`)
	signed := func(connID string, key []byte, at time.Time) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://node/api/v1/peer/events?x=1", bytes.NewReader(body))
		SignRequest(r, body, connID, key, "evt-1", at)
		return r
	}

	var mem replayMemory
	r := signed("conn-a", keys["conn-a"], now)
	if id, err := VerifyRequest(r, body, now.Add(time.Second), lookup, mem.seenFn); err != nil || id != "conn-a" {
		t.Fatalf("a good request: %q, %v", id, err)
	}
	if _, err := VerifyRequest(r, body, now.Add(2*time.Second), lookup, mem.seenFn); !errors.Is(err, ErrReplayed) {
		t.Errorf("the same request again: err = %v, want ErrReplayed", err)
	}
	// A retry of the same operation is signed afresh and accepted.
	if _, err := VerifyRequest(signed("conn-a", keys["conn-a"], now.Add(time.Millisecond)), body, now, lookup, mem.seenFn); err != nil {
		t.Errorf("a retry signed afresh: %v", err)
	}

	// The same MAC spelled differently (the unused low bits of the last
	// base64 character set) is still the same request: refused as a replay
	// or as malformed, never accepted again.
	r2 := signed("conn-a", keys["conn-a"], now.Add(2*time.Millisecond))
	if _, err := VerifyRequest(r2, body, now, lookup, mem.seenFn); err != nil {
		t.Fatal(err)
	}
	sig := []byte(r2.Header.Get(HeaderSignature))
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		variant := bytes.Clone(sig)
		variant[len(variant)-2] = byte(c) // the character before the '=' pad
		if bytes.Equal(variant, sig) {
			continue
		}
		r2.Header.Set(HeaderSignature, string(variant))
		if _, err := VerifyRequest(r2, body, now, lookup, mem.seenFn); err == nil {
			t.Errorf("signature spelled %q was accepted again", variant)
		}
	}

	flipped := bytes.Clone(body)
	flipped[5] ^= 1
	unsigned, _ := http.NewRequest(http.MethodPost, "http://node/api/v1/peer/events", bytes.NewReader(body))
	otherPath := signed("conn-a", keys["conn-a"], now)
	otherPath.URL.Path = "/api/v1/peer/other"
	otherMethod := signed("conn-a", keys["conn-a"], now)
	otherMethod.Method = http.MethodPut
	otherIdem := signed("conn-a", keys["conn-a"], now)
	otherIdem.Header.Set(HeaderIdempotency, "evt-2")
	otherEnd := signed("conn-a", keys["conn-a"], now)
	otherEnd.Header.Set(HeaderConnection, "conn-twin")
	badTS := signed("conn-a", keys["conn-a"], now)
	badTS.Header.Set(HeaderTimestamp, "yesterday")

	for _, tt := range []struct {
		name string
		r    *http.Request
		body []byte
		at   time.Time
		want error
	}{
		{"unsigned", unsigned, body, now, ErrUnsigned},
		{"wrong key", signed("conn-a", keys["conn-b"], now), body, now, ErrBadSignature},
		{"another connection's key", signed("conn-b", keys["conn-a"], now), body, now, ErrBadSignature},
		{"unknown connection", signed("conn-z", keys["conn-a"], now), body, now, ErrUnknownPeer},
		{"one body byte flipped", signed("conn-a", keys["conn-a"], now), flipped, now, ErrBadSignature},
		{"path changed", otherPath, body, now, ErrBadSignature},
		{"method changed", otherMethod, body, now, ErrBadSignature},
		{"idempotency key changed", otherIdem, body, now, ErrBadSignature},
		{"stale", signed("conn-a", keys["conn-a"], now.Add(-6*time.Minute)), body, now, ErrStale},
		{"from the future", signed("conn-a", keys["conn-a"], now.Add(6*time.Minute)), body, now, ErrStale},
		{"unreadable timestamp", badTS, body, now, ErrUnsigned},
		{"the other end of a local connection", otherEnd, body, now, ErrBadSignature},
	} {
		var fresh replayMemory
		if _, err := VerifyRequest(tt.r, tt.body, tt.at, lookup, fresh.seenFn); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
		if len(fresh.seen) != 0 {
			t.Errorf("%s: a refused request was recorded as seen", tt.name)
		}
	}
}
