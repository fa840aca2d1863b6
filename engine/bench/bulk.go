package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/demo"
)

// Bulk is section 1: a Bulk Exalate of Tasks seeded tasks from Acme to
// Globex under the rate limit and latency.
type Bulk struct {
	Tasks        int `json:"tasks"`
	Synchronized int `json:"synchronized"`
	// Unrecovered counts syncs not Synchronized at the end (a 429 the
	// retries didn't get past would leave one).
	Unrecovered    int     `json:"unrecovered"`
	WallSeconds    float64 `json:"wall_seconds"`
	TasksPerMinute float64 `json:"tasks_per_minute"`
	// Source is Acme's API use, Destination Globex's.
	Source      Side `json:"source"`
	Destination Side `json:"destination"`
	// CallsPerTask is both sides' API calls per task; MinimumCallsPerTask
	// the Basic rules' theoretical minimum (see Minimum); CallsRatio the
	// first over the second.
	CallsPerTask        float64 `json:"calls_per_task"`
	MinimumCallsPerTask float64 `json:"minimum_calls_per_task"`
	CallsRatio          float64 `json:"calls_ratio"`
	// RateLimitBound is the tasks per minute the limit allows at the
	// measured calls per task of the busier side; BoundShare is the
	// achieved tasks per minute over it.
	RateLimitBound float64 `json:"rate_limit_bound_tasks_per_minute"`
	BoundShare     float64 `json:"bound_share"`
	// Received429 counts 429 answers the nodes' clients got, both sides.
	Received429 int64 `json:"received_429"`
}

// Side is one node's API use during a bulk sync.
type Side struct {
	Reads         int64   `json:"reads"`
	Writes        int64   `json:"writes"`
	ReadsPerTask  float64 `json:"reads_per_task"`
	WritesPerTask float64 `json:"writes_per_task"`
	CallsPerTask  float64 `json:"calls_per_task"`
	// MinimumPerTask is this side's share of the minimum.
	MinimumPerTask float64 `json:"minimum_per_task"`
	// Downloads are attachment byte fetches from the file host; Asana
	// doesn't count them against the API limit.
	Downloads  int64            `json:"downloads"`
	Retries    int64            `json:"retries"`
	Got429     int64            `json:"received_429"`
	ByEndpoint map[string]int64 `json:"by_endpoint"`
	// SandboxRequests is every request the side's sandbox answered (file
	// downloads included), SandboxRejected429 the ones it refused for the
	// rate limit.
	SandboxRequests    int64 `json:"sandbox_requests"`
	SandboxRejected429 int64 `json:"sandbox_rejected_429"`
	// RequestsPerMinute is the API calls per minute achieved, RateShare
	// that over the limit.
	RequestsPerMinute float64 `json:"requests_per_minute"`
	RateShare         float64 `json:"rate_share"`
}

// Minimum is the Basic rules' theoretical minimum of API calls to sync one
// new task with c comments and a attachments, per side, and why:
//
//   - source reads: the task's fields come with the project listing (one
//     page of 100 tasks with opt_fields, so 1/100 of a call each); its
//     comments need GET /tasks/{gid}/stories (1); its attachments GET
//     /attachments?parent= (1), whose opt_fields can include download_url,
//     and the bytes come from the file host, which isn't the API (0).
//   - destination writes: POST /tasks (1, returning every field, so no read
//     follows), one POST /tasks/{gid}/stories per comment (c), one POST
//     /attachments per attachment (a). Asana has no bulk create for any of
//     them, and its batch API counts each action against the limit.
//   - destination reads: none are needed for a new task.
func Minimum(comments, attachments int) (source, destination float64) {
	source = 1.0/100 + 1 // listing share + stories
	if attachments > 0 {
		source++ // one attachment list covers all of them
	}
	destination = 1 + float64(comments) + float64(attachments)
	return source, destination
}

// bulkPair is the setting of sections 1 and 2: two nodes under the rate
// limit and latency, Acme's bench project seeded and connected to Globex's.
type bulkPair struct {
	nodes         []*demo.Node
	acme, globex  *demo.Node
	conn          engine.Connection
	seeder        *asana.Client
	limit, tasks  int
	poll, latency time.Duration
}

// startBulkPair starts the pair and seeds tasks tasks on Acme, with the
// limit and latency off for the seeding, which isn't measured.
func startBulkPair(ctx context.Context, cfg Config, dir string, tasks int) (*bulkPair, error) {
	cfg.progress("bulk sync: starting two nodes (rate limit %d/min, latency %v)", cfg.RateLimit, cfg.Latency)
	nodes, err := demo.Pair(ctx, dir, func(s *demo.Spec) {
		s.Sandbox = []sandbox.Option{sandbox.WithRateLimit(cfg.RateLimit), sandbox.WithLatency(cfg.Latency)}
		s.RequestsPerMinute = cfg.RateLimit
		s.Poll = cfg.Poll
	})
	if err != nil {
		return nil, err
	}
	p := &bulkPair{nodes: nodes, acme: nodes[0], globex: nodes[1], limit: cfg.RateLimit, tasks: tasks,
		poll: cfg.Poll, latency: cfg.Latency}
	if p.poll == 0 {
		p.poll = engine.DefaultPoll
	}
	cfg.progress("bulk sync: seeding %d tasks on %s (limit off)", tasks, p.acme.Name)
	p.acme.Sandbox.SetRateLimit(0)
	p.acme.Sandbox.SetLatency(0)
	if p.seeder, err = unthrottled(p.acme); err == nil {
		err = seed(ctx, p.seeder, p.acme, tasks, true)
	}
	if err != nil {
		p.close()
		return nil, err
	}
	p.acme.Sandbox.SetRateLimit(cfg.RateLimit)
	p.acme.Sandbox.SetLatency(cfg.Latency)
	if p.conn, err = connect(ctx, p.acme, p.globex); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *bulkPair) close() {
	for _, n := range p.nodes {
		n.Close()
	}
}

// runBulk is section 1 on p. It also returns the twinned tasks (Acme's
// ids), for section 2.
func runBulk(ctx context.Context, cfg Config, p *bulkPair) (Bulk, []string, error) {
	acme, globex, conn := p.acme, p.globex, p.conn
	cfg.progress("bulk sync: Bulk Exalate %s → %s", acme.Name, globex.Name)
	srcBefore, dstBefore := acme.Client.Stats(), globex.Client.Stats()
	srcReq, dstReq := acme.Sandbox.Requests(), globex.Sandbox.Requests()
	srcRej, dstRej := acme.Sandbox.RejectedRateLimited(), globex.Sandbox.RejectedRateLimited()
	began := time.Now()
	started, err := acme.ExalateAll(ctx, conn.ID)
	if err != nil {
		return Bulk{}, nil, fmt.Errorf("bulk exalate after %d tasks: %w", len(started), err)
	}
	done, err := waitSynced(ctx, acme, conn.ID, len(started))
	if err != nil {
		return Bulk{}, nil, err
	}
	wall := time.Since(began)
	left, err := unfinished(ctx, acme, conn.ID)
	if err != nil {
		return Bulk{}, nil, err
	}
	twins := entityIDs(started)
	b := bulkFigures(cfg, len(started), done, left, wall, acme.Client.Stats().Sub(srcBefore), globex.Client.Stats().Sub(dstBefore),
		[2]int64{acme.Sandbox.Requests() - srcReq, globex.Sandbox.Requests() - dstReq},
		[2]int64{acme.Sandbox.RejectedRateLimited() - srcRej, globex.Sandbox.RejectedRateLimited() - dstRej})
	return b, twins, nil
}

// entityIDs are the entities a Bulk Exalate started syncing, in order.
func entityIDs(started []engine.StageEvent) []string {
	ids := make([]string, len(started))
	for i, e := range started {
		ids[i] = e.EntityID
	}
	return ids
}

// bulkFigures sums up section 1 from what each side's client (or the
// proxy in front of it) counted, and what each sandbox answered and
// refused, source first.
func bulkFigures(cfg Config, tasks, done, left int, wall time.Duration, src, dst asana.Stats, requests, rejected [2]int64) Bulk {
	b := Bulk{Tasks: tasks, Synchronized: done, Unrecovered: left, WallSeconds: wall.Seconds(),
		TasksPerMinute: float64(done) / wall.Minutes()}
	minSrc, minDst := Minimum(commentsPerTask, attachmentsPerTask)
	b.Source = side(src, done, wall, cfg.RateLimit, minSrc)
	b.Destination = side(dst, done, wall, cfg.RateLimit, minDst)
	b.Source.SandboxRequests, b.Destination.SandboxRequests = requests[0], requests[1]
	b.Source.SandboxRejected429, b.Destination.SandboxRejected429 = rejected[0], rejected[1]
	b.Received429 = b.Source.Got429 + b.Destination.Got429
	b.CallsPerTask = b.Source.CallsPerTask + b.Destination.CallsPerTask
	b.MinimumCallsPerTask = minSrc + minDst
	b.CallsRatio = b.CallsPerTask / b.MinimumCallsPerTask
	// Each side has its own token and limit, so the busier side bounds
	// the rate.
	if busiest := max(b.Source.CallsPerTask, b.Destination.CallsPerTask); busiest > 0 {
		b.RateLimitBound = float64(cfg.RateLimit) / busiest
		b.BoundShare = b.TasksPerMinute / b.RateLimitBound
	}
	return b
}

// side sums up one client's requests over a sync of tasks tasks.
func side(s asana.Stats, tasks int, wall time.Duration, limit int, minimum float64) Side {
	d := Side{Reads: s.Reads, Writes: s.Writes, Downloads: s.Downloads, Retries: s.Retries, Got429: s.RateLimited,
		ByEndpoint: s.ByEndpoint, MinimumPerTask: minimum}
	if tasks > 0 {
		d.ReadsPerTask = float64(s.Reads) / float64(tasks)
		d.WritesPerTask = float64(s.Writes) / float64(tasks)
		d.CallsPerTask = d.ReadsPerTask + d.WritesPerTask
	}
	if wall > 0 {
		d.RequestsPerMinute = float64(s.Total()) / wall.Minutes()
		d.RateShare = d.RequestsPerMinute / float64(limit)
	}
	return d
}
