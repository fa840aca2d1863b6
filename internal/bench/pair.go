package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
)

// pair is Acme and Globex as one mode runs them: demoPair in this
// process, procPair as child processes. Each section's flow is written
// once over it; what a mode can measure, and how, stays in its methods.
type pair interface {
	// names are the source's and the destination's.
	names() (src, dst string)
	// limitedSeeding says how seed runs under a limit or latency.
	limitedSeeding() string
	// seed empties the source's bench project and creates count tasks in
	// it (full: with comments and an attachment), through a client whose
	// calls don't show in apiUse; section 2 edits through the same one.
	seed(ctx context.Context, count int, full bool) error
	// connect links the source's bench project to the destination's, in
	// mode ("": Basic).
	connect(ctx context.Context, mode engine.Mode) (connID string, err error)
	// connectProject links the source's project to the destination's of
	// the same name, in Basic mode.
	connectProject(ctx context.Context, project string) (connID string, err error)
	// addTask creates a bare task in the source's project through the
	// seeding client and returns its gid.
	addTask(ctx context.Context, project, name string) (gid string, err error)
	exalateAll(ctx context.Context, connID string) (engine.BulkStarted, error)
	// waitSynced waits until want of the source's outgoing syncs reached
	// Synchronized, and says how many did.
	waitSynced(ctx context.Context, connID string, want int) (int, error)
	// unfinished counts the source's syncs not Synchronized.
	unfinished(ctx context.Context, connID string) (int, error)
	apiUse() apiUse
	rename(ctx context.Context, gid, name string) error
	// subscribe streams the source's stage events until stop.
	subscribe(ctx context.Context) (events <-chan engine.StageEvent, stop func(), err error)
	connections(ctx context.Context) ([]engine.Connection, error)
	stats(ctx context.Context, connID string) (engine.ConnectionStats, error)
	// hooksAlive is how many webhooks the two nodes hold alive.
	hooksAlive(ctx context.Context) (int, error)
	// dataDirs are the nodes' data dirs by name.
	dataDirs() map[string]string
	// measure starts measuring section 3's CPU; end stops, fills the
	// mode's memory figures and notes in o and returns the CPU used.
	measure(cfg Config) (end func(o *Overhead) (time.Duration, error), err error)
	// memory fills section 4's memory figures and notes.
	memory(s *Scale) error
	close()
}

// pairSpec is how a pair runs.
type pairSpec struct {
	limit   int           // the sandboxes' requests per minute (0: none)
	latency time.Duration // added to every sandbox answer
	rpm     int           // the nodes' client budget (-1: none)
	poll    time.Duration
	// pollMax is the nodes' adaptive polling's longest interval (0:
	// fixed polling at poll).
	pollMax time.Duration
	// projects is how many empty projects each sandbox gets besides the
	// seed's (sandbox.WithExtraProjects).
	projects int
	// count says the section reads apiUse (procPair puts a counting
	// proxy in front of each sandbox for it).
	count bool
	// webhooks has the nodes ask their sandboxes for webhooks (section 5's
	// second run); off, they poll, as every other section measures.
	webhooks bool
	// memprofile, if set, has Acme's node keep a heap profile there
	// (`tandem serve --memprofile`; procPair only).
	memprofile string
	// replicas is how many `tandem serve` replicas run the source (Acme)
	// on its one database (section 6); 0 or 1: one process.
	replicas int
}

// unthrottled is the spec of sections 3 and 4: no limit, no latency.
func unthrottled() pairSpec { return pairSpec{rpm: -1, poll: engine.DefaultPoll} }

func (s pairSpec) String() string {
	if s.limit == 0 && s.latency == 0 {
		return "no limit, no latency"
	}
	return fmt.Sprintf("rate limit %d/min, latency %v", s.limit, s.latency)
}

// startFunc starts a pair under dir; section names it in the progress.
type startFunc func(ctx context.Context, cfg Config, section, dir string, spec pairSpec) (pair, error)

// apiUse is both sides' API use so far, source first: what each node's
// client (or the counter in front of it) counted, every request each
// sandbox answered, and the ones refused for the rate limit.
type apiUse struct {
	stats              [2]asana.Stats
	requests, rejected [2]int64
}

// since is the use from before to u.
func (u apiUse) since(before apiUse) apiUse {
	for i := range 2 {
		u.stats[i] = u.stats[i].Sub(before.stats[i])
		u.requests[i] -= before.requests[i]
		u.rejected[i] -= before.rejected[i]
	}
	return u
}

// calls is both clients' API calls.
func (u apiUse) calls() int64 { return u.stats[0].Total() + u.stats[1].Total() }

// setUp starts a pair, seeds count tasks on its source and connects it;
// it returns how long the seeding took. On error nothing is left running.
func setUp(ctx context.Context, cfg Config, start startFunc, section, dir string, spec pairSpec, count int,
	full bool) (p pair, connID string, seeded time.Duration, err error) {
	if p, err = start(ctx, cfg, section, dir, spec); err != nil {
		return nil, "", 0, err
	}
	src, _ := p.names()
	what, how := "tasks", ""
	if !full {
		what = "bare tasks"
	}
	if spec.limit > 0 || spec.latency > 0 {
		how = " (" + p.limitedSeeding() + ")"
	}
	cfg.progress("%s: seeding %d %s on %s%s", section, count, what, src, how)
	began := time.Now()
	if err = p.seed(ctx, count, full); err == nil {
		seeded = time.Since(began)
		connID, err = p.connect(ctx, cfg.Mode)
	}
	if err != nil {
		p.close()
		return nil, "", 0, err
	}
	return p, connID, seeded, nil
}

// exalate is a Bulk Exalate of every task on connID, waited for until
// each reached Synchronized; done is how many did.
func exalate(ctx context.Context, p pair, connID string) (started engine.BulkStarted, done int, wall time.Duration, err error) {
	began := time.Now()
	started, err = p.exalateAll(ctx, connID)
	if err != nil {
		return started, 0, time.Since(began), fmt.Errorf("bulk exalate after %d tasks: %w", started.Started, err)
	}
	done, err = p.waitSynced(ctx, connID, started.Started)
	return started, done, time.Since(began), err
}
