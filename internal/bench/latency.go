package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/store"
)

// Latency is section 2: single-field edits on random twins, one at a time,
// each timed from the edit to its outgoing sync reaching Synchronized on
// Acme, and split at the sync's Preparing stage event.
type Latency struct {
	Edits int `json:"edits"`
	// Synchronized counts edits whose sync reached Synchronized; Missed
	// the ones that didn't within editTimeout (not in the percentiles).
	Synchronized int `json:"synchronized"`
	Missed       int `json:"missed"`
	// Twins is how many twinned tasks the edits were drawn from.
	Twins     int     `json:"twins"`
	PollMS    float64 `json:"poll_interval_ms"`
	LatencyMS float64 `json:"latency_ms"`
	RateLimit int     `json:"rate_limit_per_minute"`
	// Total is edit → Synchronized; Detection edit → Preparing (the
	// poll's wait and the read of the task); Pipeline Preparing →
	// Synchronized.
	Total     Percentiles `json:"total"`
	Detection Percentiles `json:"detection"`
	Pipeline  Percentiles `json:"pipeline"`
}

// Percentiles are nearest-rank percentiles, in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
}

// percentiles of ds by nearest rank; zero for none.
func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	s := slices.Sorted(slices.Values(ds))
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return ms(s[min(max(i, 0), len(s)-1)])
	}
	return Percentiles{P50: at(0.50), P95: at(0.95), P99: at(0.99)}
}

// latencySetupTasks is how many tasks section 2 syncs first when section 1
// doesn't run and leave twins behind.
const latencySetupTasks = 20

// editTimeout is how long one edit may take to reach Synchronized before
// it is counted as missed.
func editTimeout(poll time.Duration) time.Duration { return max(30*time.Second, 10*poll) }

// runLatency is section 2 on p, whose twins are the source's twinned
// task ids on connID: it waits for the nodes to go quiet, then times
// cfg.Edits renames one at a time.
func runLatency(ctx context.Context, cfg Config, p pair, connID string, twins []string) (Latency, error) {
	poll := cfg.poll()
	src, _ := p.names()
	l := Latency{Edits: cfg.Edits, Twins: len(twins), PollMS: ms(poll), LatencyMS: ms(cfg.Latency), RateLimit: cfg.RateLimit}
	if len(twins) == 0 {
		return l, fmt.Errorf("no twins to edit")
	}
	cfg.progress("change latency: waiting for both nodes to go quiet")
	if err := settle(ctx, p, poll); err != nil {
		return l, err
	}
	cfg.progress("change latency: %d edits on %s, one at a time (poll %v, latency %v)", cfg.Edits, src, poll, cfg.Latency)
	events, stop, err := p.subscribe(ctx)
	if err != nil {
		return l, fmt.Errorf("the stage events of %s: %w", src, err)
	}
	defer stop()
	rng := rand.New(rand.NewPCG(6, uint64(len(twins)))) // the same edits every run
	var total, detection, pipeline []time.Duration
	for i := range cfg.Edits {
		gid := twins[rng.IntN(len(twins))]
		// A pause of a random part of the poll interval first: edits sent
		// right after the previous Synchronized would all land at the same
		// phase of the poll and measure one point of the detection delay,
		// not its spread.
		select {
		case <-ctx.Done():
			return l, ctx.Err()
		case <-time.After(time.Duration(rng.Int64N(int64(poll)))):
		}
		name := fmt.Sprintf("Bench task renamed, edit %d", i+1)
		// The clock starts as the edit is sent, so the edit's own latency
		// counts and no Preparing can come before it.
		edited := time.Now()
		if err := p.rename(ctx, gid, name); err != nil {
			return l, fmt.Errorf("edit %d, renaming task %s: %w", i+1, gid, err)
		}
		prepared, synced, err := awaitSync(ctx, events, connID, gid, edited, editTimeout(poll))
		if err != nil {
			return l, fmt.Errorf("edit %d, task %s: %w", i+1, gid, err)
		}
		if synced.IsZero() {
			l.Missed++
			continue
		}
		l.Synchronized++
		total = append(total, synced.Sub(edited))
		detection = append(detection, prepared.Sub(edited))
		pipeline = append(pipeline, synced.Sub(prepared))
	}
	l.Total, l.Detection, l.Pipeline = percentiles(total), percentiles(detection), percentiles(pipeline)
	return l, nil
}

// awaitSync waits for the outgoing sync of entity that an edit made at
// edited starts, and returns when it reached Preparing and Synchronized
// (the events' own times); both zero if it didn't within timeout.
func awaitSync(ctx context.Context, events <-chan engine.StageEvent, connID, entity string, edited time.Time,
	timeout time.Duration) (prepared, synced time.Time, err error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var eventID string
	for {
		select {
		case <-ctx.Done():
			return time.Time{}, time.Time{}, ctx.Err()
		case <-deadline.C:
			return time.Time{}, time.Time{}, nil
		case e, ok := <-events:
			if !ok {
				return time.Time{}, time.Time{}, fmt.Errorf("the stage events ended")
			}
			if e.ConnectionID != connID || e.Direction != store.DirectionOut || e.EntityID != entity || e.Error != "" {
				continue
			}
			switch {
			case eventID == "" && e.Stage == engine.StagePreparing && !e.At.Before(edited):
				eventID, prepared = e.EventID, e.At
			case eventID != "" && e.EventID == eventID && e.Stage == engine.StageSynchronized:
				return prepared, e.At, nil
			}
		}
	}
}

// settle waits until the nodes' clients make no more than idle polling's
// calls over two poll intervals (the bulk's tail and the first poll's
// reconcile done), so they don't delay the first edits; at most a minute.
func settle(ctx context.Context, p pair, poll time.Duration) error {
	giveUp := time.Now().Add(time.Minute)
	for time.Now().Before(giveUp) {
		before := p.apiUse().calls()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * poll):
		}
		// An idle poll is one Events call per node (two with a page
		// more), of two nodes.
		if p.apiUse().calls()-before <= 2*4 {
			return nil
		}
	}
	return nil
}
