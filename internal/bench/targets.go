package bench

import (
	"fmt"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

// Target is one of the targets and whether the run met it.
// Measured is nil for a target this run couldn't measure; Reason says why.
type Target struct {
	Name     string   `json:"name"`
	Goal     string   `json:"goal"`
	Measured *float64 `json:"measured"`
	Unit     string   `json:"unit,omitempty"`
	Met      bool     `json:"met"`
	Reason   string   `json:"reason,omitempty"`
}

// targets judges a report against the targets.
func targets(r Report) []Target {
	var ts []Target
	measured := func(name, goal, unit string, v float64, met bool) {
		ts = append(ts, Target{Name: name, Goal: goal, Measured: &v, Unit: unit, Met: met})
	}
	missing := func(name, goal, unit, reason string) {
		ts = append(ts, Target{Name: name, Goal: goal, Unit: unit, Reason: reason})
	}
	if b := r.Bulk; b != nil {
		measured("api_calls_per_task", fmt.Sprintf("≤ 1.1× the minimum (%.2f calls per task)", b.MinimumCallsPerTask),
			"× minimum", b.CallsRatio, b.CallsRatio <= 1.1)
		measured("bulk_rate_limit_share", "≥ 0.90 of the rate-limit bound (limit ÷ calls per task)",
			"× bound", b.BoundShare, b.BoundShare >= 0.9)
		measured("bulk_unrecovered_429s", "0 syncs left unfinished after 429s", "syncs", float64(b.Unrecovered), b.Unrecovered == 0)
	} else {
		missing("api_calls_per_task", "≤ 1.1× the minimum", "× minimum", "section 1 did not run")
		missing("bulk_rate_limit_share", "≥ 0.90 of the rate-limit bound", "× bound", "section 1 did not run")
		missing("bulk_unrecovered_429s", "0 syncs left unfinished after 429s", "syncs", "section 1 did not run")
	}
	latencyGoal := "≤ poll interval + 1 s at 50 ms API latency"
	if l := r.Latency; l != nil && l.Synchronized > 0 {
		limit := l.PollMS/1000 + 1
		goal := fmt.Sprintf("%s (%.1f s at poll %.1f s; run at %g ms latency)", latencyGoal, limit, l.PollMS/1000, l.LatencyMS)
		met := l.Total.P95/1000 <= limit && l.LatencyMS >= 50 && l.Missed == 0
		measured("change_latency_p95", goal, "s", l.Total.P95/1000, met)
	} else if l != nil {
		missing("change_latency_p95", latencyGoal, "s", "section 2: no edit reached Synchronized")
	} else {
		missing("change_latency_p95", latencyGoal, "s", "section 2 did not run")
	}
	if e := r.Engine; e != nil {
		measured("engine_tasks_per_second", "≥ 500 tasks/s unthrottled", "tasks/s", e.TasksPerSec, e.TasksPerSec >= 500)
		measured("engine_cpu_ms_per_task", "≤ 2 ms CPU per task unthrottled", "ms", e.CPUMSPerTask, e.CPUMSPerTask <= 2)
	} else {
		missing("engine_tasks_per_second", "≥ 500 tasks/s unthrottled", "tasks/s", "section 3 did not run")
		missing("engine_cpu_ms_per_task", "≤ 2 ms CPU per task unthrottled", "ms", "section 3 did not run")
	}
	rssGoal := "≤ 150 MB at 10,000 twins"
	if sc := r.Scale; sc != nil {
		goal := rssGoal
		if sc.Twins != 10000 {
			goal += fmt.Sprintf(" (this run: %d twins)", sc.Twins)
		}
		measured("peak_rss_10000_twins", goal, "MB", sc.PeakRSSMB,
			sc.PeakRSSMB <= 150 && sc.Twins >= 10000 && sc.Synchronized >= 10000)
	} else {
		missing("peak_rss_10000_twins", rssGoal, "MB", "section 4 did not run")
	}
	idleGoal := "≤ 4 calls per connection per minute, polling only (10 connections)"
	firstGoal := "≤ poll-max + 2 s, polling only"
	if d := r.Idle; d != nil {
		goal := idleGoal
		if d.Connections != 10 {
			goal += fmt.Sprintf(" (this run: %d connections)", d.Connections)
		}
		goal += fmt.Sprintf(" (poll-max %g s, window %.0f s after %.0f s of backing off)", d.PollMaxMS/1000, d.WindowSeconds, d.WarmupSeconds)
		measured("idle_calls_per_connection_per_minute_polling", goal, "calls/min",
			d.CallsPerConnectionPerMinute, d.CallsPerConnectionPerMinute <= 4 && d.Connections >= 10)
		limit := d.PollMaxMS/1000 + 2
		goal = fmt.Sprintf("%s (%.1f s; %d samples, each on a project idle %.0f s or more, not 10 minutes)",
			firstGoal, limit, d.Samples, d.WarmupSeconds+d.WindowSeconds)
		if d.Synchronized > 0 {
			measured("first_change_after_idle_p95_polling", goal, "s", d.FirstChange.P95/1000,
				d.FirstChange.P95/1000 <= limit && d.Missed == 0)
		} else {
			missing("first_change_after_idle_p95_polling", goal, "s", "section 5: no first change reached Synchronized")
		}
	} else {
		missing("idle_calls_per_connection_per_minute_polling", idleGoal, "calls/min", "section 5 did not run")
		missing("first_change_after_idle_p95_polling", firstGoal, "s", "section 5 did not run")
	}
	hookIdleGoal := "≤ 1 call per connection per minute, webhooks"
	hookChangeGoal := "≤ 1.5 s change → Synchronized p95, webhooks"
	if d := r.IdleHooks; d != nil {
		// Webhooks that never came alive measure polling, not them.
		alive := d.WebhooksAlive >= 2*d.Connections
		// The window is shorter than the safety poll and the check: by
		// design a connection's two ends spend one poll each per
		// HookPollMax and one check each per HookCheck.
		steady := 2 * (time.Minute.Seconds()/engine.DefaultHookPollMax.Seconds() + time.Minute.Seconds()/engine.DefaultHookCheck.Seconds())
		note := fmt.Sprintf(" (%d connections, %d webhooks alive of %d; window %.0f s after %.0f s; a safety poll every %v and a check every %v: %.1f calls/min by design, outside a short window; deliveries are not API calls)",
			d.Connections, d.WebhooksAlive, 2*d.Connections, d.WindowSeconds, d.WarmupSeconds, engine.DefaultHookPollMax, engine.DefaultHookCheck, steady)
		measured("idle_calls_per_connection_per_minute_webhooks", hookIdleGoal+note, "calls/min",
			d.CallsPerConnectionPerMinute, d.CallsPerConnectionPerMinute <= 1 && alive)
		goal := fmt.Sprintf("%s (%d edits, each on a project idle since the warm-up or its last edit; poll-max %g s)",
			hookChangeGoal, d.Samples, d.PollMaxMS/1000)
		if d.Synchronized > 0 {
			measured("change_latency_p95_webhooks", goal, "s", d.FirstChange.P95/1000,
				d.FirstChange.P95/1000 <= 1.5 && d.Missed == 0 && alive)
		} else {
			missing("change_latency_p95_webhooks", goal, "s", "section 5: no change reached Synchronized")
		}
	} else {
		missing("idle_calls_per_connection_per_minute_webhooks", hookIdleGoal, "calls/min", "section 5 did not run")
		missing("change_latency_p95_webhooks", hookChangeGoal, "s", "section 5 did not run")
	}
	ratioGoal := "≥ 2× the tasks/s of one replica with 3 replicas on one database (unthrottled)"
	failGoal := "another replica leads within 3 poll intervals of the leader's SIGKILL"
	if rep := r.Replicas; rep != nil {
		goal := ratioGoal + " (" + rep.Note + ")"
		measured("replicas_throughput_3_to_1", goal, "×", rep.Ratio, rep.Ratio >= 2)
		limit := 3 * engine.DefaultPoll.Seconds()
		goal = fmt.Sprintf("%s (%.0f s at poll %v)", failGoal, limit, engine.DefaultPoll)
		if f := rep.FailoverSeconds; f != nil {
			measured("replicas_failover_seconds", goal, "s", *f, *f <= limit)
		} else {
			missing("replicas_failover_seconds", goal, "s", rep.FailoverReason)
		}
	} else {
		missing("replicas_throughput_3_to_1", ratioGoal, "×", "section 6 did not run")
		missing("replicas_failover_seconds", failGoal, "s", "section 6 did not run")
	}
	return ts
}
