package trackers

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// asanaKind is Asana: tasks in projects of a workspace.
func asanaKind() Kind {
	return Kind{
		Vocabulary: tracker.Vocabulary{Kind: "asana", Title: "Asana", Item: "task", Items: "tasks",
			RefHint: "a task id or link", Elsewhere: "in another workspace", DefaultType: asana.SubtypeDefaultTask,
			TypeAliases: map[string]string{asana.SubtypeDefaultTask: "task"}},
		Article: "an",
		Flags: []Flag{
			{Name: "asana-url", Default: asana.DefaultBaseURL, Identifies: true,
				Usage: "Asana API base `url` (a sandbox's is printed by \"tandem sandbox asana\")"},
			{Name: "asana-token", Env: "ASANA_TOKEN", Identifies: true,
				Usage: "Asana personal access token; prefer ASANA_TOKEN: a flag's value is visible to every local user in ps"},
			{Name: "asana-workspace", Identifies: true,
				Usage: "Asana workspace, by name or gid (needed when the token sees several)"},
			{Name: "asana-rate-limit", Int: true, IntDefault: asana.FreePlanPerMinute,
				Usage: "Asana requests per minute of your plan: 150 (free) or 1500 (paid)"},
		},
		StrayHint: ": add --tracker {other}",
		Check: func(v Values) error {
			if v.String("asana-token") == "" {
				return errors.New("an Asana token is required: --asana-token or ASANA_TOKEN")
			}
			return nil
		},
		New: func(v Values, o Options) (tracker.Tracker, map[string]string, error) {
			client, err := asana.New(asana.Config{BaseURL: v.String("asana-url"), Token: v.String("asana-token"),
				RequestsPerMinute: v.Int("asana-rate-limit"), Logger: o.Logger})
			if err != nil {
				return nil, nil, err
			}
			return asana.NewTracker(client, v.String("asana-workspace")),
				map[string]string{"asana_url": v.String("asana-url"), "asana_workspace": v.String("asana-workspace")}, nil
		},
		Sandbox:        asanaSandbox,
		SandboxProject: "Test",
		SandboxCommand: asanaSandboxCmd,
	}
}

// asanaSandbox serves an Asana emulator (workspace named after the node)
// and builds a client on it.
func asanaSandbox(addr string, s SandboxSpec) (*Sandbox, error) {
	opts := []sandbox.Option{sandbox.WithSeed(s.Seed), sandbox.WithWorkspace(s.Name)}
	for _, o := range s.Options {
		if o, ok := o.(sandbox.Option); ok {
			opts = append(opts, o)
		}
	}
	if s.State != nil {
		opts = append(opts, sandbox.WithState(s.State))
	}
	sb, err := sandbox.New(opts...)
	if err != nil {
		return nil, err
	}
	url := "http://" + addr + "/api/1.0"
	rpm := s.RequestsPerMinute
	if rpm == 0 {
		rpm = asana.FreePlanPerMinute
	}
	client, err := asana.New(asana.Config{BaseURL: url, Token: sb.Token(), RequestsPerMinute: rpm, Logger: s.Logger, HTTPClient: s.HTTPClient})
	if err != nil {
		return nil, err
	}
	return &Sandbox{Handler: sb, URL: url, Tracker: asana.NewTracker(client, ""),
		Settings: map[string]string{"asana_url": url}, Emulator: sb, Client: client, State: sb.State,
		Credentials: [][2]string{{"TOKEN", sb.Token()}},
		ListItems: func(prefix, project string) string {
			for _, p := range sb.Projects() {
				if p.Name == project {
					return fmt.Sprintf(`curl -H "Authorization: Bearer $%s_TOKEN" "$%s_SANDBOX_URL/projects/%s/tasks"`, prefix, prefix, p.GID)
				}
			}
			return ""
		}}, nil
}

// asanaSandboxCmd is `tandem sandbox asana`.
func asanaSandboxCmd(serve Serve) *cobra.Command {
	var (
		k                      Knobs
		seed, workspace, token string
		extraProjects          int
		hookHeartbeat          time.Duration
		hookRetryBase          time.Duration
		hookDeletion           time.Duration
	)
	cmd := &cobra.Command{
		Use:   "asana",
		Short: "Serve an in-memory emulator of the Asana REST API",
		Long: `Serve an in-memory emulator of the Asana REST API under /api/1.0, following
Asana's official OpenAPI document: the same endpoints, envelopes, errors,
rate limits and Events API. Point tandem (or curl) at the URL it prints, with
the token it prints. Everything lives in memory and is gone when it stops.

Webhooks are delivered as Asana delivers them (the X-Hook-Secret handshake,
signed and batched deliveries, retries, heartbeats), except that http:// and
loopback targets are accepted; --webhook-* shorten Asana's timings to test a
receiver.`,
		Example: `  tandem sandbox asana --seed demo
  tandem sandbox asana --listen 127.0.0.1:9000 --rate-limit 150 --latency 50ms --fault-rate 0.1
  tandem sandbox asana --webhook-heartbeat 1m --webhook-deletion-window 2m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := k.Check(); err != nil {
				return err
			}
			if extraProjects < 0 {
				return fmt.Errorf("--extra-projects %d is negative: give 0 or more", extraProjects)
			}
			for _, d := range []struct {
				flag string
				v    time.Duration
			}{{"--webhook-heartbeat", hookHeartbeat}, {"--webhook-retry-base", hookRetryBase}, {"--webhook-deletion-window", hookDeletion}} {
				if d.v <= 0 {
					return fmt.Errorf("%s %v must be positive", d.flag, d.v)
				}
			}
			opts := []sandbox.Option{
				sandbox.WithSeed(seed), sandbox.WithWorkspace(workspace),
				sandbox.WithRateLimit(k.RateLimit), sandbox.WithLatency(k.Latency), sandbox.WithFaultRate(k.FaultRate),
				sandbox.WithExtraProjects(extraProjects),
				sandbox.WithWebhookHeartbeat(hookHeartbeat), sandbox.WithWebhookRetryBase(hookRetryBase),
				sandbox.WithWebhookDeletionWindow(hookDeletion),
			}
			if token != "" {
				opts = append(opts, sandbox.WithToken(token))
			}
			sb, err := sandbox.New(opts...)
			if err != nil {
				return err
			}
			defer sb.Close()
			ln, err := k.ListenOn()
			if err != nil {
				return err
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
	k.Register(f, "127.0.0.1:8091", "150 free plan, 1500 paid; 0 = none")
	f.StringVar(&seed, "seed", "demo", "initial data: demo (projects Company and Test with tasks) or empty")
	f.StringVar(&workspace, "workspace", "Acme", "name of the workspace")
	f.IntVar(&extraProjects, "extra-projects", 0, "also make this many empty projects (\"Extra project 1\"...), as tandem bench's idle section does")
	f.StringVar(&token, "token", "", "the personal access token to accept (default: a random one, printed)")
	f.DurationVar(&hookHeartbeat, "webhook-heartbeat", sandbox.DefaultWebhookHeartbeat, "interval between webhook heartbeats (Asana: 8h)")
	f.DurationVar(&hookRetryBase, "webhook-retry-base", sandbox.DefaultWebhookRetryBase, "first wait after a failed webhook delivery, doubled on each further failure")
	f.DurationVar(&hookDeletion, "webhook-deletion-window", sandbox.DefaultWebhookDeletionWindow, "how long deliveries may fail before the webhook is deleted (Asana: 24h)")
	return cmd
}
