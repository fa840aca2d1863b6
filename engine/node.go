package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-sync/tandem/engine/tracker"
	"github.com/tandem-sync/tandem/store"
)

// Product and Version are what a node reports about itself; another node
// refuses to connect to something that is not tandem or not compatible.
const (
	Product = "tandem"
	Version = "0.1.0-dev"
	// APIVersion is the version of the node-to-node protocol. Nodes with
	// the same APIVersion can connect.
	APIVersion = 1
)

// dbFileName is the node's SQLite file inside its data dir.
const dbFileName = "tandem.db"

// Config configures a node.
type Config struct {
	// DataDir holds the attachments in transit and, unless Database says
	// otherwise, the SQLite file and the node key; created 0700.
	DataDir string
	// Database is the node's database: a SQLite file's path or a
	// postgres:// URL (store.Open takes either); "" means the SQLite file
	// in DataDir. On PostgreSQL it is shared by the node's replicas, each
	// with a DataDir of its own, and holds the node key (loadNodeKey).
	Database string
	// Name is the instance name other admins see ("Acme"). Required on
	// first start; later starts may rename.
	Name string
	// URL is the node's public base URL, how other nodes reach it.
	URL string
	// Tracker is the tracker this node fronts.
	Tracker Tracker
	// Settings are the tracker settings to record (never a token).
	Settings map[string]string
	// AdminToken, if set on first start, becomes the admin token instead
	// of a generated one (for scripted setups); later starts ignore it.
	AdminToken string
	// HTTPClient reaches other nodes; default one with timeouts. The node
	// uses a copy that follows no redirect.
	HTTPClient *http.Client
	// Logger gets the node's log lines; default: discard.
	Logger *slog.Logger
	// Now is the clock; default time.Now. Tests move it.
	Now func() time.Time
	// DefaultType is the type an item gets here when the other side's type
	// has no namesake in its project ("" for the tracker's default: Task
	// on Jira, default_task on Asana). A name the project lacks is ignored.
	DefaultType string
	// Vocabularies are the words of every tracker kind this build knows
	// (internal/trackers.Vocabularies): the node's own goes into its
	// Instance for the console, and the type aliases of all of them match
	// a peer's type names with this side's (Asana's default_task is a
	// Task). Without them a node still syncs, but names types literally.
	Vocabularies []Vocabulary
	// Poll is how often the node asks its tracker what changed; 0 means
	// DefaultPoll, a negative value turns change detection off.
	Poll time.Duration
	// PollMax is the longest an idle project waits between two looks:
	// each look that sees no change doubles its interval from Poll up to
	// PollMax (see schedule). 0, or anything not above Poll, means every
	// project is looked at every Poll.
	PollMax time.Duration
	// Webhooks has the node ask its tracker to call it back on a change,
	// where the tracker can (tracker.Webhooks) and reach URL, polling
	// each such project only as a safety net (see webhooks.go). Off, the
	// node polls.
	Webhooks bool
	// HookPollMax is the longest a project whose webhook is alive waits
	// between two looks; 0 means DefaultHookPollMax. HookCheck is how
	// long a webhook may stay quiet before the node asks the tracker
	// whether it is still there, HookRetry how long the node polls after
	// a webhook could not be established; 0 means DefaultHookCheck,
	// DefaultHookRetry. Tests shorten them.
	HookPollMax, HookCheck, HookRetry time.Duration
	// AttachmentBudget bounds the bytes of attachments in transit (their
	// temporary files in DataDir) at once; 0 means DefaultAttachmentBudget.
	AttachmentBudget int64
	// MinFreeDisk is the free space DataDir's filesystem must keep: below
	// it no attachment is copied and /healthz says the disk is full; 0
	// means DefaultMinFreeDisk.
	MinFreeDisk int64
	// FreeSpace measures the free space of the filesystem holding a dir;
	// default statfs. Tests simulate a full disk with it.
	FreeSpace func(dir string) (uint64, error)
	// ProgressEvery is how often, at most, the node reports the progress
	// of a long apply (comments n of N) to its own listeners and to the
	// source node; an apply shorter than that reports nothing. 0 means
	// DefaultProgressEvery, a negative value turns reports off.
	ProgressEvery time.Duration
	// Rules are Basic mode's rules: they map an item's fields on their
	// way out and in; nil means Basic. Tests give a node rules of their
	// own with it.
	Rules Rules
	// Modes puts rules of the caller's own in place of a mode's (a test's
	// stand-in), besides Basic; a mode mapped to nil is turned off (a node
	// as an older tandem is). Without an entry, Script mode runs each
	// connection's published scripts (scripts.go). The node advertises the
	// modes it supports (Instance.Modes) and accepts invitations in them;
	// a connection's rules are its mode's (see rulesFor, connRules).
	Modes map[Mode]Rules
}

// Node is one tandem instance: its store, its tracker and its connections.
// It is thin over its parts, each holding only what it needs: the
// connections and invitations (connections), the pipeline (pipeline), the
// peer protocol (peering) and statistics (statistics), all four embedded
// so their methods are the node's, and change detection (detector). What
// is left here is the instance itself: opening and closing the node, its
// description, its admin token, its health.
type Node struct {
	*peering
	*statistics
	*connections
	*pipeline

	cfg   Config
	st    *store.Store
	box   *secretBox
	http  *http.Client
	log   *slog.Logger
	now   func() time.Time
	inst  store.Instance
	first string // the admin token, set only on the first start

	disk     *diskGuard
	detector *detector
	hooks    *hooks // nil without webhooks
}

// Open starts a node on its data dir: it checks the tracker's credentials,
// opens the store and, on first start, creates the instance and its admin
// token (AdminTokenOnce returns it, once).
func Open(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Tracker == nil {
		return nil, errors.New("engine: a tracker is required")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("engine: a data dir is required (--data)")
	}
	base, err := NormalizeURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("engine: the node's --url: %w", err)
	}
	cfg.URL = base
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rules == nil {
		cfg.Rules = Basic{}
	}
	n := &Node{cfg: cfg, http: peerClient(cfg.HTTPClient), log: cfg.Logger, now: cfg.Now}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if _, err := cfg.Tracker.Check(ctx); err != nil {
		return nil, fmt.Errorf("engine: checking the %s credentials: %w", cfg.Tracker.Kind(), err)
	}
	// A data dir the node creates is 0700. One that exists is the user's
	// (it may be their home): its mode is left alone, and the files the
	// node keeps in it are 0600 either way.
	if fi, err := os.Stat(cfg.DataDir); err == nil {
		if !fi.IsDir() {
			return nil, fmt.Errorf("engine: the data dir %s is a file", cfg.DataDir)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			n.log.Warn("the data dir is readable by others; its files are not", "dir", cfg.DataDir, "mode", fi.Mode().Perm().String())
		}
	} else if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("engine: creating the data dir: %w", err)
	}
	n.disk = newDiskGuard(cfg)
	if removed, err := n.disk.removeLeftoverParts(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	} else if removed > 0 {
		n.log.Info("removed the attachments in transit an earlier run left behind", "files", removed)
	}
	database := cfg.Database
	if database == "" {
		database = filepath.Join(cfg.DataDir, dbFileName)
	}
	if n.st, err = store.Open(ctx, database); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	if n.box, err = loadNodeKey(ctx, n.st, cfg.DataDir, n.now()); err != nil {
		n.st.Close()
		return nil, fmt.Errorf("engine: %w", err)
	}
	if err := n.loadInstance(ctx); err != nil {
		n.st.Close()
		return nil, err
	}
	n.peering = &peering{st: n.st, box: n.box, http: n.http, now: n.now, disk: n.disk}
	n.connections = &connections{peering: n.peering, st: n.st, box: n.box, log: n.log, now: n.now, inst: n.inst,
		tracker: cfg.Tracker, rules: cfg.Rules, modes: cfg.Modes, info: n.Info,
		scripts: &scriptBook{st: n.st, now: n.now, compiled: map[string]*scriptRules{}}}
	if uf, ok := cfg.Tracker.(tracker.UserFinder); ok {
		n.connections.scripts.users = uf
	}
	n.pipeline = &pipeline{peering: n.peering, st: n.st, log: n.log, now: n.now, inst: n.inst, tracker: cfg.Tracker,
		words: n.vocabulary(), types: tracker.NewTypeNames(cfg.Vocabularies...), defaultType: cfg.DefaultType, progressEvery: cfg.ProgressEvery,
		findConnection: n.connections.findConnection, connRules: n.connections.connRules, disk: n.disk}
	// The node's replicas (if it has several) see one another's locks and
	// applies; a node of one process keeps them in memory alone.
	shared := newSharedLocks(n.st)
	n.pipeline.writing = writeLocks{shared: shared, prefix: "write/"}
	n.pipeline.applies = writeLocks{shared: shared, prefix: "apply/"}
	n.pipeline.bulks = bulkRunners{shared: shared}
	n.pipeline.applying = applyingSet{shared: shared}
	n.statistics = &statistics{st: n.st, connection: n.connections.findConnection, node: n.inst.Name}
	// Listening before any job runs: on PostgreSQL a stage is published
	// only when the database relays it, this replica's own too.
	n.pipeline.startRelay(ctx)
	if err := n.startWorkers(); err != nil {
		n.pipeline.stopRelay()
		n.st.Close()
		return nil, fmt.Errorf("engine: %w", err)
	}
	n.connections.river = n.pipeline.river
	if cfg.Poll >= 0 {
		every := cfg.Poll
		if every == 0 {
			every = DefaultPoll
		}
		n.startDetector(every, max(cfg.PollMax, every))
	}
	return n, nil
}

func (n *Node) loadInstance(ctx context.Context) error {
	inst, err := n.st.Instance(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if strings.TrimSpace(n.cfg.Name) == "" {
			return errors.New("engine: first start needs an instance name (--name)")
		}
		if err := CheckInstanceName(n.cfg.Name); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
		inst = store.Instance{ID: uuid.NewString(), Name: n.cfg.Name, URL: n.cfg.URL,
			Tracker: n.cfg.Tracker.Kind(), Settings: n.cfg.Settings, CreatedAt: n.now().UTC()}
		token := n.cfg.AdminToken
		if token == "" {
			token = newToken("tdm_admin_")
			n.first = token
		} else if len(token) < 16 {
			return errors.New("engine: an admin token must be at least 16 characters")
		}
		if err := n.st.CreateInstance(ctx, inst, hashToken(token)); err != nil {
			return fmt.Errorf("engine: creating the instance: %w", err)
		}
	case err != nil:
		return fmt.Errorf("engine: reading the instance: %w", err)
	default:
		if inst.Tracker != n.cfg.Tracker.Kind() {
			return fmt.Errorf("engine: this data dir belongs to a %s node; start it with --tracker %s or use another --data", inst.Tracker, inst.Tracker)
		}
		changed := false
		if name := strings.TrimSpace(n.cfg.Name); name != "" && name != inst.Name {
			if err := CheckInstanceName(name); err != nil {
				return fmt.Errorf("engine: %w", err)
			}
			inst.Name, changed = name, true
		}
		if n.cfg.URL != inst.URL {
			inst.URL, changed = n.cfg.URL, true
		}
		if n.cfg.Settings != nil {
			inst.Settings, changed = n.cfg.Settings, true
		}
		if changed {
			if err := n.st.UpdateInstance(ctx, inst); err != nil {
				return fmt.Errorf("engine: updating the instance: %w", err)
			}
		}
	}
	n.inst = inst
	return nil
}

// Close stops the node's workers and closes its store.
func (n *Node) Close() error {
	if n.hooks != nil {
		n.hooks.close()
	}
	if n.detector != nil {
		n.detector.stop()
		n.detector.running.Wait()
	}
	n.stopWorkers()
	n.pipeline.stopRelay()
	return n.st.Close()
}

// AdminTokenOnce returns the admin token generated on this node's first
// start, and "" on every later start (it is stored only as a hash) or when
// the token was given in Config.
func (n *Node) AdminTokenOnce() string { return n.first }

// Info is the node's public description.
func (n *Node) Info() Instance {
	return Instance{ID: n.inst.ID, Name: n.inst.Name, Product: Product, Version: Version, APIVersion: APIVersion,
		Tracker: n.inst.Tracker, URL: n.inst.URL, Modes: n.supportedModes(), Vocabulary: n.vocabulary()}
}

// vocabulary is the node's tracker's words, from Config.Vocabularies.
func (n *Node) vocabulary() Vocabulary {
	for _, v := range n.cfg.Vocabularies {
		if v.Kind == n.inst.Tracker {
			return v
		}
	}
	return Vocabulary{}
}

// ErrAdminToken is a missing or wrong admin token.
var ErrAdminToken = errors.New("the admin token is missing or wrong")

// CheckAdminToken reports whether token is this node's admin token.
func (n *Node) CheckAdminToken(ctx context.Context, token string) bool {
	return n.VerifyAdminToken(ctx, token) == nil
}

// VerifyAdminToken checks token against this node's admin token: nil when
// it is, ErrAdminToken when it is not, and any other error when the check
// itself could not be made (the request was cancelled, the store failed),
// which says nothing about the token.
func (n *Node) VerifyAdminToken(ctx context.Context, token string) error {
	if token == "" {
		return ErrAdminToken
	}
	ok, err := n.st.AdminTokenValid(ctx, hashToken(token))
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("checking the admin token: %w", ctx.Err())
		}
		return fmt.Errorf("%w: checking the admin token: %w", ErrStoreFailed, err)
	}
	if !ok {
		return ErrAdminToken
	}
	return nil
}

// Projects lists the projects of the node's tracker.
func (n *Node) Projects(ctx context.Context) ([]Project, error) {
	return n.cfg.Tracker.Projects(ctx)
}

// Store is the node's store, for the HTTP layer's health check and tests.
func (n *Node) Store() *store.Store { return n.st }

// peerClient is the client the node reaches other nodes with: c (or one
// with a timeout) that follows no redirect. The URL a connection was made
// with is the only place its signed traffic goes; a peer answering 307
// would otherwise have Go re-send the body and the signature headers to
// any host it names.
func peerClient(c *http.Client) *http.Client {
	hc := &http.Client{Timeout: 30 * time.Second}
	if c != nil {
		copied := *c
		hc = &copied
	}
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		return fmt.Errorf("%s answered with a redirect to %s, and tandem follows none between nodes (give the node's own URL)",
			via[0].URL.Host, req.URL.Redacted())
	}
	return hc
}
