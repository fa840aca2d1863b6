// Package demo runs tandem nodes in one process, each in front of its own
// tracker sandbox (Asana or Jira), all on loopback: the embedded default
// (tandem demo), the console's end-to-end tests and the benchmark harness
// start their nodes with it.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/connectors/jira"
	jirasandbox "github.com/tandem-sync/tandem/connectors/jira/sandbox"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/api"
	"github.com/tandem-sync/tandem/internal/trackers"
)

// Spec describes one node to start.
type Spec struct {
	// Name is the node's name and its sandbox workspace's ("Acme").
	Name string
	// Tracker is the node's tracker kind (internal/trackers): "asana"
	// (default) or "jira".
	Tracker string
	// Project is the project the node usually works in (the console's
	// project lists start on it); "" for none.
	Project string
	// DataDir is the node's data dir; created if missing.
	DataDir string
	// Seed is the sandbox's seed data: "demo" (default) or "empty".
	Seed string
	// Sandbox holds extra Asana sandbox options (rate limit, latency,
	// faults); JiraSandbox the same for a Jira node.
	Sandbox     []sandbox.Option
	JiraSandbox []jirasandbox.Option
	// RequestsPerMinute is the tracker client's budget; 0 means Asana's
	// free plan (the Jira client's own default on Jira), negative no
	// client-side limit.
	RequestsPerMinute int
	// Poll is the node's change-detection interval (0: the default).
	Poll time.Duration
	// PollMax is the longest an idle project waits between two looks
	// (engine.Config.PollMax; 0: fixed polling at Poll).
	PollMax time.Duration
	// Webhooks has the node ask its sandbox for webhooks, which reach it
	// on loopback (engine.Config.Webhooks); off, it polls.
	Webhooks bool
	// Logger gets the node's log lines; nil discards them.
	Logger *slog.Logger
	// Now is the node's clock; nil means time.Now.
	Now func() time.Time
	// Addr and SandboxAddr are where the node and its sandbox listen;
	// "" picks a free loopback port. A resumed demo gives the earlier
	// ones, since the other node knows this one by its URL.
	Addr, SandboxAddr string
	// AdminToken is the node's admin token on its first start ("" makes
	// a random one); a resumed node keeps the one it has, which this
	// must then be, for Node.AdminToken.
	AdminToken string
	// StateFile, if set, keeps the sandbox's data between runs: it is
	// loaded at Start when it exists, and written at Start and at Close.
	StateFile string
}

// Node is a running node with its sandbox.
type Node struct {
	*engine.Node
	// Name and URL are the node's; Project is the Spec's.
	Name    string
	URL     string
	Project string
	// AdminToken is the node's admin token (known because the node was
	// created here).
	AdminToken string
	// Tracker is "asana" or "jira".
	Tracker string
	// SandboxURL is the tracker's API base URL (Asana's /api/1.0 root, or
	// the Jira site).
	SandboxURL string
	// Emulator is the tracker's emulator, of its kind's own type.
	Emulator any
	// Sandbox and Client are an Asana node's sandbox and client (nil on
	// Jira); Jira and JiraClient a Jira node's.
	Sandbox    *sandbox.Sandbox
	Client     *asana.Client
	Jira       *jirasandbox.Sandbox
	JiraClient *jira.Client

	// Credentials and ListItems are the sandbox's, for demo.env
	// (trackers.Sandbox).
	Credentials [][2]string
	ListItems   func(prefix, project string) string

	sbSrv     *http.Server
	sbAddr    string
	nodeSrv   *api.Server
	state     func() ([]byte, error)
	stateFile string
}

// Start starts a sandbox and a node in front of it, both listening on
// loopback ports of their own.
func Start(ctx context.Context, s Spec) (*Node, error) {
	if s.Name == "" || s.DataDir == "" {
		return nil, errors.New("demo: a node needs a name and a data dir")
	}
	if s.Seed == "" {
		s.Seed = "demo"
	}
	logger := s.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{Name: s.Name, Project: s.Project, Tracker: s.Tracker}
	if n.Tracker == "" {
		n.Tracker = "asana"
	}
	sbLn, err := listen(s.SandboxAddr)
	if err != nil {
		return nil, fmt.Errorf("the %s sandbox: %w", s.Name, err)
	}
	sb, err := n.startSandbox(sbLn, s, logger)
	if err != nil {
		sbLn.Close()
		n.Close()
		return nil, fmt.Errorf("the %s sandbox: %w", s.Name, err)
	}
	ln, err := listen(s.Addr)
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("the %s node: %w", s.Name, err)
	}
	n.URL = "http://" + ln.Addr().String()
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		ln.Close()
		n.Close()
		return nil, fmt.Errorf("creating %s: %w", s.DataDir, err)
	}
	node, err := engine.Open(ctx, engine.Config{DataDir: s.DataDir, Name: s.Name, URL: n.URL,
		Tracker: sb.Tracker, Settings: sb.Settings, Vocabularies: trackers.Vocabularies(),
		Logger: logger.With("node", s.Name), Poll: s.Poll, PollMax: s.PollMax, Webhooks: s.Webhooks, Now: s.Now, AdminToken: s.AdminToken})
	if err != nil {
		ln.Close()
		n.Close()
		return nil, fmt.Errorf("starting the %s node: %w", s.Name, err)
	}
	n.Node = node
	n.AdminToken = node.AdminTokenOnce()
	if n.AdminToken == "" {
		n.AdminToken = s.AdminToken
	}
	if err := n.saveState(); err != nil {
		n.Close()
		return nil, err
	}
	n.nodeSrv = api.NewServer(api.New(node, logger.With("node", s.Name)), api.ServerOptions{Logger: logger.With("node", s.Name)})
	go n.nodeSrv.Serve(ln)
	return n, nil
}

// startSandbox serves the emulator of the node's tracker kind on ln and
// builds the node's tracker on it.
func (n *Node) startSandbox(ln net.Listener, s Spec, logger *slog.Logger) (*trackers.Sandbox, error) {
	kind, ok := trackers.Find(n.Tracker)
	if !ok {
		return nil, fmt.Errorf("unknown tracker %q (want %s)", s.Tracker, trackers.Names())
	}
	var opts []any
	for _, o := range s.Sandbox {
		opts = append(opts, o)
	}
	for _, o := range s.JiraSandbox {
		opts = append(opts, o)
	}
	var state []byte
	if s.StateFile != "" {
		b, err := os.ReadFile(s.StateFile)
		switch {
		case err == nil:
			state = b
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("reading its saved data: %w", err)
		}
	}
	sb, err := kind.Sandbox(ln.Addr().String(), trackers.SandboxSpec{Name: s.Name, Seed: s.Seed,
		RequestsPerMinute: s.RequestsPerMinute, Logger: logger, Options: opts, State: state})
	if err != nil {
		if state != nil {
			return nil, fmt.Errorf("starting from its saved data %s: %w", s.StateFile, err)
		}
		return nil, err
	}
	n.state, n.stateFile = sb.State, s.StateFile
	n.Credentials, n.ListItems = sb.Credentials, sb.ListItems
	n.SandboxURL = sb.URL
	// The typed handles tests and the bench seed and inspect the emulator
	// with; a kind without one here is reached through Emulator.
	n.Emulator = sb.Emulator
	n.Sandbox, _ = sb.Emulator.(*sandbox.Sandbox)
	n.Client, _ = sb.Client.(*asana.Client)
	n.Jira, _ = sb.Emulator.(*jirasandbox.Sandbox)
	n.JiraClient, _ = sb.Client.(*jira.Client)
	n.sbAddr = ln.Addr().String()
	n.sbSrv = newServer(sb.Handler)
	go n.sbSrv.Serve(ln)
	return sb, nil
}

// newServer serves a tracker sandbox; the node itself is served by
// api.NewServer.
func newServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
}

// Close stops the node, then its sandbox, and saves the sandbox's data
// when the Spec named a StateFile.
func (n *Node) Close() error {
	var errs []error
	if n.nodeSrv != nil {
		errs = append(errs, n.nodeSrv.Close())
	}
	if n.Node != nil {
		errs = append(errs, n.Node.Close())
	}
	if n.sbSrv != nil {
		errs = append(errs, n.sbSrv.Close())
		errs = append(errs, n.saveState())
	}
	if n.Sandbox != nil {
		errs = append(errs, n.Sandbox.Close()) // its webhook deliveries stop
	}
	return errors.Join(errs...)
}

// saveState writes the sandbox's data to the state file, if there is one:
// whole or not at all (a temporary file renamed over it), readable by the
// user alone since it holds the sandbox's token.
func (n *Node) saveState() error {
	if n.stateFile == "" || n.state == nil {
		return nil
	}
	b, err := n.state()
	if err != nil {
		return fmt.Errorf("saving the %s sandbox: %w", n.Name, err)
	}
	if err := writeFileAtomic(n.stateFile, b); err != nil {
		return fmt.Errorf("saving the %s sandbox: %w", n.Name, err)
	}
	return nil
}

// listen listens on addr, or on a free loopback port when addr is "".
func listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	return net.Listen("tcp", addr)
}

// Pair starts two Asana nodes under dir (one sub-dir each): Acme, working
// in its Company project, and Globex in its Test project. On error nothing
// is left running.
func Pair(ctx context.Context, dir string, tune func(*Spec)) ([]*Node, error) {
	return start(ctx, dir, tune, Spec{Name: "Acme", Project: "Company"}, Spec{Name: "Globex", Project: "Test"})
}

// Mixed starts the demo's two nodes under dir: Acme on Asana, working in
// its Company project, and Globex on Jira, working in its KAN project.
// This is what tandem demo runs.
func Mixed(ctx context.Context, dir string, tune func(*Spec)) ([]*Node, error) {
	return start(ctx, dir, tune, mixed()...)
}

// mixed are the specs of the demo's two nodes (Mixed, Kept).
func mixed() []Spec {
	return []Spec{{Name: "Acme", Project: "Company"}, {Name: "Globex", Tracker: "jira", Project: "KAN"}}
}

func start(ctx context.Context, dir string, tune func(*Spec), specs ...Spec) ([]*Node, error) {
	var nodes []*Node
	for _, s := range specs {
		s.DataDir = filepath.Join(dir, s.Name)
		if tune != nil {
			tune(&s)
		}
		n, err := Start(ctx, s)
		if err != nil {
			for _, m := range nodes {
				m.Close()
			}
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}
