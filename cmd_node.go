package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/jira"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/api"
)

// nodeFlags are the flags of a node, with their environment twins.
type nodeFlags struct {
	data, listen, url, name, tracker     string
	asanaURL, asanaToken, asanaWorkspace string
	asanaRate                            int
	jiraURL, jiraEmail, jiraToken        string
	defaultType                          string
	adminToken                           string
	poll                                 time.Duration
	progressEvery                        time.Duration
}

func newServeCmd() *cobra.Command {
	var f nodeFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run one node headless: its HTTP API for the console, other nodes and scripts",
		Long: `Run one tandem node in the foreground. It keeps its state in one SQLite file
under --data, serves the node API on --listen and fronts one tracker.

The first start creates the instance (--name is required then) and prints the
admin token once; keep it: the console and the client commands need it, and
the node stores only its hash.`,
		Example: `  ASANA_TOKEN=... tandem serve --name Acme --data ./acme --listen 127.0.0.1:7001
  ASANA_TOKEN=... tandem serve --name Acme --asana-url http://127.0.0.1:8091/api/1.0 --url http://127.0.0.1:7001
  JIRA_TOKEN=... tandem serve --name Globex --tracker jira --jira-url https://globex.atlassian.net --jira-email me@globex.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "", "data dir: the SQLite file and the node key (default: $XDG_DATA_HOME/tandem or ~/.local/share/tandem)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:7001", "address to listen on")
	fl.StringVar(&f.url, "url", "", "public base URL other nodes reach this one at (default: http://<listen address>)")
	fl.StringVar(&f.name, "name", "", "instance name other admins see, e.g. Acme (required on first start)")
	fl.StringVar(&f.tracker, "tracker", "asana", "the tracker this node fronts: asana or jira")
	fl.StringVar(&f.asanaURL, "asana-url", asana.DefaultBaseURL, "Asana API base URL (a sandbox's is printed by `tandem sandbox asana`)")
	fl.StringVar(&f.asanaToken, "asana-token", "", "Asana personal access token; prefer ASANA_TOKEN: a flag's value is visible to every local user in ps")
	fl.StringVar(&f.asanaWorkspace, "asana-workspace", "", "Asana workspace, by name or gid (needed when the token sees several)")
	fl.IntVar(&f.asanaRate, "asana-rate-limit", asana.FreePlanPerMinute, "Asana requests per minute of your plan: 150 (free) or 1500 (paid)")
	fl.StringVar(&f.jiraURL, "jira-url", "", "Jira Cloud site URL, e.g. https://globex.atlassian.net (or JIRA_URL; a sandbox's is printed by `tandem sandbox jira`)")
	fl.StringVar(&f.jiraEmail, "jira-email", "", "e-mail of the Jira account the API token belongs to (or JIRA_EMAIL)")
	fl.StringVar(&f.jiraToken, "jira-token", "", "Jira API token; prefer JIRA_TOKEN: a flag's value is visible to every local user in ps")
	fl.StringVar(&f.defaultType, "default-type", "", "type an item gets here when the other side's type has no namesake (default: Task on Jira, default_task on Asana)")
	fl.DurationVar(&f.poll, "poll", engine.DefaultPoll, "how often to ask the tracker what changed")
	fl.DurationVar(&f.progressEvery, "progress-every", engine.DefaultProgressEvery, "how often, at most, a long apply reports its progress (comments n of N) to the node that sent it")
	fl.StringVar(&f.adminToken, "admin-token", "", "admin token to set on first start instead of a generated one; prefer TANDEM_ADMIN_TOKEN: a flag's value is visible to every local user in ps")
	return cmd
}

func runServe(cmd *cobra.Command, f nodeFlags) error {
	if f.poll <= 0 {
		return fmt.Errorf("--poll %v must be positive, e.g. 2s", f.poll)
	}
	if f.progressEvery <= 0 {
		return fmt.Errorf("--progress-every %v must be positive, e.g. 1s", f.progressEvery)
	}
	if err := f.checkTracker(); err != nil {
		return err
	}
	f.adminToken = firstNonEmpty(f.adminToken, os.Getenv("TANDEM_ADMIN_TOKEN"))
	if f.data == "" {
		dir, err := defaultDataDir()
		if err != nil {
			return err
		}
		f.data = dir
	}
	if abs, err := filepath.Abs(f.data); err == nil {
		f.data = abs
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (choose another with --listen)", f.listen, err)
	}
	defer ln.Close()
	if f.url == "" {
		// A wildcard address is no URL another node can reach.
		if host, _, _ := net.SplitHostPort(ln.Addr().String()); net.ParseIP(host).IsUnspecified() {
			return fmt.Errorf("--listen %s listens on every interface: give the URL other nodes reach this one at with --url", f.listen)
		}
		f.url = "http://" + ln.Addr().String()
	}
	logger, closeLog, err := openLog(f.data)
	if err != nil {
		return err
	}
	defer closeLog()

	tracker, settings, err := f.newTracker(logger)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
	node, err := engine.Open(ctx, engine.Config{DataDir: f.data, Name: f.name, URL: f.url, Tracker: tracker,
		Settings: settings, AdminToken: f.adminToken, Logger: logger, Poll: f.poll, DefaultType: f.defaultType, ProgressEvery: f.progressEvery})
	cancel()
	if err != nil {
		return err
	}
	defer node.Close()

	w := cmd.OutOrStdout()
	info := node.Info()
	fmt.Fprintf(w, "tandem node %q (%s) serving %s\n", info.Name, info.Tracker, info.URL)
	fmt.Fprintf(w, "Data: %s (log: %s)\n", f.data, filepath.Join(f.data, logFileName))
	if tok := node.AdminTokenOnce(); tok != "" {
		fmt.Fprintf(w, "\nAdmin token (shown once, stored only as a hash; keep it):\n  %s\n\n", tok)
		fmt.Fprintf(w, "Use it with the client commands:\n  export TANDEM_NODE=%s TANDEM_ADMIN_TOKEN=%s\n\n", info.URL, tok)
	}
	fmt.Fprintln(w, "Stop with ctrl+c.")
	return api.NewServer(api.New(node, logger), api.ServerOptions{Logger: logger}).Run(cmd.Context(), ln)
}

// checkTracker checks the tracker flags (with their environment twins)
// before anything starts, so a missing credential is one line, not a
// failed start.
func (f *nodeFlags) checkTracker() error {
	switch f.tracker {
	case "asana":
		if f.jiraURL != "" || f.jiraEmail != "" || f.jiraToken != "" {
			return errors.New("--jira-url, --jira-email and --jira-token are for a Jira node: add --tracker jira")
		}
		f.asanaToken = firstNonEmpty(f.asanaToken, os.Getenv("ASANA_TOKEN"))
		if f.asanaToken == "" {
			return errors.New("an Asana token is required: --asana-token or ASANA_TOKEN")
		}
	case "jira":
		if f.asanaToken != "" || f.asanaWorkspace != "" || f.asanaURL != asana.DefaultBaseURL {
			return errors.New("--asana-url, --asana-token and --asana-workspace are for an Asana node; a Jira node takes --jira-url, --jira-email and --jira-token")
		}
		f.jiraURL = strings.TrimRight(firstNonEmpty(f.jiraURL, os.Getenv("JIRA_URL")), "/")
		f.jiraEmail = firstNonEmpty(f.jiraEmail, os.Getenv("JIRA_EMAIL"))
		f.jiraToken = firstNonEmpty(f.jiraToken, os.Getenv("JIRA_TOKEN"))
		switch {
		case f.jiraURL == "":
			return errors.New("a Jira site is required: --jira-url https://<site>.atlassian.net or JIRA_URL")
		case f.jiraEmail == "":
			return errors.New("the Jira account's e-mail is required: --jira-email or JIRA_EMAIL")
		case f.jiraToken == "":
			return errors.New("a Jira API token is required: --jira-token or JIRA_TOKEN (create one at id.atlassian.com → Security → API tokens)")
		}
		if u, err := url.Parse(f.jiraURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("--jira-url %q is not a site URL; give one like https://globex.atlassian.net", f.jiraURL)
		}
	default:
		return fmt.Errorf("--tracker %q is not supported; use asana or jira", f.tracker)
	}
	return nil
}

// newTracker builds the tracker the flags name, and the settings the node
// records about it (never a token).
func (f *nodeFlags) newTracker(logger *slog.Logger) (engine.Tracker, map[string]string, error) {
	if f.tracker == "jira" {
		client, err := jira.New(jira.Config{BaseURL: f.jiraURL, Email: f.jiraEmail, Token: f.jiraToken, Logger: logger})
		if err != nil {
			return nil, nil, err
		}
		return jira.NewTracker(client, f.defaultType), map[string]string{"jira_url": f.jiraURL, "jira_email": f.jiraEmail}, nil
	}
	client, err := asana.New(asana.Config{BaseURL: f.asanaURL, Token: f.asanaToken, RequestsPerMinute: f.asanaRate, Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	return asana.NewTracker(client, f.asanaWorkspace), map[string]string{"asana_url": f.asanaURL, "asana_workspace": f.asanaWorkspace}, nil
}

// logFileName is the node's log inside its data dir: logs never go to the
// terminal the console draws on.
const logFileName = "tandem.log"

func openLog(dir string) (*slog.Logger, func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("creating the data dir %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, logFileName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the log: %w", err)
	}
	return slog.New(slog.NewTextHandler(f, nil)), func() { f.Close() }, nil
}

func defaultDataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "tandem"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errors.New("no home directory to keep data in: pass --data DIR")
	}
	return filepath.Join(home, ".local", "share", "tandem"), nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
