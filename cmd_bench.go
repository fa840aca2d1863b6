package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/engine/bench"
)

// newBenchCmd wires `tandem bench` to the harness in engine/bench.
func newBenchCmd() *cobra.Command {
	def := bench.Defaults()
	var (
		cfg             = def
		asJSON, quick   bool
		cpuProfile, dir string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run the benchmark harness: bulk sync under a rate limit, engine overhead (table, or --json)",
		Long: `Run two nodes, each in front of its own in-process Asana sandbox on loopback,
and measure: a Bulk Exalate of --tasks tasks (3 comments and 1 attachment
each) under --rate-limit and --latency, with API calls per task against the
Basic rules' minimum; then the engine's own cost with no limit and no
latency. The report ends with the targets of issue 6, met or not.
Progress goes to stderr.`,
		Example: `  tandem bench
  tandem bench --quick --json
  tandem bench --tasks 100 --rate-limit 150 --cpuprofile engine.pprof`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if quick {
				q := bench.Quick()
				for name, apply := range map[string]func(){
					"tasks": func() { q.Tasks = cfg.Tasks }, "rate-limit": func() { q.RateLimit = cfg.RateLimit },
					"latency": func() { q.Latency = cfg.Latency }, "engine-tasks": func() { q.EngineTasks = cfg.EngineTasks },
				} {
					if cmd.Flags().Changed(name) {
						apply()
					}
				}
				cfg = q
			}
			cfg.Dir = dir
			cfg.Progress = func(line string) { fmt.Fprintln(cmd.ErrOrStderr(), "bench:", line) }
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return fmt.Errorf("creating the CPU profile: %w", err)
				}
				defer f.Close()
				cfg.CPUProfile = f
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
	f.BoolVar(&asJSON, "json", false, "print the report as JSON (with a top-level targets array)")
	f.BoolVar(&quick, "quick", false, "a small fast run (10 tasks, no latency, a limit too high to bind); flags given still apply")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the engine-overhead run to this file (for go tool pprof)")
	f.StringVar(&dir, "data", "", "keep the nodes' data dirs here (default: a temporary dir, removed)")
	return cmd
}
