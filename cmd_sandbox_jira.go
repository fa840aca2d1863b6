package main

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	jirasandbox "github.com/tandem-sync/tandem/connectors/jira/sandbox"
)

func newSandboxJiraCmd() *cobra.Command {
	var (
		listen, seed, site, email, token, timeZone string
		rateLimit                                  int
		latency                                    time.Duration
		faultRate                                  float64
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
			if faultRate < 0 || faultRate > 1 {
				return fmt.Errorf("--fault-rate %v is not a share between 0 and 1", faultRate)
			}
			if rateLimit < 0 {
				return fmt.Errorf("--rate-limit %d is negative; use 0 for no limit", rateLimit)
			}
			if latency < 0 {
				return fmt.Errorf("--latency %v is negative", latency)
			}
			if _, err := time.LoadLocation(timeZone); err != nil {
				return fmt.Errorf("--time-zone %q is not a time zone; give an IANA name such as Europe/Berlin", timeZone)
			}
			opts := []jirasandbox.Option{
				jirasandbox.WithSeed(seed), jirasandbox.WithSite(site), jirasandbox.WithTimeZone(timeZone),
				jirasandbox.WithRateLimit(rateLimit), jirasandbox.WithLatency(latency), jirasandbox.WithFaultRate(faultRate),
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
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listening on %s: %w (choose another with --listen)", listen, err)
			}
			base := "http://" + ln.Addr().String()
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Jira sandbox (seed %s, site %q) serving %s/rest/api/3\n", seed, site, base)
			fmt.Fprintf(w, "E-mail: %s\nToken: %s\n\n", sb.Email(), sb.Token())
			fmt.Fprintf(w, "Run a node on it:\n  tandem serve --tracker jira --jira-url %s --jira-email %s --jira-token %s\n\n", base, sb.Email(), sb.Token())
			fmt.Fprintf(w, "Try:\n  curl -u '%s:%s' '%s/rest/api/3/project/search'\n", sb.Email(), sb.Token(), base)
			for _, p := range sb.Projects() {
				fmt.Fprintf(w, "  curl -u '%s:%s' '%s/rest/api/3/search/jql?jql=project=%s&fields=summary'   # %s\n", sb.Email(), sb.Token(), base, p.Key, p.Name)
			}
			fmt.Fprintln(w, "\nStop with ctrl+c.")
			return serve(cmd.Context(), ln, sb)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8092", "address to listen on (port 0 picks a free one)")
	f.StringVar(&seed, "seed", "demo", "initial data: demo (projects KAN and OPS with issues) or empty")
	f.StringVar(&site, "site", "Globex", "name of the Jira site")
	f.StringVar(&email, "email", "", "the account e-mail to accept (default: admin@<site>.example)")
	f.StringVar(&token, "token", "", "the API token to accept (default: a random one, printed)")
	f.StringVar(&timeZone, "time-zone", "UTC", "the account's time zone, in which JQL dates are read")
	f.IntVar(&rateLimit, "rate-limit", 0, "requests per minute before 429 + Retry-After (0 = none)")
	f.DurationVar(&latency, "latency", 0, "delay added to every answer, e.g. 50ms")
	f.Float64Var(&faultRate, "fault-rate", 0, "share of requests answered 500/503 or cut, between 0 and 1")
	return cmd
}
