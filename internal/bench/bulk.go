package bench

import (
	"context"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
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

// runBulk is section 1 on p, seeded and connected on connID. It also
// returns the twinned tasks (the source's ids), for section 2.
func runBulk(ctx context.Context, cfg Config, p pair, connID string) (Bulk, []string, error) {
	src, dst := p.names()
	cfg.progress("bulk sync: Bulk Exalate %s → %s", src, dst)
	before := p.apiUse()
	started, done, wall, err := exalate(ctx, p, connID)
	if err != nil {
		return Bulk{}, nil, err
	}
	use := p.apiUse().since(before)
	left, err := p.unfinished(ctx, connID)
	if err != nil {
		return Bulk{}, nil, err
	}
	return bulkFigures(cfg, started.Started, done, left, wall, use), entityIDs(started.Events), nil
}

// entityIDs are the entities a Bulk Exalate started syncing, in order.
func entityIDs(started []engine.StageEvent) []string {
	ids := make([]string, len(started))
	for i, e := range started {
		ids[i] = e.EntityID
	}
	return ids
}

// bulkFigures sums up section 1 from the API use over the sync.
func bulkFigures(cfg Config, tasks, done, left int, wall time.Duration, use apiUse) Bulk {
	b := Bulk{Tasks: tasks, Synchronized: done, Unrecovered: left, WallSeconds: wall.Seconds(),
		TasksPerMinute: float64(done) / wall.Minutes()}
	minSrc, minDst := Minimum(commentsPerTask, attachmentsPerTask)
	b.Source = side(use.stats[0], done, wall, cfg.RateLimit, minSrc)
	b.Destination = side(use.stats[1], done, wall, cfg.RateLimit, minDst)
	b.Source.SandboxRequests, b.Destination.SandboxRequests = use.requests[0], use.requests[1]
	b.Source.SandboxRejected429, b.Destination.SandboxRejected429 = use.rejected[0], use.rejected[1]
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
