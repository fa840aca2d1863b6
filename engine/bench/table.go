package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the report as aligned, readable text.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	p("tandem bench: %d CPUs (%s), %s, %s", r.Machine.CPUs, r.Machine.CPUModel, r.Machine.GoVersion, r.Machine.OS)
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
	p("")
	p("2. Change latency\tnot measured: %s", r.Latency.Reason)
	p("")
	if e := r.Engine; e != nil {
		p("3. Engine overhead: %d tasks, no limit, no latency (CPU and RSS: whole process, both sandboxes included)", e.Tasks)
		p("  synchronized\t%d of %d", e.Synchronized, e.Tasks)
		p("  tasks/s\t%.1f", e.TasksPerSec)
		p("  CPU per task\t%.2f ms", e.CPUMSPerTask)
		p("  peak RSS\t%.1f MB", e.PeakRSSMB)
		for _, k := range slices.Sorted(maps.Keys(e.SQLiteBytesPer1000Twins)) {
			p("  SQLite per 1,000 twins (%s)\t%.1f MB", k, float64(e.SQLiteBytesPer1000Twins[k])/(1<<20))
		}
	}
	p("")
	p("4. Scale (10,000 twins)\tnot measured: %s", r.Scale.Reason)
	p("")
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
