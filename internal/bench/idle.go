package bench

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
)

// Idle is section 5: Connections connections, each on a project of its
// own with one twinned task, on nodes running adaptive polling; then
// nothing changes for the window, and the nodes' tracker calls are
// counted. Then FirstChange times a rename on an idle project (one
// project per sample) to Synchronized. The section runs twice: polling
// only, and with webhooks (Webhooks), where each project is polled every
// engine.DefaultHookPollMax as a safety net and a delivery wakes change
// detection. Deliveries go from the sandbox to the node: they are not API
// calls, and the counts don't include them; the webhooks' upkeep (their
// establishment before the window, a check of a quiet one) is counted.
//
// Nothing watches the nodes' stage events meanwhile (a listener keeps
// every project at the poll interval): the harness reads the
// connection statistics instead.
type Idle struct {
	// Webhooks says the nodes held webhooks (WebhooksAlive of them, over
	// both nodes, when the window ended).
	Webhooks      bool    `json:"webhooks"`
	WebhooksAlive int     `json:"webhooks_alive,omitempty"`
	Connections   int     `json:"connections"`
	PollMS        float64 `json:"poll_ms"`
	PollMaxMS     float64 `json:"poll_max_ms"`
	// WarmupSeconds is the unmeasured stretch after the connections'
	// first syncs, for the intervals to back off to PollMax;
	// WindowSeconds the measured one.
	WarmupSeconds float64 `json:"warmup_seconds"`
	WindowSeconds float64 `json:"window_seconds"`
	// SourceCalls and DestinationCalls are each node's tracker calls in
	// the window; CallsPerConnectionPerMinute both over Connections and
	// the window.
	SourceCalls                 int64            `json:"source_calls"`
	DestinationCalls            int64            `json:"destination_calls"`
	CallsPerConnectionPerMinute float64          `json:"calls_per_connection_per_minute"`
	ByEndpoint                  map[string]int64 `json:"by_endpoint"`
	// Samples is how many first changes were timed, each on a project
	// idle since the warm-up (with webhooks: edits, each on the next
	// project, after a pause of up to a second); Synchronized reached Synchronized, Missed
	// didn't within the timeout (not in the percentiles).
	Samples      int         `json:"samples"`
	Synchronized int         `json:"synchronized"`
	Missed       int         `json:"missed"`
	FirstChange  Percentiles `json:"first_change"`
}

// idleName is the bench's name of idle project i's one task.
func idleName(i int) string { return fmt.Sprintf("Idle task %d", i) }

// hookSamples is how many edits section 5 times with webhooks per first
// change it times polling only: an edit takes about a second there.
const hookSamples = 3

// runIdle is section 5 on a pair start makes under dir, polling only or
// with webhooks.
func runIdle(ctx context.Context, cfg Config, start startFunc, dir string, hooks bool) (Idle, error) {
	n, pollMax, poll := cfg.IdleConnections, cfg.pollMax(), cfg.poll()
	d := Idle{Webhooks: hooks, Connections: n, PollMS: ms(poll), PollMaxMS: ms(pollMax), Samples: min(cfg.IdleSamples, n)}
	if hooks {
		d.Samples = cfg.IdleSamples * hookSamples
	}
	spec := pairSpec{rpm: -1, poll: poll, pollMax: pollMax, projects: n, count: true, webhooks: hooks}
	how := "polling only"
	if hooks {
		how = "webhooks"
	}
	p, err := start(ctx, cfg, "idle", dir, spec)
	if err != nil {
		return d, err
	}
	defer p.close()
	src, _ := p.names()
	cfg.progress("idle (%s): %d connections on %d projects, each with one task synced", how, n, n)
	conns, tasks := make([]string, n), make([]string, n)
	for i := range n {
		project := sandbox.ExtraProjectName(i + 1)
		if tasks[i], err = p.addTask(ctx, project, idleName(i+1)); err != nil {
			return d, err
		}
		if conns[i], err = p.connectProject(ctx, project); err != nil {
			return d, err
		}
		if _, done, _, err := exalate(ctx, p, conns[i]); err != nil || done < 1 {
			return d, fmt.Errorf("the first sync on %s's %s: %d synchronized: %w", src, project, done, err)
		}
	}
	warmup := 2 * pollMax
	d.WarmupSeconds = warmup.Seconds()
	cfg.progress("idle (%s): %v for the polling to back off to %v, then %v measured", how, warmup, pollMax, cfg.IdleWindow)
	if err := pause(ctx, warmup); err != nil {
		return d, err
	}
	before, began := p.apiUse(), time.Now()
	if err := pause(ctx, cfg.IdleWindow); err != nil {
		return d, err
	}
	use, window := p.apiUse().since(before), time.Since(began)
	d.WindowSeconds = window.Seconds()
	d.SourceCalls, d.DestinationCalls = use.stats[0].Total(), use.stats[1].Total()
	d.CallsPerConnectionPerMinute = float64(use.calls()) / float64(n) / window.Minutes()
	d.ByEndpoint = map[string]int64{}
	for _, s := range use.stats {
		for k, v := range s.ByEndpoint {
			d.ByEndpoint[k] += v
		}
	}
	maps.DeleteFunc(d.ByEndpoint, func(_ string, v int64) bool { return v == 0 })
	if hooks {
		if d.WebhooksAlive, err = p.hooksAlive(ctx); err != nil {
			return d, err
		}
	}

	cfg.progress("idle (%s): %.2f calls per connection per minute; timing %d first changes after idle", how, d.CallsPerConnectionPerMinute, d.Samples)
	rng := rand.New(rand.NewPCG(17, uint64(n))) // the same pauses every run
	var firsts []time.Duration
	for i := range d.Samples {
		// A pause of a random part of poll-max first: every project backs
		// off in step, so an edit sent right after the previous sample's
		// would always land just after a look, at the slowest phase.
		// With webhooks a delivery wakes the look, whatever the phase:
		// a shorter pause does.
		wait := pollMax
		if hooks {
			wait = time.Second
		}
		if err := pause(ctx, time.Duration(rng.Int64N(int64(wait)))); err != nil {
			return d, err
		}
		j := i % n
		took, err := firstChange(ctx, p, conns[j], tasks[j], fmt.Sprintf("%s, changed after idle (%d)", idleName(j+1), i+1), 2*pollMax+30*time.Second)
		if err != nil {
			return d, fmt.Errorf("first change %d: %w", i+1, err)
		}
		if took == 0 {
			d.Missed++
			continue
		}
		d.Synchronized++
		firsts = append(firsts, took)
	}
	d.FirstChange = percentiles(firsts)
	return d, nil
}

// firstChange renames task on the source and waits, reading connID's
// statistics ten times a second (not subscribing, which would stop the
// backing off), for one more sync to reach Synchronized; 0 if none did
// within timeout.
func firstChange(ctx context.Context, p pair, connID, task, name string, timeout time.Duration) (time.Duration, error) {
	st, err := p.stats(ctx, connID)
	if err != nil {
		return 0, err
	}
	done := st.Synchronized
	edited := time.Now()
	if err := p.rename(ctx, task, name); err != nil {
		return 0, fmt.Errorf("renaming task %s: %w", task, err)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for time.Since(edited) < timeout {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
		st, err := p.stats(ctx, connID)
		if err != nil {
			return 0, err
		}
		if st.Synchronized > done {
			// The node's own time of it, on this machine's clock, when
			// it has one: finer than this loop's tick.
			if st.LastSync.After(edited) {
				return st.LastSync.Sub(edited), nil
			}
			return time.Since(edited), nil
		}
	}
	return 0, nil
}

// pause waits d, or less if ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
