package main

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	jirasandbox "github.com/tandem-sync/tandem/connectors/jira/sandbox"
)

// newSandboxCmd groups the tracker emulators.
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
		k                      sandboxKnobs
		seed, workspace, token string
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
			if err := k.check(); err != nil {
				return err
			}
			opts := []sandbox.Option{
				sandbox.WithSeed(seed), sandbox.WithWorkspace(workspace),
				sandbox.WithRateLimit(k.rateLimit), sandbox.WithLatency(k.latency), sandbox.WithFaultRate(k.faultRate),
			}
			if token != "" {
				opts = append(opts, sandbox.WithToken(token))
			}
			sb, err := sandbox.New(opts...)
			if err != nil {
				return err
			}
			ln, err := k.listenOn()
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
	k.register(f, "127.0.0.1:8091", "150 free plan, 1500 paid; 0 = none")
	f.StringVar(&seed, "seed", "demo", "initial data: demo (projects Company and Test with tasks) or empty")
	f.StringVar(&workspace, "workspace", "Acme", "name of the workspace")
	f.StringVar(&token, "token", "", "the personal access token to accept (default: a random one, printed)")
	return cmd
}

// sandboxKnobs are the flags every tracker emulator takes: where to
// listen, and the limit, latency and faults that make it feel remote.
type sandboxKnobs struct {
	listen    string
	rateLimit int
	latency   time.Duration
	faultRate float64
}

func (k *sandboxKnobs) register(f *pflag.FlagSet, listen, limits string) {
	f.StringVar(&k.listen, "listen", listen, "address to listen on (port 0 picks a free one)")
	f.IntVar(&k.rateLimit, "rate-limit", 0, "requests per minute before 429 + Retry-After ("+limits+")")
	f.DurationVar(&k.latency, "latency", 0, "delay added to every answer, e.g. 50ms")
	f.Float64Var(&k.faultRate, "fault-rate", 0, "share of requests answered 500/503 or cut, between 0 and 1")
}

func (k *sandboxKnobs) check() error {
	switch {
	case k.faultRate < 0 || k.faultRate > 1 || k.faultRate != k.faultRate:
		return fmt.Errorf("--fault-rate %v is not a share between 0 and 1", k.faultRate)
	case k.rateLimit < 0:
		return fmt.Errorf("--rate-limit %d is negative; use 0 for no limit", k.rateLimit)
	case k.latency < 0:
		return fmt.Errorf("--latency %v is negative", k.latency)
	}
	return nil
}

func (k *sandboxKnobs) listenOn() (net.Listener, error) {
	ln, err := net.Listen("tcp", k.listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w (choose another with --listen)", k.listen, err)
	}
	return ln, nil
}

func newSandboxJiraCmd() *cobra.Command {
	var (
		k                                  sandboxKnobs
		seed, site, email, token, timeZone string
	)
	cmd := &cobra.Command{
		Use:   "jira",
		Short: "Serve an in-memory emulator of the Jira Cloud REST API",
		Long: `Serve an in-memory emulator of the Jira Cloud REST API v3 under /rest/api/3,
following Atlassian's official OpenAPI document: the same endpoints, error
bodies, JQL search with nextPageToken, comments in Atlassian Document Format,
attachments and rate limits. Point tandem (or curl) at the site URL it prints,
with the e-mail and API token it prints. Everything lives in memory and is
gone when it stops.`,
		Example: `  tandem sandbox jira --seed demo
  tandem sandbox jira --listen 127.0.0.1:9001 --rate-limit 600 --latency 50ms --fault-rate 0.1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := k.check(); err != nil {
				return err
			}
			if _, err := time.LoadLocation(timeZone); err != nil {
				return fmt.Errorf("--time-zone %q is not a time zone; give an IANA name such as Europe/Berlin", timeZone)
			}
			opts := []jirasandbox.Option{
				jirasandbox.WithSeed(seed), jirasandbox.WithSite(site), jirasandbox.WithTimeZone(timeZone),
				jirasandbox.WithRateLimit(k.rateLimit), jirasandbox.WithLatency(k.latency), jirasandbox.WithFaultRate(k.faultRate),
			}
			if email != "" {
				opts = append(opts, jirasandbox.WithEmail(email))
			}
			if token != "" {
				opts = append(opts, jirasandbox.WithToken(token))
			}
			sb, err := jirasandbox.New(opts...)
			if err != nil {
				return err
			}
			ln, err := k.listenOn()
			if err != nil {
				return err
			}
			base := "http://" + ln.Addr().String()
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Jira sandbox (seed %s, site %q) serving %s/rest/api/3\n", seed, site, base)
			fmt.Fprintf(w, "E-mail: %s\nToken: %s\n\n", sb.Email(), sb.Token())
			fmt.Fprintf(w, "Run a node on it:\n  JIRA_TOKEN=%s tandem serve --tracker jira --jira-url %s --jira-email %s\n\n", sb.Token(), base, sb.Email())
			fmt.Fprintf(w, "Try:\n  curl -u '%s:%s' '%s/rest/api/3/project/search'\n", sb.Email(), sb.Token(), base)
			for _, p := range sb.Projects() {
				fmt.Fprintf(w, "  curl -u '%s:%s' '%s/rest/api/3/search/jql?jql=project=%s&fields=summary'   # %s\n", sb.Email(), sb.Token(), base, p.Key, p.Name)
			}
			fmt.Fprintln(w, "\nStop with ctrl+c.")
			return serve(cmd.Context(), ln, sb)
		},
	}
	f := cmd.Flags()
	k.register(f, "127.0.0.1:8092", "0 = none")
	f.StringVar(&seed, "seed", "demo", "initial data: demo (projects KAN and OPS with issues) or empty")
	f.StringVar(&site, "site", "Globex", "name of the Jira site")
	f.StringVar(&email, "email", "", "the account e-mail to accept (default: admin@<site>.example)")
	f.StringVar(&token, "token", "", "the API token to accept (default: a random one, printed)")
	f.StringVar(&timeZone, "time-zone", "UTC", "the account's time zone, in which JQL dates are read")
	return cmd
}
