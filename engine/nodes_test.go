package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/api"
	"github.com/tandem-sync/tandem/internal/trackers"
)

// testNode is a real node on loopback: its own Asana sandbox, its own data
// dir, its HTTP API on a real listener.
type testNode struct {
	*engine.Node
	url      string
	asanaURL string
	token    string // the admin token from the first start
	dir      string
	// database is the node's Config.Database: "" for the SQLite file in
	// dir, or a PostgreSQL database (nodeDatabase), kept across restarts.
	database string
	clock    *clock
	sb       *sandbox.Sandbox
	srv      *api.Server
	sent     recorder  // what this node sent to other nodes
	log      logBuffer // what this node logged
	tracker  *asana.Tracker
	client   *asana.Client
	// onlyTypes, when set, narrows the tracker's types to these (the first
	// is the default), to exercise the type fallback.
	onlyTypes []string
	// mode is the mode connectedPair makes its connection in ("": Basic).
	mode engine.Mode
	// interrupt makes the first create, comment and upload succeed in the
	// tracker and then fail, as a connection cut after the request does.
	interrupt bool
	// wrap, when set, puts a tracker of the test's own in front of the
	// node's Asana tracker.
	wrap func(*asana.Tracker) engine.Tracker
	// peer, when set, wraps the transport the node reaches other nodes
	// with, to put a faulty network between nodes.
	peer func(http.RoundTripper) http.RoundTripper
	// sbAnswers counts what the sandbox answered (faults, 429s).
	sbAnswers answerCounts
	// On a node started from a tracker kind (startKindNode), kind is the
	// kind and kindSB its sandbox, whose Tracker is the node's; sb,
	// asanaURL, tracker and client are unset.
	kind   *trackers.Kind
	kindSB *trackers.Sandbox
	// sandboxOptions are the kind's emulator options (its own Option
	// type), trackerClient what its tracker's client sends requests with
	// (set by options, before the sandbox starts).
	sandboxOptions []any
	trackerClient  *http.Client
	// defaultType is the node's Config.DefaultType.
	defaultType string
	// config, when set, adjusts the node's Config before it opens.
	config func(*engine.Config)
	// progressEvery is the node's Config.ProgressEvery.
	progressEvery time.Duration
}

// interrupting is a tracker whose first write of each kind is
// applied and then reported as failed: the outcome a client can't know.
type interrupting struct {
	engine.EntityTracker
	mu   sync.Mutex
	done map[string]bool
}

func (i *interrupting) first(kind string) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.done[kind] {
		return false
	}
	i.done[kind] = true
	return true
}

var errCut = errors.New("connection cut after the request was sent (outcome unknown)")

func (i *interrupting) Create(ctx context.Context, e engine.NewEntity) (engine.Entity, error) {
	made, err := i.EntityTracker.Create(ctx, e)
	if err == nil && i.first("create") {
		return engine.Entity{}, errCut
	}
	return made, err
}

func (i *interrupting) AddComment(ctx context.Context, id, body string) (engine.Comment, error) {
	made, err := i.EntityTracker.AddComment(ctx, id, body)
	if err == nil && i.first("comment") {
		return engine.Comment{}, errCut
	}
	return made, err
}

func (i *interrupting) AddAttachment(ctx context.Context, id, name string, size int64, open func() (io.ReadCloser, error)) (engine.Attachment, error) {
	made, err := i.EntityTracker.AddAttachment(ctx, id, name, size, open)
	if err == nil && i.first("attachment") {
		return engine.Attachment{}, errCut
	}
	return made, err
}

// narrowTypes is an Asana tracker that offers fewer types than Asana does.
type narrowTypes struct {
	*asana.Tracker
	types []string
}

func (n narrowTypes) Types(context.Context, string) ([]string, string, error) {
	return n.types, n.types[0], nil
}

// et is the node's tracker, for reading what the sync wrote.
func (n *testNode) et() engine.EntityTracker {
	if n.kindSB != nil {
		return n.kindSB.Tracker.(engine.EntityTracker)
	}
	return n.tracker
}

// logBuffer collects a node's log lines, safe for the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// recorder keeps a copy of every request a node sends to another node, so
// tests can replay or alter them the way an attacker on the wire would.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, url string
	header      http.Header
	body        []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{req.Method, req.URL.String(), req.Header.Clone(), body})
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// find returns the last recorded request whose URL ends with path.
func (r *recorder) find(t *testing.T, path string) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.reqs) - 1; i >= 0; i-- {
		if strings.HasSuffix(r.reqs[i].url, path) {
			return r.reqs[i]
		}
	}
	t.Fatalf("no request to %s was sent", path)
	return recorded{}
}

// clock is a settable clock shared by a test's nodes, which read it from
// their own goroutines while the test moves it.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// set moves the clock to d from the real time.
func (c *clock) set(d time.Duration) { c.offset.Store(int64(d)) }

func ctxFor(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// startNode starts a node named name (its sandbox workspace too) on a
// fresh data dir. opts adjust the node before it starts.
func startNode(t *testing.T, name string, clk *clock, opts ...func(*testNode)) *testNode {
	t.Helper()
	sb, err := sandbox.New(sandbox.WithWorkspace(name), sandbox.WithRandSeed(int64(len(name))))
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{dir: t.TempDir(), clock: clk, sb: sb}
	n.asanaURL = n.serveSandbox(t, sb) + "/api/1.0"
	return n.begin(t, name, opts)
}

// serveSandbox serves a node's tracker sandbox, counting its answers, and
// returns its URL.
func (n *testNode) serveSandbox(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(n.sbAnswers.wrap(h))
	t.Cleanup(srv.Close)
	return srv.URL
}

// begin applies opts and starts the node, showing its log if the test
// fails.
func (n *testNode) begin(t *testing.T, name string, opts []func(*testNode)) *testNode {
	t.Helper()
	for _, o := range opts {
		o(n)
	}
	n.start(t, name)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s's log:\n%s", name, n.log.String())
		}
	})
	return n
}

// newTracker builds the node's tracker: its kind's sandbox tracker on a
// node started from a kind (the same one across restarts, as the sandbox
// is), else Asana's with the test's wrappers.
func (n *testNode) newTracker(t *testing.T) engine.Tracker {
	t.Helper()
	if n.kindSB != nil {
		if n.interrupt {
			return &interrupting{EntityTracker: n.et(), done: map[string]bool{}}
		}
		return n.kindSB.Tracker
	}
	client, err := asana.New(asana.Config{BaseURL: n.asanaURL, Token: n.sb.Token(), RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	n.client = client
	n.tracker = asana.NewTracker(client, "")
	var tracker engine.Tracker = n.tracker
	if n.onlyTypes != nil {
		tracker = narrowTypes{n.tracker, n.onlyTypes}
	}
	if n.interrupt {
		tracker = &interrupting{EntityTracker: n.tracker, done: map[string]bool{}}
	}
	if n.wrap != nil {
		tracker = n.wrap(n.tracker)
	}
	return tracker
}

// start opens the node on its data dir and serves its API. Started again
// after stop, it comes back on the same dir and the same address, as a
// restarted server would.
func (n *testNode) start(t *testing.T, name string) {
	t.Helper()
	if n.database == "" {
		n.database = nodeDatabase(t)
	}
	addr := "127.0.0.1:0"
	if n.url != "" {
		addr = strings.TrimPrefix(n.url, "http://")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	n.url = "http://" + ln.Addr().String()
	tracker := n.newTracker(t)
	var peer http.RoundTripper = &n.sent
	if n.peer != nil {
		peer = n.peer(peer)
	}
	cfg := engine.Config{DataDir: n.dir, Database: n.database, Name: name, URL: n.url,
		Tracker: tracker, Vocabularies: n.kindVocabularies(), DefaultType: n.defaultType, ProgressEvery: n.progressEvery, Now: n.clock.now, Poll: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&n.log, nil)), HTTPClient: &http.Client{Transport: peer}}
	if n.config != nil {
		n.config(&cfg)
	}
	node, err := engine.Open(ctxFor(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tok := node.AdminTokenOnce(); tok != "" {
		n.token = tok
	}
	n.Node = node
	n.srv = api.NewServer(api.New(node, slog.New(slog.NewTextHandler(&n.log, nil))), api.ServerOptions{})
	go n.srv.Serve(ln)
	t.Cleanup(n.stop)
}

func (n *testNode) stop() {
	if n.srv != nil {
		n.srv.Close()
		n.Node.Close()
		n.srv = nil
	}
}

// answerCounts counts what a sandbox answered, by status, and the
// connections it cut, so fault tests can report what they went through.
type answerCounts struct {
	mu       sync.Mutex
	byStatus map[int]int
	cut      int
	// writing counts the requests that may write (not GET or HEAD).
	writing int
}

// wrap counts h's answers.
func (c *answerCounts) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			c.mu.Lock()
			c.writing++
			c.mu.Unlock()
		}
		h.ServeHTTP(&countingWriter{ResponseWriter: w, c: c}, r)
	})
}

// writes counts the requests so far that may write to the tracker.
func (c *answerCounts) writes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writing
}

// snapshot returns the counts so far: answers by status and cut connections.
func (c *answerCounts) snapshot() (byStatus map[int]int, cut int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	byStatus = map[int]int{}
	for k, v := range c.byStatus {
		byStatus[k] = v
	}
	return byStatus, c.cut
}

// countingWriter records the status of one answer; Hijack (how the sandbox
// cuts a connection) passes through and is counted.
type countingWriter struct {
	http.ResponseWriter
	c       *answerCounts
	written bool
}

func (w *countingWriter) WriteHeader(status int) {
	if !w.written {
		w.written = true
		w.c.mu.Lock()
		if w.c.byStatus == nil {
			w.c.byStatus = map[int]int{}
		}
		w.c.byStatus[status]++
		w.c.mu.Unlock()
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

func (w *countingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijacking is not supported")
	}
	w.c.mu.Lock()
	w.c.cut++
	w.c.mu.Unlock()
	return hj.Hijack()
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
