package sandboxkit

import (
	"testing"
	"time"
)

func TestTicker(t *testing.T) {
	var tk Ticker
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)
	first := tk.Tick(t0)
	if want := t0.Truncate(time.Millisecond); !first.Equal(want) {
		t.Errorf("first tick %v, want %v", first, want)
	}
	// Within the same millisecond, and with the clock going back, every
	// tick is still a millisecond later than the one before.
	prev := first
	for _, now := range []time.Time{t0, t0.Add(100 * time.Microsecond), t0.Add(-time.Hour)} {
		got := tk.Tick(now)
		if want := prev.Add(time.Millisecond); !got.Equal(want) {
			t.Errorf("Tick(%v) = %v, want %v", now, got, want)
		}
		prev = got
	}
	if got, now := tk.Tick(t0.Add(time.Second)), t0.Add(time.Second).Truncate(time.Millisecond); !got.Equal(now) {
		t.Errorf("after a second: %v, want %v", got, now)
	}
}

func TestTickerObserve(t *testing.T) {
	var tk Ticker
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	future := t0.Add(time.Minute)
	tk.Observe(future)
	tk.Observe(t0) // earlier: no effect
	if got := tk.Tick(t0); !got.Equal(future.Add(time.Millisecond)) {
		t.Errorf("tick after Observe(%v) = %v", future, got)
	}
}
