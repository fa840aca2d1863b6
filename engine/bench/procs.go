package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/remote"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/api"
)

// procNode is a `tandem serve` child in front of its own `tandem sandbox
// asana` child.
type procNode struct {
	Name    string
	dataDir string
	sandbox *child
	node    *child
	// sandboxURL is the sandbox's API base URL; the node reaches it
	// through counter when there is one.
	sandboxURL, sandboxToken string
	url, adminToken          string
	admin                    *remote.Client
	counter                  *apiCounter
}

// procSpec is how a pair of child nodes runs.
type procSpec struct {
	limit   int           // the sandboxes' requests per minute (0: none)
	latency time.Duration // added to every sandbox answer
	rpm     int           // the nodes' client budget (-1: none)
	poll    time.Duration
	// count puts an apiCounter between each node and its sandbox.
	count bool
}

// procPair is Acme and Globex as child processes.
type procPair struct {
	nodes        []*procNode
	acme, globex *procNode
}

// startProcPair starts Acme's and Globex's sandboxes and nodes under dir;
// on error nothing is left running.
func startProcPair(ctx context.Context, sp *Subprocess, dir string, spec procSpec) (*procPair, error) {
	p := &procPair{}
	for _, name := range []string{"Acme", "Globex"} {
		n, err := startProcNode(ctx, sp, name, dir, spec)
		if err != nil {
			p.close()
			return nil, err
		}
		p.nodes = append(p.nodes, n)
	}
	p.acme, p.globex = p.nodes[0], p.nodes[1]
	return p, nil
}

func startProcNode(ctx context.Context, sp *Subprocess, name, dir string, spec procSpec) (*procNode, error) {
	n := &procNode{Name: name, dataDir: filepath.Join(dir, name)}
	logDir := filepath.Join(dir, "logs")
	var err error
	n.sandbox, err = startChild(ctx, sp, name+"-sandbox", logDir, nil, func(line string) bool {
		if i := strings.Index(line, " serving "); i >= 0 && n.sandboxURL == "" {
			n.sandboxURL = strings.TrimSpace(line[i+len(" serving "):])
		}
		if tok, ok := strings.CutPrefix(line, "Token: "); ok {
			n.sandboxToken = strings.TrimSpace(tok)
		}
		return n.sandboxURL != "" && n.sandboxToken != ""
	}, "sandbox", "asana", "--listen", "127.0.0.1:0", "--seed", "demo", "--workspace", name,
		"--rate-limit", strconv.Itoa(spec.limit), "--latency", spec.latency.String())
	if err != nil {
		return nil, err
	}
	if err := n.sandbox.waitReady(ctx); err != nil {
		return nil, err
	}
	asanaURL := n.sandboxURL
	if spec.count {
		if n.counter, err = startCounter(n.sandboxURL); err != nil {
			n.close()
			return nil, fmt.Errorf("%s's request counter: %w", name, err)
		}
		asanaURL = n.counter.url
	}
	if n.adminToken, err = secret("tdm_admin_bench_"); err != nil {
		n.close()
		return nil, err
	}
	// The tokens go by environment, not argv, which other users can read.
	env := []string{"ASANA_TOKEN=" + n.sandboxToken, "TANDEM_ADMIN_TOKEN=" + n.adminToken}
	n.node, err = startChild(ctx, sp, name+"-node", logDir, env, func(line string) bool {
		if i := strings.Index(line, " serving "); i >= 0 {
			n.url = strings.TrimSpace(line[i+len(" serving "):])
			return true
		}
		return false
	}, "serve", "--name", name, "--data", n.dataDir, "--listen", "127.0.0.1:0", "--asana-url", asanaURL,
		"--asana-rate-limit", strconv.Itoa(spec.rpm), "--poll", spec.poll.String())
	if err != nil {
		n.close()
		return nil, err
	}
	if err := n.node.waitReady(ctx); err != nil {
		n.close()
		return nil, err
	}
	if n.admin, err = remote.New(n.url, n.adminToken); err == nil {
		_, err = n.admin.Instance(ctx)
	}
	if err != nil {
		n.close()
		return nil, n.node.failed(fmt.Errorf("%s's admin API at %s: %w", name, n.url, err))
	}
	return n, nil
}

// close stops the node, then its sandbox, and waits for both.
func (n *procNode) close() {
	if n.node != nil {
		n.node.stop()
	}
	if n.counter != nil {
		n.counter.close()
	}
	if n.sandbox != nil {
		n.sandbox.stop()
	}
}

func (p *procPair) close() {
	for _, n := range p.nodes {
		n.close()
	}
}

// alive reports the first of the pair's children that has exited.
func (p *procPair) alive() error {
	for _, n := range p.nodes {
		for _, c := range []*child{n.node, n.sandbox} {
			if err := c.alive(); err != nil {
				return err
			}
		}
	}
	return nil
}

// seeder is an Asana client straight on n's sandbox (not through the
// counter, so seeding and edits don't show in the node's counts), with
// budget requests per minute (-1: none).
func (n *procNode) seeder(budget int) (*asana.Client, error) {
	return asana.New(asana.Config{BaseURL: n.sandboxURL, Token: n.sandboxToken, RequestsPerMinute: budget})
}

// benchProjectGID finds the bench project in the sandbox behind c.
func benchProjectGID(ctx context.Context, c *asana.Client, name string) (string, error) {
	wss, err := c.Workspaces(ctx)
	if err != nil {
		return "", fmt.Errorf("listing %s's workspaces: %w", name, err)
	}
	for _, ws := range wss {
		ps, err := c.Projects(ctx, ws.GID)
		if err != nil {
			return "", fmt.Errorf("listing %s's projects: %w", name, err)
		}
		for _, p := range ps {
			if p.Name == benchProject {
				return p.GID, nil
			}
		}
	}
	return "", fmt.Errorf("no project %q in %s's sandbox", benchProject, name)
}

// seedProc empties and seeds n's bench project through c.
func seedProc(ctx context.Context, c *asana.Client, n *procNode, count int, full bool) error {
	project, err := benchProjectGID(ctx, c, n.Name)
	if err != nil {
		return err
	}
	return seedProject(ctx, c, n.Name, project, count, full)
}

// connectProc links src's bench project to dst's through src's admin API.
func connectProc(ctx context.Context, src, dst *procNode) (engine.Connection, error) {
	c, err := src.admin.Connect(ctx, api.ConnectRequest{To: dst.url, DestToken: dst.adminToken,
		DestProject: benchProject, Project: benchProject})
	if err != nil {
		return engine.Connection{}, fmt.Errorf("connecting %s to %s: %w", src.Name, dst.Name, err)
	}
	return c, nil
}

// exalateAll is a Bulk Exalate through n's admin API; ctx alone bounds
// it (the node answers once it has read and prepared every task).
func (n *procNode) exalateAll(ctx context.Context, connID string) ([]engine.StageEvent, error) {
	evs, err := n.admin.Exalate(ctx, "", connID, true)
	if err != nil {
		return nil, n.node.failed(fmt.Errorf("bulk exalate on %s: %w", n.Name, err))
	}
	return evs, nil
}

// waitSyncedProc is waitSynced through the admin API: it asks n's
// connection statistics four times a second until want syncs reached
// Synchronized, and fails if a child exits or the sync stalls.
func waitSyncedProc(ctx context.Context, p *procPair, n *procNode, connID string, want int) (int, error) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last, progressed := -1, time.Now()
	for {
		st, err := n.admin.Stats(ctx, connID)
		if err != nil {
			return 0, fmt.Errorf("%s's statistics of %s: %w", n.Name, connID, err)
		}
		done := st.Synchronized
		if done >= want {
			return done, nil
		}
		if done > last {
			last, progressed = done, time.Now()
		} else if time.Since(progressed) > stallAfter {
			return done, fmt.Errorf("%d of %d tasks synchronized, none for %v: %w", done, want, stallAfter, errStalled)
		}
		if err := p.alive(); err != nil {
			return done, err
		}
		select {
		case <-ctx.Done():
			return done, fmt.Errorf("%d of %d tasks synchronized: %w", done, want, ctx.Err())
		case <-tick.C:
		}
	}
}

// unfinishedProc counts n's syncs on connID not Synchronized, from its
// connection statistics.
func unfinishedProc(ctx context.Context, n *procNode, connID string) (int, error) {
	st, err := n.admin.Stats(ctx, connID)
	if err != nil {
		return 0, fmt.Errorf("%s's statistics of %s: %w", n.Name, connID, err)
	}
	return st.EventsOut + st.EventsIn - st.Synchronized, nil
}

// apiCounter is a reverse proxy on loopback between a node and its
// sandbox. It counts the node's requests as the node's own Asana client
// does (GETs are reads, the rest writes, by "METHOD /path/{gid}"), which a
// child process's client can't report. It can't see retries as such: it
// counts the 429 and 5xx answers, each of which the client retries.
type apiCounter struct {
	url   string // the API base URL to give the node
	srv   *http.Server
	proxy *httputil.ReverseProxy

	mu       sync.Mutex
	stats    asana.Stats
	requests int64
}

func startCounter(sandboxURL string) (*apiCounter, error) {
	target, err := url.Parse(sandboxURL)
	if err != nil {
		return nil, fmt.Errorf("the sandbox URL %q: %w", sandboxURL, err)
	}
	origin := &url.URL{Scheme: target.Scheme, Host: target.Host}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &apiCounter{url: "http://" + ln.Addr().String() + target.Path}
	a.stats.ByEndpoint = map[string]int64{}
	a.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(origin)
			// The sandbox signs download URLs for the host asked, so
			// attachment bytes come through the counter too.
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute},
	}
	a.srv = &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go a.srv.Serve(ln)
	return a, nil
}

func (a *apiCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	a.proxy.ServeHTTP(sw, r)
	a.count(r, sw.status)
}

func (a *apiCounter) count(r *http.Request, status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	if status == http.StatusTooManyRequests {
		a.stats.RateLimited++
	}
	if status == http.StatusTooManyRequests || status >= 500 {
		a.stats.Retries++
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/api/1.0")
	if !ok {
		a.stats.Downloads++
		return
	}
	if r.Method == http.MethodGet {
		a.stats.Reads++
	} else {
		a.stats.Writes++
	}
	a.stats.ByEndpoint[r.Method+" "+endpointTemplate(path)]++
}

// endpointTemplate replaces the gids in an API path with {gid}, as the
// Asana client names its endpoints.
func endpointTemplate(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			parts[i] = "{gid}"
		}
	}
	return strings.Join(parts, "/")
}

// snapshot is what the counter has counted so far, and every request
// answered (downloads included).
func (a *apiCounter) snapshot() (asana.Stats, int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.stats
	s.ByEndpoint = make(map[string]int64, len(a.stats.ByEndpoint))
	for k, v := range a.stats.ByEndpoint {
		s.ByEndpoint[k] = v
	}
	return s, a.requests
}

func (a *apiCounter) close() { a.srv.Close() }

// statusWriter remembers the status the proxy answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
