package trackers

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/pflag"
)

// Knobs are the flags every tracker emulator takes: where to listen, and
// the limit, latency and faults that make it feel remote.
type Knobs struct {
	Listen    string
	RateLimit int
	Latency   time.Duration
	FaultRate float64
}

// Register adds the knobs' flags; listen is the default address, limits
// says what a rate limit means on this tracker.
func (k *Knobs) Register(f *pflag.FlagSet, listen, limits string) {
	f.StringVar(&k.Listen, "listen", listen, "address to listen on (port 0 picks a free one)")
	f.IntVar(&k.RateLimit, "rate-limit", 0, "requests per minute before 429 + Retry-After ("+limits+")")
	f.DurationVar(&k.Latency, "latency", 0, "delay added to every answer, e.g. 50ms")
	f.Float64Var(&k.FaultRate, "fault-rate", 0, "share of requests answered 500/503 or cut, between 0 and 1")
}

// Check refuses knobs out of range.
func (k *Knobs) Check() error {
	switch {
	case k.FaultRate < 0 || k.FaultRate > 1 || k.FaultRate != k.FaultRate:
		return fmt.Errorf("--fault-rate %v is not a share between 0 and 1", k.FaultRate)
	case k.RateLimit < 0:
		return fmt.Errorf("--rate-limit %d is negative; use 0 for no limit", k.RateLimit)
	case k.Latency < 0:
		return fmt.Errorf("--latency %v is negative", k.Latency)
	}
	return nil
}

// ListenOn opens the knobs' listener.
func (k *Knobs) ListenOn() (net.Listener, error) {
	ln, err := net.Listen("tcp", k.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w (choose another with --listen)", k.Listen, err)
	}
	return ln, nil
}
