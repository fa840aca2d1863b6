package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/internal/demo"
	"github.com/tandem-sync/tandem/store"
)

// demoPair is the pair in this process: two internal/demo nodes, each in
// front of its own sandbox on loopback. CPU and memory are the whole
// process's.
type demoPair struct {
	nodes        []*demo.Node
	acme, globex *demo.Node
	dir          string
	spec         pairSpec
	seeder       *asana.Client
}

var _ pair = (*demoPair)(nil)

// startDemoPair is the in-process startFunc.
func startDemoPair(ctx context.Context, cfg Config, section, dir string, spec pairSpec) (pair, error) {
	cfg.progress("%s: starting two nodes (%s)", section, spec)
	nodes, err := demo.Pair(ctx, dir, func(s *demo.Spec) {
		s.Sandbox = []sandbox.Option{sandbox.WithRateLimit(spec.limit), sandbox.WithLatency(spec.latency),
			sandbox.WithExtraProjects(spec.projects)}
		s.RequestsPerMinute = spec.rpm
		s.Poll = spec.poll
		s.PollMax = spec.pollMax
		s.Webhooks = spec.webhooks
	})
	if err != nil {
		return nil, err
	}
	return &demoPair{nodes: nodes, acme: nodes[0], globex: nodes[1], dir: dir, spec: spec}, nil
}

func (p *demoPair) names() (string, string) { return p.acme.Name, p.globex.Name }

func (p *demoPair) limitedSeeding() string { return "limit off" }

// seed runs with the source sandbox's limit and latency off, through a
// client with no budget straight on the sandbox: the seeding isn't
// measured, and its requests don't show in the node's own client's counts.
func (p *demoPair) seed(ctx context.Context, count int, full bool) error {
	p.acme.Sandbox.SetRateLimit(0)
	p.acme.Sandbox.SetLatency(0)
	defer func() {
		p.acme.Sandbox.SetRateLimit(p.spec.limit)
		p.acme.Sandbox.SetLatency(p.spec.latency)
	}()
	var err error
	p.seeder, err = asana.New(asana.Config{BaseURL: p.acme.SandboxURL, Token: p.acme.Sandbox.Token(), RequestsPerMinute: -1})
	if err != nil {
		return err
	}
	project, err := p.projectGID(benchProject)
	if err != nil {
		return err
	}
	return seedProject(ctx, p.seeder, p.acme.Name, project, count, full)
}

// projectGID finds the named project of the source's sandbox.
func (p *demoPair) projectGID(name string) (string, error) {
	for _, pr := range p.acme.Sandbox.Projects() {
		if pr.Name == name {
			return pr.GID, nil
		}
	}
	return "", fmt.Errorf("no project %q in %s's sandbox", name, p.acme.Name)
}

func (p *demoPair) connect(ctx context.Context, mode engine.Mode) (string, error) {
	return p.connectIn(ctx, benchProject, mode)
}

func (p *demoPair) connectProject(ctx context.Context, project string) (string, error) {
	return p.connectIn(ctx, project, "")
}

func (p *demoPair) connectIn(ctx context.Context, project string, mode engine.Mode) (string, error) {
	c, err := p.acme.Connect(ctx, engine.ConnectRequest{To: p.globex.URL, DestToken: p.globex.AdminToken,
		DestProject: project, Project: project, Mode: mode})
	if err != nil {
		return "", fmt.Errorf("connecting %s to %s: %w", p.acme.Name, p.globex.Name, err)
	}
	return c.ID, nil
}

// addTask creates the task through a seeding client with no budget
// straight on the sandbox, whose calls don't show in the node's counts.
func (p *demoPair) addTask(ctx context.Context, project, name string) (string, error) {
	if p.seeder == nil {
		var err error
		p.seeder, err = asana.New(asana.Config{BaseURL: p.acme.SandboxURL, Token: p.acme.Sandbox.Token(), RequestsPerMinute: -1})
		if err != nil {
			return "", err
		}
	}
	gid, err := p.projectGID(project)
	if err != nil {
		return "", err
	}
	t, err := p.seeder.CreateTask(ctx, asana.NewTask{Project: gid, Name: name})
	if err != nil {
		return "", fmt.Errorf("creating %q in %s's %s: %w", name, p.acme.Name, project, err)
	}
	return t.GID, nil
}

func (p *demoPair) exalateAll(ctx context.Context, connID string) (engine.BulkStarted, error) {
	return p.acme.ExalateAll(ctx, connID)
}

// waitSynced watches stage events to tell roughly how far the sync is;
// the store, asked at most four times a second (so the wait itself costs
// little of the CPU being measured) and when the events say it may be
// done, has the final word, since a slow listener may miss events.
func (p *demoPair) waitSynced(ctx context.Context, connID string, want int) (int, error) {
	events, stop := p.acme.Subscribe()
	defer stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	stall, seen := stalled(want), 0
	for {
		done, err := p.count(ctx, connID, "direction = 'out' AND stage = 'synchronized'")
		if err != nil {
			return done, err
		}
		if done >= want {
			return done, nil
		}
		if err := stall(done); err != nil {
			return done, err
		}
		seen = max(seen, done)
	wait:
		for {
			select {
			case <-ctx.Done():
				return done, fmt.Errorf("%d of %d tasks synchronized: %w", done, want, ctx.Err())
			case e := <-events:
				if e.ConnectionID == connID && e.Direction == store.DirectionOut && e.Stage == engine.StageSynchronized {
					if seen++; seen >= want {
						break wait
					}
				}
			case <-tick.C:
				break wait
			}
		}
	}
}

func (p *demoPair) unfinished(ctx context.Context, connID string) (int, error) {
	return p.count(ctx, connID, "stage != 'synchronized'")
}

// count counts the source's sync events on connID that match where.
func (p *demoPair) count(ctx context.Context, connID, where string) (int, error) {
	var c int
	err := p.acme.Store().DB().QueryRowContext(ctx, `SELECT count(*) FROM sync_events
		WHERE connection_id = ? AND `+where, connID).Scan(&c)
	if err != nil {
		return 0, fmt.Errorf("counting %s's syncs (%s): %w", p.acme.Name, where, err)
	}
	return c, nil
}

// apiUse is the nodes' own clients' counts and the sandboxes'.
func (p *demoPair) apiUse() apiUse {
	var u apiUse
	for i, n := range p.nodes {
		u.stats[i], u.requests[i], u.rejected[i] = n.Client.Stats(), n.Sandbox.Requests(), n.Sandbox.RejectedRateLimited()
	}
	return u
}

func (p *demoPair) rename(ctx context.Context, gid, name string) error {
	_, err := p.seeder.UpdateTask(ctx, gid, asana.TaskUpdate{Name: &name})
	return err
}

func (p *demoPair) subscribe(context.Context) (<-chan engine.StageEvent, func(), error) {
	events, stop := p.acme.Subscribe()
	return events, stop, nil
}

func (p *demoPair) connections(ctx context.Context) ([]engine.Connection, error) {
	return p.acme.Connections(ctx)
}

func (p *demoPair) stats(ctx context.Context, connID string) (engine.ConnectionStats, error) {
	return p.acme.Stats(ctx, connID)
}

func (p *demoPair) hooksAlive(context.Context) (int, error) {
	alive := 0
	for _, n := range p.nodes {
		alive += n.Hooks().Alive
	}
	return alive, nil
}

func (p *demoPair) dataDirs() map[string]string {
	dirs := map[string]string{}
	for _, n := range p.nodes {
		dirs[n.Name] = filepath.Join(p.dir, n.Name)
	}
	return dirs
}

// measure counts the process's CPU (getrusage), after a GC, and profiles
// it into cfg.CPUProfile; peak RSS is the process's maxrss.
func (p *demoPair) measure(cfg Config) (func(*Overhead) (time.Duration, error), error) {
	runtime.GC()
	before, err := cpuTime()
	if err != nil {
		return nil, err
	}
	if cfg.CPUProfile != nil {
		if err := pprof.StartCPUProfile(cfg.CPUProfile); err != nil {
			return nil, fmt.Errorf("starting the CPU profile: %w", err)
		}
	}
	return func(o *Overhead) (time.Duration, error) {
		if cfg.CPUProfile != nil {
			pprof.StopCPUProfile()
		}
		after, err := cpuTime()
		if err != nil {
			return 0, err
		}
		if o.PeakRSSMB, err = peakRSSMB(); err != nil {
			return 0, err
		}
		return after - before, nil
	}, nil
}

// memory is the process's: peak and current RSS, and the Go heap.
func (p *demoPair) memory(s *Scale) error {
	var err error
	if s.PeakRSSMB, err = peakRSSMB(); err != nil {
		return err
	}
	// maxrss and /proc's resident set are counted apart: read just after
	// the peak, "now" can come out a page or two above it.
	s.RSSMB = rssMB()
	s.PeakRSSMB = max(s.PeakRSSMB, s.RSSMB)
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	heap := float64(m.HeapAlloc) / (1 << 20)
	s.HeapMB = &heap
	return nil
}

func (p *demoPair) close() {
	for _, n := range p.nodes {
		n.Close()
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// peakRSSMB is the process's peak resident set in MB (maxrss is in KB on
// Linux).
func peakRSSMB() (float64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return float64(ru.Maxrss) / 1024, nil
}

// rssMB is the process's resident set now (VmRSS in /proc/self/status), 0
// where that isn't available.
func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
