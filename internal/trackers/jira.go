package trackers

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/connectors/jira"
	jirasandbox "github.com/tandem-sync/tandem/connectors/jira/sandbox"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// jiraKind is Jira Cloud: issues in projects of a site.
func jiraKind() Kind {
	return Kind{
		Vocabulary: tracker.Vocabulary{Kind: "jira", Title: "Jira", Item: "issue", Items: "issues",
			RefHint: "an issue key or link", Elsewhere: "on another site", DefaultType: "Task"},
		Article: "a",
		Flags: []Flag{
			{Name: "jira-url", Env: "JIRA_URL", Identifies: true,
				Usage: "Jira Cloud site `url`, e.g. https://globex.atlassian.net (or JIRA_URL; a sandbox's is printed by \"tandem sandbox jira\")"},
			{Name: "jira-email", Env: "JIRA_EMAIL", Identifies: true,
				Usage: "e-mail of the Jira account the API token belongs to (or JIRA_EMAIL)"},
			{Name: "jira-token", Env: "JIRA_TOKEN", Identifies: true,
				Usage: "Jira API token; prefer JIRA_TOKEN: a flag's value is visible to every local user in ps"},
		},
		StrayHint: "; a Jira node takes {own}",
		Check:     checkJira,
		New: func(v Values, o Options) (tracker.Tracker, map[string]string, error) {
			client, err := jira.New(jira.Config{BaseURL: v.String("jira-url"), Email: v.String("jira-email"), Token: v.String("jira-token"), Logger: o.Logger})
			if err != nil {
				return nil, nil, err
			}
			return jira.NewTracker(client, o.DefaultType),
				map[string]string{"jira_url": v.String("jira-url"), "jira_email": v.String("jira-email")}, nil
		},
		Sandbox:        jiraSandbox,
		SandboxProject: "KAN",
		SandboxCommand: jiraSandboxCmd,
	}
}

// checkJira wants a site, an account and its token, the site as a URL.
func checkJira(v Values) error {
	v.Set("jira-url", strings.TrimRight(v.String("jira-url"), "/"))
	switch {
	case v.String("jira-url") == "":
		return errors.New("a Jira site is required: --jira-url https://<site>.atlassian.net or JIRA_URL")
	case v.String("jira-email") == "":
		return errors.New("the Jira account's e-mail is required: --jira-email or JIRA_EMAIL")
	case v.String("jira-token") == "":
		return errors.New("a Jira API token is required: --jira-token or JIRA_TOKEN (create one at id.atlassian.com → Security → API tokens)")
	}
	if u, err := url.Parse(v.String("jira-url")); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("--jira-url %q is not a site URL; give one like https://globex.atlassian.net", v.String("jira-url"))
	}
	return nil
}

// jiraSandbox serves a Jira emulator (site named after the node) and
// builds a client on it.
func jiraSandbox(addr string, s SandboxSpec) (*Sandbox, error) {
	opts := []jirasandbox.Option{jirasandbox.WithSeed(s.Seed), jirasandbox.WithSite(s.Name)}
	for _, o := range s.Options {
		if o, ok := o.(jirasandbox.Option); ok {
			opts = append(opts, o)
		}
	}
	if s.State != nil {
		opts = append(opts, jirasandbox.WithState(s.State))
	}
	sb, err := jirasandbox.New(opts...)
	if err != nil {
		return nil, err
	}
	url := "http://" + addr
	client, err := jira.New(jira.Config{BaseURL: url, Email: sb.Email(), Token: sb.Token(), RequestsPerMinute: s.RequestsPerMinute, Logger: s.Logger, HTTPClient: s.HTTPClient})
	if err != nil {
		return nil, err
	}
	return &Sandbox{Handler: sb, URL: url, Tracker: jira.NewTracker(client, ""),
		Settings: map[string]string{"jira_url": url, "jira_email": sb.Email()}, Emulator: sb, Client: client, State: sb.State,
		Credentials: [][2]string{{"EMAIL", sb.Email()}, {"TOKEN", sb.Token()}},
		ListItems: func(prefix, project string) string {
			for _, p := range sb.Projects() {
				if p.Key == project || p.Name == project {
					return fmt.Sprintf(`curl -u "$%s_EMAIL:$%s_TOKEN" "$%s_SANDBOX_URL/rest/api/3/search/jql?jql=project%%3D%s&fields=summary"`, prefix, prefix, prefix, p.Key)
				}
			}
			return ""
		}}, nil
}

// jiraSandboxCmd is `tandem sandbox jira`.
func jiraSandboxCmd(serve Serve) *cobra.Command {
	var (
		k                                  Knobs
		seed, site, email, token, timeZone string
		searchLag                          time.Duration
	)
	cmd := &cobra.Command{
		Use:   "jira",
		Short: "Serve an in-memory emulator of the Jira Cloud REST API",
		Long: `Serve an in-memory emulator of the Jira Cloud REST API v3 under /rest/api/3,
following Atlassian's official OpenAPI document: the same endpoints, error
bodies, JQL search with nextPageToken, comments in Atlassian Document Format,
attachments and rate limits. Point tandem (or curl) at the site URL it prints,
with the e-mail and API token it prints. Everything lives in memory and is
gone when it stops.

Jira's search is eventually consistent: with --search-lag, a write shows in
/search/jql only once the lag has passed (until then a search finds the issue
as it was, or not at all), unless the issue's id is in reconcileIssues.`,
		Example: `  tandem sandbox jira --seed demo
  tandem sandbox jira --listen 127.0.0.1:9001 --rate-limit 600 --latency 50ms --fault-rate 0.1
  tandem sandbox jira --search-lag 5s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := k.Check(); err != nil {
				return err
			}
			if _, err := time.LoadLocation(timeZone); err != nil {
				return fmt.Errorf("--time-zone %q is not a time zone; give an IANA name such as Europe/Berlin", timeZone)
			}
			if searchLag < 0 {
				return fmt.Errorf("--search-lag %v is negative; give a duration such as 5s, or 0 for a search that sees every write at once", searchLag)
			}
			opts := []jirasandbox.Option{
				jirasandbox.WithSeed(seed), jirasandbox.WithSite(site), jirasandbox.WithTimeZone(timeZone),
				jirasandbox.WithRateLimit(k.RateLimit), jirasandbox.WithLatency(k.Latency), jirasandbox.WithFaultRate(k.FaultRate),
				jirasandbox.WithSearchLag(searchLag),
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
			ln, err := k.ListenOn()
			if err != nil {
				return err
			}
			base := "http://" + ln.Addr().String()
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Jira sandbox (seed %s, site %q) serving %s/rest/api/3\n", seed, site, base)
			fmt.Fprintf(w, "E-mail: %s\nToken: %s\n", sb.Email(), sb.Token())
			if searchLag > 0 {
				fmt.Fprintf(w, "Search lag: %v (a write shows in /search/jql that long after it)\n", searchLag)
			}
			fmt.Fprintln(w)
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
	k.Register(f, "127.0.0.1:8092", "0 = none")
	f.StringVar(&seed, "seed", "demo", "initial data: demo (projects KAN and OPS with issues) or empty")
	f.StringVar(&site, "site", "Globex", "name of the Jira site")
	f.StringVar(&email, "email", "", "the account e-mail to accept (default: admin@<site>.example)")
	f.StringVar(&token, "token", "", "the API token to accept (default: a random one, printed)")
	f.StringVar(&timeZone, "time-zone", "UTC", "the account's time zone, in which JQL dates are read")
	f.DurationVar(&searchLag, "search-lag", 0, "how long a write takes to show in JQL search, as Jira's index lags (e.g. 5s; 0 = at once)")
	return cmd
}
