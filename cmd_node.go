package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/api"
)

// nodeFlags are the flags of a node, with their environment twins.
type nodeFlags struct {
	data, listen, url, name, tracker     string
	asanaURL, asanaToken, asanaWorkspace string
	asanaRate                            int
	adminToken                           string
	poll                                 time.Duration
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
  tandem serve --name Acme --asana-url http://127.0.0.1:8091/api/1.0 --asana-token T --url http://127.0.0.1:7001`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "", "data dir: the SQLite file and the node key (default: $XDG_DATA_HOME/tandem or ~/.local/share/tandem)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:7001", "address to listen on")
	fl.StringVar(&f.url, "url", "", "public base URL other nodes reach this one at (default: http://<listen address>)")
	fl.StringVar(&f.name, "name", "", "instance name other admins see, e.g. Acme (required on first start)")
	fl.StringVar(&f.tracker, "tracker", "asana", "the tracker this node fronts (asana)")
	fl.StringVar(&f.asanaURL, "asana-url", asana.DefaultBaseURL, "Asana API base URL (a sandbox's is printed by `tandem sandbox asana`)")
	fl.StringVar(&f.asanaToken, "asana-token", "", "Asana personal access token (or ASANA_TOKEN)")
	fl.StringVar(&f.asanaWorkspace, "asana-workspace", "", "Asana workspace, by name or gid (needed when the token sees several)")
	fl.IntVar(&f.asanaRate, "asana-rate-limit", asana.FreePlanPerMinute, "Asana requests per minute of your plan: 150 (free) or 1500 (paid)")
	fl.DurationVar(&f.poll, "poll", engine.DefaultPoll, "how often to ask the tracker what changed")
	fl.StringVar(&f.adminToken, "admin-token", "", "admin token to set on first start instead of a generated one (or TANDEM_ADMIN_TOKEN)")
	return cmd
}

func runServe(cmd *cobra.Command, f nodeFlags) error {
	if f.poll <= 0 {
		return fmt.Errorf("--poll %v must be positive, e.g. 2s", f.poll)
	}
	if f.tracker != "asana" {
		return fmt.Errorf("--tracker %q is not supported yet; use asana", f.tracker)
	}
	f.asanaToken = firstNonEmpty(f.asanaToken, os.Getenv("ASANA_TOKEN"))
	if f.asanaToken == "" {
		return errors.New("an Asana token is required: --asana-token or ASANA_TOKEN")
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

	client, err := asana.New(asana.Config{BaseURL: f.asanaURL, Token: f.asanaToken, RequestsPerMinute: f.asanaRate, Logger: logger})
	if err != nil {
		return err
	}
	tracker := asana.NewTracker(client, f.asanaWorkspace)
	ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
	node, err := engine.Open(ctx, engine.Config{DataDir: f.data, Name: f.name, URL: f.url, Tracker: tracker,
		Settings: map[string]string{"asana_url": f.asanaURL, "asana_workspace": f.asanaWorkspace}, AdminToken: f.adminToken, Logger: logger, Poll: f.poll})
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
	return serve(cmd.Context(), ln, api.New(node, logger))
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
