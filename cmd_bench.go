package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/internal/bench"
)

// newBenchCmd wires `tandem bench` to the harness in internal/bench.
func newBenchCmd() *cobra.Command {
	def := bench.Defaults()
	var (
		cfg                                   = def
		asJSON, quick, subprocess             bool
		cpuProfile, memProfile, dir, sections string
		mode, database                        string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run the benchmark harness: bulk sync, change latency, engine overhead, scale, idle (table, or --json)",
		Long: `Run two nodes, each in front of its own in-process Asana sandbox on loopback,
and measure: a Bulk Exalate of --tasks tasks (3 comments and 1 attachment
each) under --rate-limit and --latency, with API calls per task against the
Basic rules' minimum (section 1); then --edits renames of random twins, one
at a time, timed to Synchronized (2); the engine's own cost with no limit
and no latency (3); and a node with --scale-twins twins: memory and the
time to load the connections list and statistics (4). Section 5, idle,
runs only when --sections names it (it takes about six minutes at the
defaults): --idle-connections connections, each on a project of its own,
on nodes polling adaptively from --poll up to --poll-max; nothing changes
for 2 × --poll-max (backing off) and then --idle-window, over which the
nodes' tracker calls per connection per minute are counted; then
--idle-samples renames, each on a project still idle, timed to
Synchronized (first change after idle); then all of it again with
webhooks (the sandbox calls the nodes back on loopback; the poll is a
safety net every 5 minutes), timing 3 × --idle-samples edits, each
woken by its delivery. Section 6, replicas, runs only when named, with
--subprocess and --database: section 3's sync with Acme as 1, 2 and 3
` + "`tandem serve`" + ` replicas on one PostgreSQL database behind a round-robin
proxy (the node's one URL), tasks/s each and the 3:1 ratio, then the
leader killed and the time until another replica leads. --sections picks
sections (default 1 to 4). The report ends
with the targets of issues 6 and 17, met or not. Progress goes to stderr.

With --subprocess the sandboxes run as ` + "`tandem sandbox asana`" + ` and the nodes as
` + "`tandem serve`" + ` child processes of this binary, on free loopback ports and
temporary data dirs, driven only through the admin API and the sandboxes'
HTTP; a proxy between each node and its sandbox counts the API calls, and
section 3's CPU and RSS are the node processes' own. Children's stderr goes
to log files, kept (and named) if the run fails. With --database (or
TANDEM_DATABASE) the nodes' databases are on that PostgreSQL server, one
created per node and dropped after, instead of SQLite files.`,
		Example: `  tandem bench
  tandem bench --quick --json
  tandem bench --subprocess
  tandem bench --tasks 100 --rate-limit 150 --cpuprofile engine.pprof
  tandem bench --sections 2 --edits 50
  tandem bench --sections 3 --mode script
  tandem bench --sections 5 --idle-connections 10 --idle-window 60s
  TANDEM_DATABASE=postgres://tandem:…@127.0.0.1:5432/postgres tandem bench --subprocess --sections 3,6`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if quick {
				q := bench.Quick()
				for name, apply := range map[string]func(){
					"tasks": func() { q.Tasks = cfg.Tasks }, "rate-limit": func() { q.RateLimit = cfg.RateLimit },
					"latency": func() { q.Latency = cfg.Latency }, "engine-tasks": func() { q.EngineTasks = cfg.EngineTasks },
					"edits": func() { q.Edits = cfg.Edits }, "scale-twins": func() { q.ScaleTwins = cfg.ScaleTwins },
					"poll": func() { q.Poll = cfg.Poll }, "poll-max": func() { q.PollMax = cfg.PollMax },
					"idle-connections": func() { q.IdleConnections = cfg.IdleConnections },
					"idle-window":      func() { q.IdleWindow = cfg.IdleWindow },
					"idle-samples":     func() { q.IdleSamples = cfg.IdleSamples },
				} {
					if cmd.Flags().Changed(name) {
						apply()
					}
				}
				cfg = q
			}
			if sections != "" {
				s, err := bench.ParseSections(sections)
				if err != nil {
					return err
				}
				cfg.Sections = s
			}
			m, err := adminapi.ParseMode(mode)
			if err != nil {
				return fmt.Errorf("--mode: %w", err)
			}
			cfg.Mode = m
			cfg.Database = database
			if cfg.Database == "" && subprocess {
				// Only the children read it: in process, the nodes are
				// demo nodes on SQLite whatever the environment says.
				cfg.Database = os.Getenv("TANDEM_DATABASE")
			}
			cfg.Dir = dir
			cfg.Progress = func(line string) { fmt.Fprintln(cmd.ErrOrStderr(), "bench:", line) }
			if subprocess {
				exe, err := os.Executable()
				if err != nil {
					return fmt.Errorf("finding this binary to run the children: %w", err)
				}
				cfg.Subprocess = &bench.Subprocess{Binary: exe}
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return fmt.Errorf("creating the CPU profile: %w", err)
				}
				defer f.Close()
				cfg.CPUProfile = f
			}
			if memProfile != "" {
				// Absolute: with --subprocess, a child writes it.
				if cfg.MemProfile, err = filepath.Abs(memProfile); err != nil {
					return err
				}
			}
			r, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			return r.WriteTable(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Tasks, "tasks", def.Tasks, "tasks in the bulk sync (section 1)")
	f.IntVar(&cfg.RateLimit, "rate-limit", def.RateLimit, "requests per minute: the sandboxes' limit and the nodes' client budget")
	f.DurationVar(&cfg.Latency, "latency", def.Latency, "delay added to every sandbox answer in the bulk sync")
	f.IntVar(&cfg.EngineTasks, "engine-tasks", def.EngineTasks, "tasks in the engine-overhead run (section 3)")
	f.IntVar(&cfg.Edits, "edits", def.Edits, "single-field edits timed in the change-latency run (section 2)")
	f.IntVar(&cfg.ScaleTwins, "scale-twins", def.ScaleTwins, "twins made on a node in the scale run (section 4)")
	f.DurationVar(&cfg.Poll, "poll", def.Poll, "the nodes' change-detection interval in sections 1 and 2 (0: the node's default, 2s)")
	f.IntVar(&cfg.IdleConnections, "idle-connections", def.IdleConnections, "connections, one project each, kept idle in section 5")
	f.DurationVar(&cfg.IdleWindow, "idle-window", def.IdleWindow, "how long section 5 counts the idle nodes' tracker calls (after 2 × --poll-max of backing off)")
	f.IntVar(&cfg.IdleSamples, "idle-samples", def.IdleSamples, "first changes after idle timed in section 5 (at most one per connection)")
	f.DurationVar(&cfg.PollMax, "poll-max", def.PollMax, "the longest interval of section 5's adaptive polling (0: the node's default, 30s); sections 1 to 4 poll at a fixed --poll")
	f.StringVar(&sections, "sections", "1,2,3,4", "the sections to run, e.g. 2 or 1,3; 5 (idle, polling then webhooks, about six minutes) and 6 (replicas, needs --subprocess --database) only when named")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON (with a top-level targets array)")
	f.BoolVar(&quick, "quick", false, "a small fast run (10 tasks, 5 edits at a 200ms poll, 200 twins, no latency, a limit too high to bind; idle: 3 connections, poll-max 800ms, a 3s window); flags given still apply")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the engine-overhead run to this file (for go tool pprof)")
	f.StringVar(&memProfile, "memprofile", "", "keep a heap profile in this file, taken at the Go heap's peak during the scale run's Bulk Exalate (for go tool pprof): this process's, or with --subprocess, Acme's node's")
	f.BoolVar(&subprocess, "subprocess", false, "run the sandboxes and nodes as child processes (`tandem sandbox asana`, `tandem serve`) of this binary")
	f.StringVar(&mode, "mode", "basic", "the connections' mode: basic, or script (the scripts that do what Basic does: the cost of running scripts)")
	f.StringVar(&database, "database", "", "with --subprocess, put each node on a database of its own, created for the run and dropped after, on the PostgreSQL server of this URL, postgres://USER:PASSWORD@HOST:PORT/DATABASE (a database the user may create databases from; or TANDEM_DATABASE, which keeps the password out of ps); section 6 needs it")
	f.StringVar(&dir, "data", "", "keep the nodes' data dirs here (default: a temporary dir, removed)")
	return cmd
}
