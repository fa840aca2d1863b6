// Command tandem keeps tasks in two work trackers in sync, both ways.
//
// main.go only wires: it parses the command line, builds the parts and runs
// them. Everything else lives in engine/, store/, connectors/ and tui/.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := newRootCmd(os.Stdout).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "tandem:", err)
		os.Exit(1)
	}
}

func newRootCmd(out io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "tandem",
		Short: "Two-way sync between work trackers (Asana and Jira Cloud)",
		Long: `tandem keeps tasks in two work trackers in sync, both ways, through a
connection between two tandem nodes, each fronting one tracker.

Start with the embedded demo (two sandbox trackers, two nodes, the console):

  tandem demo`,
		Version:       engine.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.AddCommand(newDemoCmd(), newConsoleCmd(), newServeCmd(), newSandboxCmd(), newConnectionsCmd(),
		newInviteCmd(), newAcceptCmd(), newConnectCmd(), newExalateCmd(), newStatusCmd(), newBenchCmd())
	return root
}

// newDemoCmd reserves the README's first command until the console lands,
// and says so instead of pretending.
func newSandboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run a tracker emulator on its own (for trying things, tests and benchmarks)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newSandboxAsanaCmd(), newSandboxJiraCmd())
	return cmd
}

func newSandboxAsanaCmd() *cobra.Command {
	var (
		listen, seed, workspace, token string
		rateLimit                      int
		latency                        time.Duration
		faultRate                      float64
	)
	cmd := &cobra.Command{
		Use:   "asana",
		Short: "Serve an in-memory emulator of the Asana REST API",
		Long: `Serve an in-memory emulator of the Asana REST API under /api/1.0, following
Asana's official OpenAPI document: the same endpoints, envelopes, errors,
rate limits and Events API. Point tandem (or curl) at the URL it prints, with
the token it prints. Everything lives in memory and is gone when it stops.`,
		Example: `  tandem sandbox asana --seed demo
  tandem sandbox asana --listen 127.0.0.1:9000 --rate-limit 150 --latency 50ms --fault-rate 0.1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if faultRate < 0 || faultRate > 1 {
				return fmt.Errorf("--fault-rate %v is not a share between 0 and 1", faultRate)
			}
			if rateLimit < 0 {
				return fmt.Errorf("--rate-limit %d is negative; use 0 for no limit", rateLimit)
			}
			if latency < 0 {
				return fmt.Errorf("--latency %v is negative", latency)
			}
			opts := []sandbox.Option{
				sandbox.WithSeed(seed), sandbox.WithWorkspace(workspace),
				sandbox.WithRateLimit(rateLimit), sandbox.WithLatency(latency), sandbox.WithFaultRate(faultRate),
			}
			if token != "" {
				opts = append(opts, sandbox.WithToken(token))
			}
			sb, err := sandbox.New(opts...)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listening on %s: %w (choose another with --listen)", listen, err)
			}
			base := "http://" + ln.Addr().String() + "/api/1.0"
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Asana sandbox (seed %s, workspace %q) serving %s\n", seed, workspace, base)
			fmt.Fprintf(w, "Token: %s\n\n", sb.Token())
			fmt.Fprintf(w, "Try:\n  curl -H 'Authorization: Bearer %s' '%s/workspaces'\n", sb.Token(), base)
			for _, p := range sb.Projects() {
				fmt.Fprintf(w, "  curl -H 'Authorization: Bearer %s' '%s/projects/%s/tasks'   # %s\n", sb.Token(), base, p.GID, p.Name)
			}
			fmt.Fprintln(w, "\nStop with ctrl+c.")
			return serve(cmd.Context(), ln, sb)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8091", "address to listen on (port 0 picks a free one)")
	f.StringVar(&seed, "seed", "demo", "initial data: demo (projects Company and Test with tasks) or empty")
	f.StringVar(&workspace, "workspace", "Acme", "name of the workspace")
	f.StringVar(&token, "token", "", "the personal access token to accept (default: a random one, printed)")
	f.IntVar(&rateLimit, "rate-limit", 0, "requests per minute before 429 + Retry-After (150 free plan, 1500 paid; 0 = none)")
	f.DurationVar(&latency, "latency", 0, "delay added to every answer, e.g. 50ms")
	f.Float64Var(&faultRate, "fault-rate", 0, "share of requests answered 500/503 or cut, between 0 and 1")
	return cmd
}

// serve runs h on ln until ctx ends, then gives in-flight requests a few
// seconds to finish.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	// No WriteTimeout: attachment downloads and event streams run long.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
