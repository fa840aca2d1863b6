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
	"github.com/tandem-sync/tandem/store"
)

// procNode is a `tandem serve` child in front of its own `tandem sandbox
// asana` child; with replicas, several `tandem serve` children on one
// PostgreSQL database behind a round-robin proxy whose URL is the node's.
type procNode struct {
	Name    string
	dataDir string
	sandbox *child
	// node is the first replica; replicas all of them (node included).
	node     *child
	replicas []*child
	// replicaURLs are each replica's own URL, by index of replicas.
	replicaURLs []string
	// lb is the round-robin proxy in front of the replicas (nil for one).
	lb *roundRobin
	// pg and db are the node's database on Config.Database's server ("":
	// SQLite under dataDir).
	pg *pgServer
	db string
	// sandboxURL is the sandbox's API base URL; the node reaches it
	// through counter when there is one.
	sandboxURL, sandboxToken string
	url, adminToken          string
	admin                    *remote.Client
	counter                  *apiCounter
}

// procPair is Acme and Globex as child processes.
type procPair struct {
	nodes        []*procNode
	acme, globex *procNode
	spec         pairSpec
	seeder       *asana.Client
}

var _ pair = (*procPair)(nil)

// startProcPair is the subprocess startFunc: it starts Acme's and
// Globex's sandboxes and nodes under dir (Acme as spec.replicas
// replicas); on error nothing is left running.
func startProcPair(ctx context.Context, cfg Config, section, dir string, spec pairSpec) (pair, error) {
	what := "two nodes"
	if spec.replicas > 1 {
		what = fmt.Sprintf("Acme as %d replicas on one database behind a round-robin proxy, Globex as one node", spec.replicas)
	}
	where := ""
	if cfg.pg != nil {
		where = ", each node on a database of its own on " + store.RedactURL(cfg.pg.base)
	}
	cfg.progress("%s: starting two sandboxes and %s as child processes (%s%s)", section, what, spec, where)
	p := &procPair{spec: spec}
	for i, name := range []string{"Acme", "Globex"} {
		replicas := 1
		if i == 0 {
			replicas = max(1, spec.replicas)
		}
		n, err := startProcNode(ctx, cfg, name, dir, spec, replicas)
		if err != nil {
			p.close()
			return nil, err
		}
		p.nodes = append(p.nodes, n)
	}
	p.acme, p.globex = p.nodes[0], p.nodes[1]
	return p, nil
}

func startProcNode(ctx context.Context, cfg Config, name, dir string, spec pairSpec, replicas int) (*procNode, error) {
	sp := cfg.Subprocess
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
		"--rate-limit", strconv.Itoa(spec.limit), "--latency", spec.latency.String(),
		"--extra-projects", strconv.Itoa(spec.projects))
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
	// The tokens and the database's URL go by environment, not argv,
	// which other users can read.
	env := []string{"ASANA_TOKEN=" + n.sandboxToken, "TANDEM_ADMIN_TOKEN=" + n.adminToken}
	if cfg.pg != nil {
		if n.db, err = cfg.pg.create(ctx, name); err != nil {
			n.close()
			return nil, err
		}
		n.pg = cfg.pg
		env = append(env, "TANDEM_DATABASE="+cfg.pg.url(n.db))
	} else if replicas > 1 {
		n.close()
		return nil, fmt.Errorf("%s as %d replicas: replicas share a PostgreSQL database (--database)", name, replicas)
	}
	var urlArgs []string
	if replicas > 1 {
		if n.lb, err = startRoundRobin(); err != nil {
			n.close()
			return nil, fmt.Errorf("%s's round-robin proxy: %w", name, err)
		}
		// Every replica says the proxy's URL is the node's.
		urlArgs = []string{"--url", n.lb.url}
	}
	for i := range replicas {
		cname, dataDir := name+"-node", n.dataDir
		if replicas > 1 {
			cname, dataDir = fmt.Sprintf("%s-node-%d", name, i+1), fmt.Sprintf("%s-%d", n.dataDir, i+1)
		}
		args := []string{"serve", "--name", name, "--data", dataDir, "--listen", "127.0.0.1:0", "--asana-url", asanaURL,
			"--asana-rate-limit", strconv.Itoa(spec.rpm), "--poll", spec.poll.String(),
			// --poll-max at --poll is fixed polling, as in process.
			"--poll-max", max(spec.pollMax, spec.poll).String(), "--webhooks=" + strconv.FormatBool(spec.webhooks)}
		if spec.memprofile != "" && name == "Acme" && i == 0 {
			args = append(args, "--memprofile", spec.memprofile)
		}
		// Behind the proxy a replica serves the proxy's URL and says
		// where it listens on a line of its own.
		var own string
		c, err := startChild(ctx, sp, cname, logDir, env, func(line string) bool {
			if i := strings.Index(line, " serving "); i >= 0 && replicas == 1 {
				own = strings.TrimSpace(line[i+len(" serving "):])
				return true
			}
			if addr, ok := strings.CutPrefix(line, "Listening on "); ok && replicas > 1 {
				own = strings.TrimSpace(addr)
				return true
			}
			return false
		}, append(args, urlArgs...)...)
		if err != nil {
			n.close()
			return nil, err
		}
		n.replicas = append(n.replicas, c)
		if i == 0 {
			n.node = c
		}
		if err := c.waitReady(ctx); err != nil {
			n.close()
			return nil, err
		}
		n.replicaURLs = append(n.replicaURLs, own)
		if n.lb != nil {
			n.lb.add(n.replicaURLs[i])
		}
	}
	n.url = n.replicaURLs[0]
	if n.lb != nil {
		n.url = n.lb.url
	}
	if n.admin, err = remote.New(n.url, n.adminToken); err == nil {
		_, err = n.admin.Info(ctx)
	}
	if err != nil {
		n.close()
		return nil, n.node.failed(fmt.Errorf("%s's admin API at %s: %w", name, n.url, err))
	}
	return n, nil
}

// close stops the node's replicas, then its sandbox, waits for them, and
// drops its database.
func (n *procNode) close() {
	for _, c := range n.replicas {
		c.stop()
	}
	if n.lb != nil {
		n.lb.close()
	}
	if n.counter != nil {
		n.counter.close()
	}
	if n.sandbox != nil {
		n.sandbox.stop()
	}
	if n.pg != nil && n.db != "" {
		// A drop that fails is retried by the run's end (pgServer.close).
		_ = n.pg.drop(context.Background(), n.db)
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
		for _, c := range append([]*child{n.sandbox}, n.replicas...) {
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
