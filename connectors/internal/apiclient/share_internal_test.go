package apiclient

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// newForShare is a client with a budget of perMinute (spent whole) and
// 4 reads and 2 writes in flight.
func newForShare(perMinute int, perToken bool) *Client {
	return New(Config{Name: "test", PerMinute: perMinute, MaxReads: 4, MaxWrites: 2, SlotsPerToken: perToken,
		Decode:            func(string, string, int, http.Header, []byte, bool) error { return errors.New("refused") },
		ErrOutcomeUnknown: errors.New("unknown")})
}

// allowedInAMinute counts the requests the client's limiter lets through
// in one minute of its own clock (AllowN with explicit times: no waiting),
// asked every 10 ms, from hour h after epoch (each measure an hour after
// the last, so it starts from a full bucket).
func allowedInAMinute(c *Client, epoch time.Time, h int) int {
	start := epoch.Add(time.Duration(h) * time.Hour)
	n := 0
	for at := time.Duration(0); at < time.Minute; at += 10 * time.Millisecond {
		for c.limiter.AllowN(start.Add(at), 1) {
			n++
		}
	}
	return n
}

// TestShareDividesTheLimiter: Share(2) has the limiter let through half
// the requests in a minute (rate and burst halved), Share(1) all again,
// and no share goes under MinSharedPerMinute.
func TestShareDividesTheLimiter(t *testing.T) {
	epoch := time.Now()
	// 1200 a minute with a burst of 60: about 1260 in the first minute.
	whole := allowedInAMinute(newForShare(1200, true), epoch, 0)
	if whole < 1250 || whole > 1265 {
		t.Fatalf("the whole budget let %d requests through in a minute, want about 1260", whole)
	}
	c := newForShare(1200, true)
	b := c.Share(2)
	if b.Parts != 2 || b.PerMinute != 600 || b.Burst != 30 {
		t.Errorf("Share(2) = %+v, want 2 parts of 600 a minute with a burst of 30", b)
	}
	if half := allowedInAMinute(c, epoch, 1); half < whole/2-5 || half > whole/2+5 {
		t.Errorf("a half share let %d requests through in a minute, want about %d", half, whole/2)
	}
	c.Share(1)
	if again := allowedInAMinute(c, epoch, 2); again < whole-5 || again > whole+5 {
		t.Errorf("back to one part, %d requests in a minute, want about %d", again, whole)
	}
	if b := c.Share(1000); b.PerMinute != MinSharedPerMinute || b.Burst != 1 {
		t.Errorf("Share(1000) = %+v, want the floor of %d a minute and a burst of 1", b, MinSharedPerMinute)
	}
	low := newForShare(3, true)
	if b := low.Share(2); b.PerMinute != 3 {
		t.Errorf("a budget of 3 a minute shared: %v a minute, want the budget, not the floor", b.PerMinute)
	}
	off := newForShare(-1, true)
	if b := off.Share(2); b.PerMinute != 0 || b.Reads != 2 || b.Writes != 1 {
		t.Errorf("no budget shared: %+v, want still none, 2 reads and 1 write", b)
	}
}

// TestShareDividesTheSlots: the requests in flight are divided only when
// they are the tracker's per token, never below one, and a lower limit
// holds new requests until those in flight are under it.
func TestShareDividesTheSlots(t *testing.T) {
	if b := newForShare(600, false).Share(2); b.Reads != 4 || b.Writes != 2 {
		t.Errorf("slots of this client alone, shared: %+v, want 4 and 2 still", b)
	}
	c := newForShare(600, true)
	if b := c.Share(4); b.Reads != 1 || b.Writes != 1 {
		t.Errorf("Share(4) = %+v, want 1 read and 1 write (2 writes / 4, at least 1)", b)
	}
	c.Share(1)
	ctx := context.Background()
	for range 4 {
		if err := c.reads.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	c.Share(2) // 4 in flight, 2 allowed
	done, cancel := context.WithCancel(ctx)
	cancel()
	c.reads.release()
	if err := c.reads.acquire(done); err == nil {
		t.Fatal("a read was let in with 3 in flight and a limit of 2")
	}
	c.reads.release()
	c.reads.release() // 1 in flight
	if err := c.reads.acquire(done); err != nil {
		t.Fatalf("a read was held with 1 in flight and a limit of 2: %v", err)
	}
	// 2 in flight: a waiter is let in when the limit rises.
	got := make(chan error, 1)
	go func() { got <- c.reads.acquire(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		c.reads.mu.Lock()
		waiting := len(c.reads.waiters)
		c.reads.mu.Unlock()
		if waiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the third read never waited")
		}
		runtime.Gosched()
	}
	c.Share(1)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}
