package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/tandem-sync/tandem/engine"
)

// WriteTable writes the report as aligned, readable text.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	p("tandem bench: %d CPUs (%s), %s, %s", r.Machine.CPUs, r.Machine.CPUModel, r.Machine.GoVersion, r.Machine.OS)
	p("connections in %s mode", r.Config.ConnectionMode.Name())
	if r.Config.Database != "" && r.Config.Database != "sqlite" {
		p("databases: one per node on %s (created for the run, dropped after)", r.Config.Database)
	}
	if r.Mode == ModeSubprocess {
		p("mode: subprocess (sandboxes as `tandem sandbox asana`, nodes as `tandem serve`; API calls counted by a proxy between each node and its sandbox)")
	}
	p("")
	if b := r.Bulk; b != nil {
		p("1. Bulk sync: %d tasks (3 comments, 1 attachment each), limit %d/min, latency %gms",
			b.Tasks, r.Config.RateLimit, r.Config.LatencyMS)
		p("  synchronized\t%d of %d (unrecovered %d)", b.Synchronized, b.Tasks, b.Unrecovered)
		p("  wall time\t%.1f s", b.WallSeconds)
		p("  tasks/min\t%.1f", b.TasksPerMinute)
		p("  \treads/task\twrites/task\tcalls/task\tminimum\treq/min\tof limit\t429s")
		for _, s := range []struct {
			name string
			s    Side
		}{{"source (Acme)", b.Source}, {"destination (Globex)", b.Destination}} {
			p("  %s\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f%%\t%d", s.name, s.s.ReadsPerTask, s.s.WritesPerTask,
				s.s.CallsPerTask, s.s.MinimumPerTask, s.s.RequestsPerMinute, 100*s.s.RateShare, s.s.Got429)
		}
		p("  calls/task, both sides\t%.2f (minimum %.2f, ratio %.2f×)", b.CallsPerTask, b.MinimumCallsPerTask, b.CallsRatio)
		p("  rate-limit bound\t%.1f tasks/min (achieved %.0f%% of it)", b.RateLimitBound, 100*b.BoundShare)
		p("  429s received\t%d (sandboxes refused %d)", b.Received429, b.Source.SandboxRejected429+b.Destination.SandboxRejected429)
		p("  calls by endpoint (source | destination)")
		for _, s := range []Side{b.Source, b.Destination} {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(s.ByEndpoint)) {
				parts = append(parts, fmt.Sprintf("%s %.2f", k, float64(s.ByEndpoint[k])/float64(max(b.Synchronized, 1))))
			}
			p("    %s", strings.Join(parts, ", "))
		}
	}
	if r.Bulk == nil {
		p("1. Bulk sync\tnot run: %s", r.NotRun["1"])
	}
	p("")
	if l := r.Latency; l != nil {
		p("2. Change latency: %d edits (one at a time, a rename on a random one of %d twins on Acme), poll %gs, latency %gms, limit %d/min",
			l.Edits, l.Twins, l.PollMS/1000, l.LatencyMS, l.RateLimit)
		p("  synchronized\t%d of %d (missed %d)", l.Synchronized, l.Edits, l.Missed)
		p("  \tp50\tp95\tp99")
		for _, q := range []struct {
			name string
			p    Percentiles
		}{{"change → Synchronized", l.Total}, {"  detection (→ Preparing)", l.Detection}, {"  pipeline (Preparing → Synchronized)", l.Pipeline}} {
			p("  %s\t%.2f s\t%.2f s\t%.2f s", q.name, q.p.P50/1000, q.p.P95/1000, q.p.P99/1000)
		}
	} else {
		p("2. Change latency\tnot run: %s", r.NotRun["2"])
	}
	p("")
	if e := r.Engine; e != nil {
		if e.Counted == "" {
			p("3. Engine overhead: %d tasks, no limit, no latency (CPU and RSS: whole process, both sandboxes included)", e.Tasks)
		} else {
			p("3. Engine overhead: %d tasks, no limit, no latency (%s)", e.Tasks, e.Counted)
		}
		p("  synchronized\t%d of %d", e.Synchronized, e.Tasks)
		p("  tasks/s\t%.1f", e.TasksPerSec)
		p("  CPU per task\t%.2f ms", e.CPUMSPerTask)
		p("  peak RSS\t%.1f MB", e.PeakRSSMB)
		for _, pr := range e.Processes {
			p("    %s (pid %d)\tCPU %.0f ms, peak RSS %.1f MB", pr.Name, pr.PID, pr.CPUMS, pr.PeakRSSMB)
		}
		for _, k := range slices.Sorted(maps.Keys(e.SQLiteBytesPer1000Twins)) {
			p("  SQLite per 1,000 twins (%s)\t%.1f MB", k, float64(e.SQLiteBytesPer1000Twins[k])/(1<<20))
		}
	} else {
		p("3. Engine overhead\tnot run: %s", r.NotRun["3"])
	}
	p("")
	if s := r.Scale; s != nil {
		if s.Counted == "" {
			p("4. Scale: %d twins on Acme (bare tasks, no limit, no latency; RSS: whole process, all sections so far)", s.Twins)
		} else {
			p("4. Scale: %d twins on Acme (bare tasks, no limit, no latency; %s)", s.Twins, s.Counted)
		}
		p("  synchronized\t%d of %d (connection list: %d synced items)", s.Synchronized, s.Twins, s.SyncedItems)
		p("  seeding, Bulk Exalate\t%.1f s, %.1f s", s.SeedSeconds, s.SyncSeconds)
		heap := "Go heap not measured: " + r.NotMeasured["scale.heap_mb"]
		if s.HeapMB != nil {
			heap = fmt.Sprintf("Go heap after GC %.1f MB", *s.HeapMB)
		}
		p("  peak RSS\t%.1f MB (now %.1f MB; %s)", s.PeakRSSMB, s.RSSMB, heap)
		p("  connections list\t%.2f ms (median of %d)", s.ConnectionsMS, s.Calls)
		p("  connection statistics\t%.2f ms (median of %d)", s.StatsMS, s.Calls)
	} else {
		p("4. Scale\tnot run: %s", r.NotRun["4"])
	}
	p("")
	for _, d := range []*Idle{r.Idle, r.IdleHooks} {
		if d == nil {
			continue
		}
		how := "polling only"
		if d.Webhooks {
			how = fmt.Sprintf("with webhooks (%d alive over both nodes; deliveries are not API calls), a safety poll every %v", d.WebhooksAlive, engine.DefaultHookPollMax)
		}
		p("5. Idle: %d connections, one project each, adaptive polling from %gs to %gs, %s; nothing watching the stage events",
			d.Connections, d.PollMS/1000, d.PollMaxMS/1000, how)
		p("  window	%.1f s measured, after %.1f s of backing off", d.WindowSeconds, d.WarmupSeconds)
		p("  calls in the window	%d source (Acme), %d destination (Globex)", d.SourceCalls, d.DestinationCalls)
		p("  calls per connection per minute	%.2f (both sides)", d.CallsPerConnectionPerMinute)
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(d.ByEndpoint)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, d.ByEndpoint[k]))
		}
		p("  calls by endpoint	%s", strings.Join(parts, ", "))
		what := "first change after idle"
		if d.Webhooks {
			what = "changes, webhooks waking"
		}
		p("  %s	%d of %d synchronized (missed %d)", what, d.Synchronized, d.Samples, d.Missed)
		p("  	p50	p95	p99")
		p("  rename → Synchronized	%.2f s	%.2f s	%.2f s", d.FirstChange.P50/1000, d.FirstChange.P95/1000, d.FirstChange.P99/1000)
		p("")
	}
	if r.Idle == nil {
		p("5. Idle\tnot run: %s", r.NotRun["5"])
		p("")
	}
	if rep := r.Replicas; rep != nil {
		p("6. Replicas: %d tasks unthrottled, Acme as 1, 2, 3 `tandem serve` replicas on one PostgreSQL database behind a round-robin proxy (its URL is the node's), Globex one process", rep.Tasks)
		p("  \tsynchronized\twall\ttasks/s\tCPU/task (all nodes)\trequests per replica (failed at the proxy)")
		for _, run := range rep.Runs {
			var served []string
			for _, n := range run.Served {
				served = append(served, fmt.Sprint(n))
			}
			perReplica := "- (no proxy in front of one)"
			if len(served) > 0 {
				perReplica = fmt.Sprintf("%s (%d)", strings.Join(served, ", "), run.ProxyFailed)
			}
			p("  %d replica(s)\t%d\t%.1f s\t%.1f\t%.2f ms\t%s", run.Replicas, run.Synchronized, run.WallSeconds, run.TasksPerSec,
				run.CPUMSPerTask, perReplica)
		}
		p("  3:1 tasks/s\t%.2f×", rep.Ratio)
		if rep.FailoverSeconds != nil {
			p("  fail-over\t%.2f s (SIGKILL of the leader → another replica's tandem_leader 1)", *rep.FailoverSeconds)
		} else {
			p("  fail-over\tnot measured: %s", rep.FailoverReason)
		}
		p("  note\t%s", rep.Note)
	} else {
		p("6. Replicas\tnot run: %s", r.NotRun["6"])
	}
	p("")
	for _, k := range slices.Sorted(maps.Keys(r.NotMeasured)) {
		if k != "scale.heap_mb" {
			p("note: %s: %s", k, r.NotMeasured[k])
		}
	}
	p("Targets")
	for _, t := range r.Targets {
		verdict, got := "NOT MET", "not measured"
		if t.Met {
			verdict = "met"
		}
		if t.Measured != nil {
			got = fmt.Sprintf("%.2f %s", *t.Measured, t.Unit)
		}
		line := fmt.Sprintf("  %s\t%s\t%s\t%s", t.Name, t.Goal, got, verdict)
		if t.Reason != "" {
			line += " (" + t.Reason + ")"
		}
		p("%s", line)
	}
	p("")
	p("total run time\t%.1f s", r.TotalSeconds)
	return tw.Flush()
}
