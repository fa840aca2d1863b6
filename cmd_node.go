package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/api"
	"github.com/tandem-sync/tandem/internal/heapprof"
	"github.com/tandem-sync/tandem/internal/trackers"
)

// nodeFlags are the flags of a node, with their environment twins.
type nodeFlags struct {
	data, listen, url, name, tracker string
	// database is --database (or TANDEM_DATABASE): a SQLite file or a
	// postgres:// URL; "" for the SQLite file under data.
	database string
	// databaseFrom is where database came from, for messages:
	// "--database" or "TANDEM_DATABASE".
	databaseFrom string
	// kinds are every tracker kind's flags (internal/trackers).
	kinds         trackers.Values
	defaultType   string
	adminToken    string
	poll, pollMax time.Duration
	webhooks      bool
	progressEvery time.Duration
	// memprofile, if set, is where the node keeps a heap profile taken
	// at its Go heap's peak (internal/heapprof); off by default.
	memprofile string
}

func newServeCmd() *cobra.Command {
	var f nodeFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run one node headless: its HTTP API for the console, other nodes and scripts",
		Long: `Run one tandem node in the foreground. It keeps its state in one SQLite file
under --data, or in the PostgreSQL database --database names, serves the node
API on --listen and fronts one tracker. --data holds the node key and the log
either way.

The first start creates the instance (--name is required then) and prints the
admin token once; keep it: the console and the client commands need it, and
the node stores only its hash.

TANDEM_CPUPROFILE=DIR writes a CPU profile of the node, from its start until
it stops, to DIR/<data dir's name>.cpu.pprof (for go tool pprof).`,
		Example: `  ASANA_TOKEN=... tandem serve --name Acme --data ./acme --listen 127.0.0.1:7001
  ASANA_TOKEN=... tandem serve --name Acme --asana-url http://127.0.0.1:8091/api/1.0 --url http://127.0.0.1:7001
  JIRA_TOKEN=... tandem serve --name Globex --tracker jira --jira-url https://globex.atlassian.net --jira-email me@globex.com
  TANDEM_DATABASE=postgres://tandem:PASSWORD@db.acme.internal:5432/tandem ASANA_TOKEN=... tandem serve --name Acme --data ./acme`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "", "data dir: the node key, the log and, without --database, the SQLite file (default: $XDG_DATA_HOME/tandem or ~/.local/share/tandem)")
	fl.StringVar(&f.database, "database", "", "the node's database: a SQLite file, or a PostgreSQL database's URL, postgres://USER:PASSWORD@HOST:PORT/DATABASE, which must exist (or TANDEM_DATABASE; prefer it for a URL with a password: a flag's value is visible to every local user in ps; default: tandem.db under --data)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:7001", "address to listen on")
	fl.StringVar(&f.url, "url", "", "public base URL other nodes reach this one at (default: http://<listen address>)")
	fl.StringVar(&f.name, "name", "", "instance name other admins see, e.g. Acme (required on first start)")
	fl.StringVar(&f.tracker, "tracker", "asana", "the tracker this node fronts: "+trackers.Names())
	f.kinds = trackers.Register(fl)
	fl.StringVar(&f.defaultType, "default-type", "", "type an item gets here when the other side's type has no namesake (default: Task on Jira, default_task on Asana)")
	fl.DurationVar(&f.poll, "poll", engine.DefaultPoll, "how often to ask the tracker what changed")
	fl.DurationVar(&f.pollMax, "poll-max", engine.DefaultPollMax, "how seldom, at most, to ask about a project where nothing changes: its interval doubles from --poll after each look that sees no change (or TANDEM_POLL_MAX)")
	fl.BoolVar(&f.webhooks, "webhooks", true, "ask the tracker to call this node back on a change (Asana webhooks; the tracker must reach --url over HTTPS), polling each project only every 5 minutes as a safety net; without them, or where the tracker can't reach --url, the node polls")
	fl.DurationVar(&f.progressEvery, "progress-every", engine.DefaultProgressEvery, "how often, at most, a long apply reports its progress (comments n of N) to the node that sent it")
	fl.StringVar(&f.memprofile, "memprofile", "", "keep a heap profile of this process in this file, rewritten at each new peak of its Go heap (for go tool pprof: allocation sites and sizes, no data); off by default")
	fl.StringVar(&f.adminToken, "admin-token", "", "admin token to set on first start instead of a generated one; prefer TANDEM_ADMIN_TOKEN: a flag's value is visible to every local user in ps")
	return cmd
}

func runServe(cmd *cobra.Command, f nodeFlags) error {
	if f.poll <= 0 {
		return fmt.Errorf("--poll %v must be positive, e.g. 2s", f.poll)
	}
	if err := f.checkPollMax(cmd); err != nil {
		return err
	}
	if f.progressEvery <= 0 {
		return fmt.Errorf("--progress-every %v must be positive, e.g. 1s", f.progressEvery)
	}
	kind, err := trackers.Check(f.tracker, f.kinds)
	if err != nil {
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
	if err := f.checkDatabase(); err != nil {
		return err
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
	stopProfile, err := startCPUProfile(f.data)
	if err != nil {
		return err
	}
	defer stopProfile()
	if f.memprofile != "" {
		heap := heapprof.Watch(f.memprofile)
		defer func() {
			if err := heap.Stop(); err != nil {
				logger.Warn("the heap profile was not written", "err", err)
			}
		}()
	}

	// The tracker, and the settings the node records about it (never a
	// token).
	tracker, settings, err := kind.New(f.kinds, trackers.Options{Logger: logger, DefaultType: f.defaultType})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
	node, err := engine.Open(ctx, engine.Config{DataDir: f.data, Database: f.database, Name: f.name, URL: f.url, Tracker: tracker,
		Settings: settings, Vocabularies: trackers.Vocabularies(), AdminToken: f.adminToken, Logger: logger, Poll: f.poll, PollMax: f.pollMax, Webhooks: f.webhooks, DefaultType: f.defaultType, ProgressEvery: f.progressEvery})
	cancel()
	if err != nil {
		return f.databaseHint(err)
	}
	defer node.Close()

	w := cmd.OutOrStdout()
	info := node.Info()
	fmt.Fprintf(w, "tandem node %q (%s) serving %s\n", info.Name, info.Tracker, info.URL)
	if addr := "http://" + ln.Addr().String(); addr != info.URL {
		// A replica behind a load balancer: its own address, for probes
		// and for `tandem bench`'s replicas section.
		fmt.Fprintf(w, "Listening on %s\n", addr)
	}
	fmt.Fprintf(w, "Data: %s (log: %s)\n", f.data, filepath.Join(f.data, logFileName))
	if f.database != "" {
		fmt.Fprintf(w, "Database: %s\n", f.databaseName())
	}
	if tok := node.AdminTokenOnce(); tok != "" {
		fmt.Fprintf(w, "\nAdmin token (shown once, stored only as a hash; keep it):\n  %s\n\n", tok)
		fmt.Fprintf(w, "Use it with the client commands:\n  export TANDEM_NODE=%s TANDEM_ADMIN_TOKEN=%s\n\n", info.URL, tok)
	}
	fmt.Fprintln(w, "Stop with ctrl+c.")
	return api.NewServer(api.New(node, logger), api.ServerOptions{Logger: logger}).Run(cmd.Context(), ln)
}

// startCPUProfile profiles the node's CPU until it stops when
// TANDEM_CPUPROFILE names a directory (off when unset): the profile goes to
// <dir>/<data dir's base name>.cpu.pprof, for go tool pprof. It is how
// `tandem bench --subprocess` sees the engine alone, without the sandboxes
// and the harness.
func startCPUProfile(data string) (func(), error) {
	dir := os.Getenv("TANDEM_CPUPROFILE")
	if dir == "" {
		return func() {}, nil
	}
	f, err := os.Create(filepath.Join(dir, filepath.Base(data)+".cpu.pprof"))
	if err != nil {
		return nil, fmt.Errorf("TANDEM_CPUPROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("TANDEM_CPUPROFILE: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
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

// checkPollMax reads --poll-max, or TANDEM_POLL_MAX when the flag is not
// given, and checks it against --poll. The default below a long --poll
// just means no backing off.
func (f *nodeFlags) checkPollMax(cmd *cobra.Command) error {
	name := "--poll-max"
	given := cmd.Flags().Changed("poll-max")
	if env := os.Getenv("TANDEM_POLL_MAX"); !given && env != "" {
		d, err := time.ParseDuration(env)
		if err != nil {
			return fmt.Errorf("TANDEM_POLL_MAX %q is not a duration: give one like 30s", env)
		}
		name, given, f.pollMax = "TANDEM_POLL_MAX", true, d
	}
	switch {
	case f.pollMax <= 0:
		return fmt.Errorf("%s %v must be positive, e.g. 30s", name, f.pollMax)
	case given && f.pollMax < f.poll:
		return fmt.Errorf("%s %v is shorter than --poll %v: give at least --poll (equal to it: no backing off)", name, f.pollMax, f.poll)
	}
	return nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
