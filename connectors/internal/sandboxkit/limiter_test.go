package sandboxkit

import (
	"testing"
	"time"
)

// TestLimiterRetryAfter runs the budget arithmetic on a controlled clock:
// 150 a minute is 2.5 tokens a second with a burst of 15.
func TestLimiterRetryAfter(t *testing.T) {
	l := NewLimiter(150)
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := range 15 {
		if ref := l.Allow("tok", t0); ref != nil {
			t.Fatalf("request %d of the burst refused: %+v", i+1, ref)
		}
	}
	ref := l.Allow("tok", t0)
	if ref == nil {
		t.Fatal("the 16th request at once was served")
	}
	// One token of debt (0.4s) plus one fresh token (0.4s), rounded up.
	if ref.RetryAfter != 1 || ref.PerMinute != 150 {
		t.Errorf("refusal %+v, want RetryAfter 1 under 150", ref)
	}
	// Hammering digs deeper: each refusal keeps its reservation.
	var last int
	for range 10 {
		last = l.Allow("tok", t0).RetryAfter
	}
	if last != 5 { // 11 tokens of debt + 1 = 12 × 0.4s = 4.8s
		t.Errorf("RetryAfter after 10 more refusals = %d, want 5", last)
	}
	if ref := l.Allow("tok", t0.Add(time.Duration(last)*time.Second)); ref != nil {
		t.Errorf("waiting Retry-After was not enough: %+v", ref)
	}
	if ref := l.Allow("other", t0); ref != nil {
		t.Errorf("another key shares the budget: %+v", ref)
	}
}

func TestLimiterSetRate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	l := NewLimiter(0)
	for range 1000 {
		if ref := l.Allow("k", t0); ref != nil {
			t.Fatalf("no limit refused: %+v", ref)
		}
	}
	l.SetRate(10) // burst 1
	if l.Allow("k", t0) != nil {
		t.Fatal("a fresh bucket is not full")
	}
	if ref := l.Allow("k", t0); ref == nil || ref.PerMinute != 10 || ref.RetryAfter != 12 {
		t.Fatalf("refusal %+v, want RetryAfter 12 under 10", ref)
	}
	l.SetRate(10)
	if ref := l.Allow("k", t0); ref != nil {
		t.Errorf("SetRate did not refill the bucket: %+v", ref)
	}
	l.SetRate(-5)
	if ref := l.Allow("k", t0); ref != nil {
		t.Errorf("a negative rate is not 'no limit': %+v", ref)
	}
}

func TestBucketParams(t *testing.T) {
	for _, c := range []struct {
		perMinute int
		perSecond float64
		burst     int
	}{{60, 1, 6}, {150, 2.5, 15}, {1500, 25, 150}, {5, 5.0 / 60, 1}} {
		lim, burst := BucketParams(c.perMinute)
		if float64(lim) != c.perSecond || burst != c.burst {
			t.Errorf("BucketParams(%d) = %v, %d; want %v, %d", c.perMinute, lim, burst, c.perSecond, c.burst)
		}
	}
}
