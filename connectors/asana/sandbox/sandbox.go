package sandbox

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/sandboxkit"
)

const apiPrefix = "/api/1.0"

// config collects the options given to New.
type config struct {
	token     string
	seed      string
	workspace string
	rateLimit int
	latency   time.Duration
	faultRate float64
	randSeed  *int64
	state     []byte // WithState: start from this instead of a seed
	extra     int    // WithExtraProjects
	hooks     hookConfig
}

// Option configures a Sandbox built by New.
type Option func(*config)

// WithToken sets the personal access token the sandbox accepts. By default a
// random PAT-like token ("2/<user gid>/<digits>:<32 hex>") is generated at New
// and reported by Token.
func WithToken(tok string) Option { return func(c *config) { c.token = tok } }

// WithSeed chooses the initial content: "demo" (the default; a workspace with
// two projects of realistic tasks, comments and attachments) or "empty" (the
// workspace and the authenticated user alone).
func WithSeed(seed string) Option { return func(c *config) { c.seed = seed } }

// WithWorkspace names the workspace (default "Acme"); the users' e-mail
// domain is derived from it.
func WithWorkspace(name string) Option { return func(c *config) { c.workspace = name } }

// WithRateLimit sets the per-token budget in requests per minute, like
// Asana's 150 (free) or 1,500 (paid) plans. 0, the default, means no limit.
func WithRateLimit(perMinute int) Option { return func(c *config) { c.rateLimit = perMinute } }

// WithExtraProjects adds n empty projects to the workspace, named
// ExtraProjectName(1) to ExtraProjectName(n), after the seed's (the
// benchmark's idle section syncs one connection on each).
func WithExtraProjects(n int) Option { return func(c *config) { c.extra = n } }

// ExtraProjectName is the name of the i-th project WithExtraProjects adds.
func ExtraProjectName(i int) string { return "Extra project " + itoa(i) }

// WithLatency adds a delay before every response, to make a loopback sandbox
// feel like a remote service.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithFaultRate sets the share (0..1) of requests answered with a 500, a 503
// or a cut connection, chosen at random, before the request touches any state.
func WithFaultRate(f float64) Option { return func(c *config) { c.faultRate = f } }

// WithRandSeed makes the sandbox's randomness (generated token, gid gaps,
// sync tokens, fault choice) deterministic, for tests.
func WithRandSeed(n int64) Option { return func(c *config) { c.randSeed = &n } }

// Sandbox is the emulator. Build it with New; it is safe for concurrent use.
// Close it to stop webhook deliveries (hooks.go).
type Sandbox struct {
	token  string
	mux    *http.ServeMux
	st     *store
	schema *schema
	lim    *limits
	rng    *sandboxkit.Rand
	signer *sandboxkit.Signer // offsets and download URLs
	knobs  sandboxkit.Knobs
	hooks  *hooks // webhook deliveries
}

// New builds a sandbox with the given options. It fails on an unknown seed or
// out-of-range knobs.
func New(opts ...Option) (*Sandbox, error) {
	c := config{seed: "demo", workspace: "Acme", hooks: defaultHookConfig()}
	for _, o := range opts {
		o(&c)
	}
	if c.seed != "demo" && c.seed != "empty" {
		return nil, fmt.Errorf("unknown seed %q (want demo or empty)", c.seed)
	}
	if c.extra < 0 {
		return nil, fmt.Errorf("extra projects: %d is negative", c.extra)
	}
	if strings.TrimSpace(c.workspace) == "" {
		return nil, errors.New("workspace name must not be empty")
	}
	if err := sandboxkit.CheckKnobs(c.rateLimit, c.latency, c.faultRate); err != nil {
		return nil, err
	}
	if err := c.hooks.check(); err != nil {
		return nil, err
	}
	s := &Sandbox{
		rng:    sandboxkit.NewRandOrSeeded(c.randSeed),
		signer: sandboxkit.NewSigner(),
		schema: newSchema(),
		lim:    newLimits(c.rateLimit),
		hooks:  newHooks(c.hooks),
	}
	s.st = newStore(s.rng)
	if c.state != nil {
		tok, err := loadState(s.st, c.state)
		if err != nil {
			return nil, err
		}
		s.token = tok
	} else {
		seedStore(s.st, c.workspace, c.seed == "demo")
		s.st.seedExtraProjects(c.extra)
	}
	if c.token != "" {
		s.token = c.token
	}
	if s.token == "" {
		s.token = fmt.Sprintf("2/%s/%d:%s", s.st.me.gid, 1200000000000000+s.rng.Int64N(1e14), s.rng.Hex(16))
	}
	s.SetFaultRate(c.faultRate)
	s.SetLatency(c.latency)
	s.mux = s.routes()
	for _, w := range s.st.webhooks { // restored by WithState
		s.startHook(w)
	}
	return s, nil
}

// Token returns the personal access token the sandbox accepts.
func (s *Sandbox) Token() string { return s.token }

// SetFaultRate changes the share of faulty answers at run time; values are
// clamped to 0..1.
func (s *Sandbox) SetFaultRate(f float64) { s.knobs.SetFaultRate(f) }

// SetRefuseWrites makes the sandbox answer every API write (POST, PUT,
// DELETE) with a 403, as Asana does to a token that may not write to the
// workspace; reads go on. false lets writes through again.
func (s *Sandbox) SetRefuseWrites(on bool) { s.knobs.SetRefuseWrites(on) }

// SetRateLimit changes the per-token budget (requests per minute, 0 = none)
// at run time. Buckets restart full.
func (s *Sandbox) SetRateLimit(perMinute int) { s.lim.SetRate(perMinute) }

// SetLatency changes the delay added before every response at run time.
func (s *Sandbox) SetLatency(d time.Duration) { s.knobs.SetLatency(d) }

// Requests reports every HTTP request received, including refused ones, so a
// test can assert that nothing was sent.
func (s *Sandbox) Requests() int64 { return s.knobs.Requests() }

// Project names one project of the sandbox, for callers that show where to
// start (the tandem sandbox command prints a curl line per project).
type Project struct {
	GID  string
	Name string
}

// Projects lists the sandbox's projects in creation order.
func (s *Sandbox) Projects() []Project {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	out := make([]Project, len(s.st.projects))
	for i, p := range s.st.projects {
		out[i] = Project{GID: p.gid, Name: p.name}
	}
	return out
}

// RejectedRateLimited reports how many 429 answers were given.
func (s *Sandbox) RejectedRateLimited() int64 { return s.knobs.Rejected() }

// ServeHTTP runs a request through the same gates as Asana, in order:
// concurrency limits, latency, fault injection, authentication, the
// per-token budget, a write refused (SetRefuseWrites), and only then the
// operation itself.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.knobs.CountRequest()
	api := r.URL.Path == apiPrefix || strings.HasPrefix(r.URL.Path, apiPrefix+"/")
	if api {
		release, ok := s.lim.acquire(r.Method != http.MethodGet && r.Method != http.MethodHead)
		if !ok {
			if !s.knobs.Wait(r) {
				return
			}
			s.knobs.CountRejected()
			writeError(w, false, tooManyRequests(1))
			return
		}
		defer release()
	}
	if !s.knobs.Wait(r) {
		return
	}
	if s.injectFault(w) {
		return
	}
	if api {
		tok, ok := s.authorize(r)
		if !ok {
			writeError(w, false, &apiError{status: http.StatusUnauthorized, message: "Not Authorized", noHelp: true})
			return
		}
		if retry, ok := s.lim.allow(tok, time.Now()); !ok {
			s.knobs.CountRejected()
			writeError(w, false, tooManyRequests(retry))
			return
		}
		if s.knobs.RefusesWrite(r) {
			writeError(w, false, forbidden("Forbidden: this token may read the workspace but not write to it"))
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// authorize checks the Bearer token and returns it.
func (s *Sandbox) authorize(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
		return "", false
	}
	return tok, true
}

// routes registers exactly the operations of the OpenAPI subset (anything
// else under /api/1.0 gets Asana's 404), the download URLs and the task
// pages permalink_url points at.
func (s *Sandbox) routes() *http.ServeMux {
	m := http.NewServeMux()
	api := func(pattern string, h handler) {
		method, path, _ := strings.Cut(pattern, " ")
		m.Handle(method+" "+apiPrefix+path, s.api(h))
	}
	api("GET /users/{user_gid}", s.getUser)
	api("GET /workspaces", s.getWorkspaces)
	api("GET /projects", s.getProjects)
	api("GET /workspaces/{workspace_gid}/projects", s.getWorkspaceProjects)
	api("GET /projects/{project_gid}/tasks", s.getProjectTasks)
	api("GET /tasks", s.getTasks)
	api("POST /tasks", s.createTask)
	api("GET /tasks/{task_gid}", s.getTask)
	api("PUT /tasks/{task_gid}", s.updateTask)
	api("DELETE /tasks/{task_gid}", s.deleteTask)
	api("GET /tasks/{task_gid}/stories", s.getTaskStories)
	api("POST /tasks/{task_gid}/stories", s.createStory)
	api("GET /stories/{story_gid}", s.getStory)
	api("PUT /stories/{story_gid}", s.updateStory)
	api("DELETE /stories/{story_gid}", s.deleteStory)
	api("GET /attachments", s.getAttachments)
	api("POST /attachments", s.createAttachment)
	api("GET /attachments/{attachment_gid}", s.getAttachment)
	api("DELETE /attachments/{attachment_gid}", s.deleteAttachment)
	api("GET /events", s.getEvents)
	api("GET /webhooks", s.getWebhooks)
	api("POST /webhooks", s.createWebhook)
	api("GET /webhooks/{webhook_gid}", s.getWebhook)
	api("DELETE /webhooks/{webhook_gid}", s.deleteWebhook)
	m.Handle(apiPrefix+"/", s.api(func(*call) error {
		return &apiError{status: http.StatusNotFound, message: "No matching route for request"}
	}))
	m.HandleFunc("GET "+filesPrefix+"{attachment_gid}", s.download)
	m.HandleFunc("GET /0/{project}/{task}", s.taskPage)
	return m
}
