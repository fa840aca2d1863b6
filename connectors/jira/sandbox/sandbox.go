package sandbox

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/tandem-sync/tandem/connectors/internal/sandboxkit"

	// JQL dates and /myself are read in the user's IANA zone; the embedded
	// database makes WithTimeZone work on hosts without zoneinfo.
	_ "time/tzdata"
)

const apiPrefix = "/rest/api/3"

// defaultMaxAttachmentSize is Jira Cloud's default attachment limit.
const defaultMaxAttachmentSize = 1 << 30

// config collects the options given to New.
type config struct {
	email         string
	token         string
	seed          string
	site          string
	timeZone      string
	rateLimit     int
	latency       time.Duration
	faultRate     float64
	randSeed      *int64
	searchLag     time.Duration
	maxAttachment int64
	embedded      int    // WithEmbeddedComments
	state         []byte // WithState: start from this instead of a seed
}

// Option configures a Sandbox built by New.
type Option func(*config)

// WithEmail sets the e-mail address of the account the sandbox accepts in
// Basic auth. The default is "admin@<site>.example", with the site name
// lowercased and stripped to letters and digits.
func WithEmail(email string) Option { return func(c *config) { c.email = email } }

// WithToken sets the API token the sandbox accepts. By default a random
// token shaped like Atlassian's ("ATATT3xFfGF0…") is generated at New and
// reported by Token.
func WithToken(tok string) Option { return func(c *config) { c.token = tok } }

// WithSeed chooses the initial content: "demo" (the default; projects KAN
// and OPS with realistic issues, comments and an attachment) or "empty"
// (the same projects and issue types, no issues).
func WithSeed(seed string) Option { return func(c *config) { c.seed = seed } }

// WithSite names the Jira site (default "Globex"): it is serverInfo's
// serverTitle and the default e-mail's domain.
func WithSite(name string) Option { return func(c *config) { c.site = name } }

// WithTimeZone sets the user's IANA time zone (default "UTC"). /myself
// reports it, and JQL dates are read in it, as Jira does.
func WithTimeZone(tz string) Option { return func(c *config) { c.timeZone = tz } }

// WithRateLimit sets the budget in requests per minute per account, as a
// token bucket (N/60 per second, burst N/10). 0, the default, means none.
// Past it, requests get 429 with Retry-After.
func WithRateLimit(perMinute int) Option { return func(c *config) { c.rateLimit = perMinute } }

// WithLatency adds a delay before every response.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithFaultRate sets the share (0..1) of requests answered with a 500, a 503
// or a cut connection, chosen at random, before the request touches any state.
func WithFaultRate(f float64) Option { return func(c *config) { c.faultRate = f } }

// WithRandSeed makes the sandbox's randomness (generated token, account id,
// fault choice) deterministic, for tests.
func WithRandSeed(n int64) Option { return func(c *config) { c.randSeed = &n } }

// WithSearchLag makes /search/jql eventually consistent like Jira's index:
// an issue written less than d ago is returned in its previous state, or not
// at all if it is that new, unless its id is in reconcileIssues. The
// default, 0, indexes every write at once.
func WithSearchLag(d time.Duration) Option { return func(c *config) { c.searchLag = d } }

// WithMaxAttachmentSize sets the largest attachment accepted, in bytes
// (default 1 GiB, Jira Cloud's default); larger uploads get 413.
func WithMaxAttachmentSize(n int64) Option { return func(c *config) { c.maxAttachment = n } }

// WithEmbeddedComments sets how many comments an issue's comment field
// embeds, in GET /issue and in search alike (default 5000, Jira's server
// limit); total still counts them all, so a client sees that the rest is
// to be listed through GET /issue/{k}/comment. Tests lower it to reach
// that case without thousands of comments.
func WithEmbeddedComments(n int) Option { return func(c *config) { c.embedded = n } }

// Sandbox is the emulator. Build it with New; it is safe for concurrent use.
type Sandbox struct {
	email, token  string
	site          string
	searchLag     time.Duration
	maxAttachment int64
	embedded      int // comments an issue's comment field embeds
	mux           *http.ServeMux
	st            *store
	clk           *clock
	lim           *sandboxkit.Limiter // per account
	rng           *sandboxkit.Rand
	signer        *sandboxkit.Signer // page tokens and media URLs
	knobs         sandboxkit.Knobs
}

// New builds a sandbox with the given options. It fails on an unknown seed,
// an unknown time zone or out-of-range knobs.
func New(opts ...Option) (*Sandbox, error) {
	c := config{seed: "demo", site: "Globex", timeZone: "UTC", maxAttachment: defaultMaxAttachmentSize, embedded: maxEmbeddedComments}
	for _, o := range opts {
		o(&c)
	}
	if c.seed != "demo" && c.seed != "empty" {
		return nil, fmt.Errorf("unknown seed %q (want demo or empty)", c.seed)
	}
	if strings.TrimSpace(c.site) == "" {
		return nil, errors.New("site name must not be empty")
	}
	loc, err := time.LoadLocation(c.timeZone)
	if err != nil || c.timeZone == "" || c.timeZone == "Local" {
		return nil, fmt.Errorf("time zone %q: want an IANA name such as Europe/Berlin", c.timeZone)
	}
	if err := sandboxkit.CheckKnobs(c.rateLimit, c.latency, c.faultRate); err != nil {
		return nil, err
	}
	switch {
	case c.searchLag < 0:
		return nil, fmt.Errorf("search lag %v: must not be negative", c.searchLag)
	case c.maxAttachment < 1:
		return nil, fmt.Errorf("max attachment size %d: must be positive", c.maxAttachment)
	case c.embedded < 1 || c.embedded > maxEmbeddedComments:
		return nil, fmt.Errorf("embedded comments %d: want 1 to %d", c.embedded, maxEmbeddedComments)
	}
	if c.email == "" {
		c.email = "admin@" + domainLabel(c.site) + ".example"
	}
	if !strings.Contains(c.email, "@") || strings.ContainsAny(c.email, ": ") {
		return nil, fmt.Errorf("e-mail %q: not an address usable in Basic auth", c.email)
	}
	s := &Sandbox{
		email:         c.email,
		site:          c.site,
		searchLag:     c.searchLag,
		maxAttachment: c.maxAttachment,
		embedded:      c.embedded,
		rng:           sandboxkit.NewRandOrSeeded(c.randSeed),
		signer:        sandboxkit.NewSigner(),
		clk:           &clock{},
		lim:           sandboxkit.NewLimiter(c.rateLimit),
	}
	me := &user{
		accountID:   "712020:" + uuid(s.rng),
		displayName: "Sandbox Admin",
		email:       c.email,
		loc:         loc,
	}
	s.st = newStore(s.clk, me, c.searchLag)
	s.st.users = append(s.st.users, seededUsers(c.site, loc)...)
	if c.state != nil {
		tok, err := loadState(s.st, c.state)
		if err != nil {
			return nil, err
		}
		s.token = tok
	} else {
		seedStore(s.st, c.seed == "demo")
	}
	if c.token != "" {
		s.token = c.token
	}
	if s.token == "" {
		s.token = "ATATT3xFfGF0" + alnum(s.rng, 180) + "=" + strings.ToUpper(s.rng.Hex(4))
	}
	s.SetFaultRate(c.faultRate)
	s.SetLatency(c.latency)
	s.mux = s.routes()
	return s, nil
}

// domainLabel turns a site name into a DNS label: "Globex Corp" → "globexcorp".
func domainLabel(site string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(site) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "site"
	}
	return b.String()
}

// Email returns the account's e-mail address, the user half of Basic auth.
func (s *Sandbox) Email() string { return s.email }

// Token returns the API token the sandbox accepts.
func (s *Sandbox) Token() string { return s.token }

// SetFaultRate changes the share of faulty answers at run time; values are
// clamped to 0..1.
func (s *Sandbox) SetFaultRate(f float64) { s.knobs.SetFaultRate(f) }

// SetRateLimit changes the budget (requests per minute, 0 = none) at run
// time. Buckets restart full.
func (s *Sandbox) SetRateLimit(perMinute int) { s.lim.SetRate(perMinute) }

// SetLatency changes the delay added before every response at run time.
func (s *Sandbox) SetLatency(d time.Duration) { s.knobs.SetLatency(d) }

// Requests reports every HTTP request received, including refused ones, so a
// test can assert that nothing was sent.
func (s *Sandbox) Requests() int64 { return s.knobs.Requests() }

// RejectedRateLimited reports how many 429 answers were given.
func (s *Sandbox) RejectedRateLimited() int64 { return s.knobs.Rejected() }

// Project names one project of the sandbox, for callers that show where to
// start (the tandem sandbox command prints a line per project).
type Project struct{ ID, Key, Name string }

// Projects lists the sandbox's projects in creation order.
func (s *Sandbox) Projects() []Project {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	out := make([]Project, len(s.st.projects))
	for i, p := range s.st.projects {
		out[i] = Project{ID: p.id, Key: p.key, Name: p.name}
	}
	return out
}

// ServeHTTP runs a request through the gates in the order Jira's edge
// does: latency, fault injection, authentication, the rate limit, and only
// then the operation itself.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.knobs.CountRequest()
	if !s.knobs.Wait(r) {
		return
	}
	if s.injectFault(w) {
		return
	}
	if r.URL.Path == apiPrefix || strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
		if !s.authorize(r) {
			writeError(w, notAuthenticated())
			return
		}
		now := s.clk.now()
		if ref := s.lim.Allow(s.email, now); ref != nil {
			s.knobs.CountRejected()
			writeError(w, rateLimited(ref, now))
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// authorize checks Basic email:token. The e-mail is compared without
// regard to case, as Atlassian accounts are.
func (s *Sandbox) authorize(r *http.Request) bool {
	email, tok, ok := r.BasicAuth()
	if !ok {
		return false
	}
	okEmail := strings.EqualFold(email, s.email)
	okTok := subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) == 1
	return okEmail && okTok
}

// routes registers the operations of the OpenAPI subset, those of the
// real API the subset lacks (the comment edit, transitions, user search),
// the removed search (410), the media URLs and the browse pages; anything
// else under /rest/api/3 gets a Jira 404.
func (s *Sandbox) routes() *http.ServeMux {
	m := http.NewServeMux()
	api := func(pattern string, h handler) {
		method, path, _ := strings.Cut(pattern, " ")
		m.Handle(method+" "+apiPrefix+path, s.api(h))
	}
	api("GET /myself", s.getMyself)
	api("GET /serverInfo", s.getServerInfo)
	api("GET /project/search", s.searchProjects)
	api("GET /project/{projectIdOrKey}", s.getProject)
	api("POST /issue", s.createIssue)
	api("GET /issue/{issueIdOrKey}", s.getIssue)
	api("PUT /issue/{issueIdOrKey}", s.editIssue)
	api("GET /issue/{issueIdOrKey}/transitions", s.getTransitions)
	api("POST /issue/{issueIdOrKey}/transitions", s.doTransition)
	api("GET /user/search", s.findUsers)
	api("GET /issue/{issueIdOrKey}/comment", s.getComments)
	api("POST /issue/{issueIdOrKey}/comment", s.addComment)
	api("PUT /issue/{issueIdOrKey}/comment/{id}", s.updateComment)
	api("POST /issue/{issueIdOrKey}/attachments", s.addAttachments)
	api("GET /attachment/content/{id}", s.getAttachmentContent)
	api("GET /search/jql", s.searchGet)
	api("POST /search/jql", s.searchPost)
	api("GET /search", searchRemoved)
	api("POST /search", searchRemoved)
	m.Handle(apiPrefix+"/", s.api(func(c *call) error {
		return newError(http.StatusNotFound, "null for uri: %s%s", c.base, c.r.URL.RequestURI())
	}))
	m.HandleFunc("GET "+mediaPrefix+"{rest...}", s.media)
	m.HandleFunc("GET /browse/{key}", s.browse)
	return m
}
