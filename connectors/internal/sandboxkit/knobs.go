package sandboxkit

import (
	"fmt"
	"math"
	"net/http"
	"sync/atomic"
	"time"
)

// Knobs are the dials a sandbox can turn at run time (latency, fault rate)
// and the counters a test reads back. The zero value is ready: no latency,
// no faults. It is safe for concurrent use.
type Knobs struct {
	faultRate    atomic.Uint64 // math.Float64bits of the rate
	latency      atomic.Int64  // nanoseconds
	requests     atomic.Int64
	rejected     atomic.Int64
	refuseWrites atomic.Bool
}

// CheckKnobs validates the knobs given to a sandbox's constructor, with the
// same wording in both sandboxes.
func CheckKnobs(rateLimit int, latency time.Duration, faultRate float64) error {
	switch {
	case rateLimit < 0:
		return fmt.Errorf("rate limit %d: must be 0 (no limit) or positive", rateLimit)
	case latency < 0:
		return fmt.Errorf("latency %v: must not be negative", latency)
	case faultRate < 0 || faultRate > 1 || faultRate != faultRate:
		return fmt.Errorf("fault rate %v: must be between 0 and 1", faultRate)
	}
	return nil
}

// SetFaultRate sets the share of requests answered with a fault; values are
// clamped to 0..1 and NaN means 0.
func (k *Knobs) SetFaultRate(f float64) {
	switch {
	case f != f || f < 0:
		f = 0
	case f > 1:
		f = 1
	}
	k.faultRate.Store(math.Float64bits(f))
}

// SetRefuseWrites makes the sandbox refuse every write (any request but a
// GET or a HEAD) with a 403, as a tracker does to a token that may only
// read; false lets writes through again.
func (k *Knobs) SetRefuseWrites(on bool) { k.refuseWrites.Store(on) }

// RefusesWrite says whether the sandbox refuses r now (SetRefuseWrites).
func (k *Knobs) RefusesWrite(r *http.Request) bool {
	return k.refuseWrites.Load() && r.Method != http.MethodGet && r.Method != http.MethodHead
}

// SetLatency sets the delay added before every response; negative means 0.
func (k *Knobs) SetLatency(d time.Duration) {
	k.latency.Store(int64(max(0, d)))
}

// CountRequest counts one HTTP request received.
func (k *Knobs) CountRequest() { k.requests.Add(1) }

// Requests reports the requests counted, refused ones included.
func (k *Knobs) Requests() int64 { return k.requests.Load() }

// CountRejected counts one request refused for a limit (a 429).
func (k *Knobs) CountRejected() { k.rejected.Add(1) }

// Rejected reports the refusals counted.
func (k *Knobs) Rejected() int64 { return k.rejected.Load() }

// Wait applies the latency to r; false means the client went away first.
func (k *Knobs) Wait(r *http.Request) bool {
	d := time.Duration(k.latency.Load())
	if d <= 0 {
		return r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// InjectFault draws, with the configured probability, a fault for a request
// that has not touched any state yet, and reports whether it answered. A
// fault is a 500 or a 503, written by writeFault in the tracker's own body,
// or a cut connection (see Cut), each a third of the time.
func (k *Knobs) InjectFault(w http.ResponseWriter, rng *Rand, writeFault func(w http.ResponseWriter, status int)) bool {
	f := math.Float64frombits(k.faultRate.Load())
	if f <= 0 || rng.Float64() >= f {
		return false
	}
	switch rng.IntN(3) {
	case 0:
		writeFault(w, http.StatusInternalServerError)
	case 1:
		writeFault(w, http.StatusServiceUnavailable)
	default:
		Cut(w)
	}
	return true
}

// Cut drops the connection so that the client gets no status line at all.
// When w cannot be hijacked (HTTP/2) it aborts the handler instead, which
// resets the stream; either way the caller must not write again.
func Cut(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
