package jira_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/jira"
	"github.com/tandem-sync/tandem/connectors/jira/sandbox"
	"github.com/tandem-sync/tandem/engine/tracker"
)

func TestMyselfServerInfoProjects(t *testing.T) {
	e := start(t, nil, sandbox.WithTimeZone("Europe/Berlin"))
	c := ctx(t)
	me, err := e.client.Myself(c)
	if err != nil || me.AccountID == "" || me.DisplayName == "" || me.EmailAddress != e.sb.Email() || me.TimeZone != "Europe/Berlin" {
		t.Errorf("Myself = %+v, %v", me, err)
	}
	si, err := e.client.ServerInfo(c)
	if err != nil || si.ServerTitle == "" || si.ServerTime.IsZero() {
		t.Errorf("ServerInfo = %+v, %v", si, err)
	}
	ps, err := e.client.Projects(c)
	if err != nil || len(ps) != len(e.sb.Projects()) {
		t.Fatalf("Projects = %+v, %v; want %d", ps, err, len(e.sb.Projects()))
	}
	p, err := e.client.Project(c, "OPS")
	if err != nil || p.Key != "OPS" || len(p.IssueTypes) != 3 {
		t.Errorf("Project(OPS) = %+v, %v", p, err)
	}
	loc, err := e.client.Location(c)
	if err != nil || loc.String() != "Europe/Berlin" {
		t.Errorf("Location = %v, %v", loc, err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []jira.Config{
		{BaseURL: "https://acme.atlassian.net", Email: "a@b.c"},
		{BaseURL: "https://acme.atlassian.net", Token: "t"},
		{Email: "a@b.c", Token: "t"},
		{BaseURL: "acme.atlassian.net", Email: "a@b.c", Token: "t"},
		{BaseURL: "ftp://acme.atlassian.net", Email: "a@b.c", Token: "t"},
	} {
		if _, err := jira.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	c, err := jira.New(jira.Config{BaseURL: "https://acme.atlassian.net/rest/api/3/", Email: "a@b.c", Token: "t"})
	if err != nil || c.BaseURL() != "https://acme.atlassian.net" {
		t.Errorf("a base URL with the API path: %v %v", c, err)
	}
}

func TestTypedErrors(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	_, err := e.client.Issue(c, "KAN-999")
	var je *jira.Error
	if !errors.As(err, &je) || je.Status != http.StatusNotFound || len(je.Messages) == 0 || !errors.Is(err, jira.ErrNotFound) {
		t.Errorf("missing issue: %#v", err)
	}
	_, err = e.client.CreateIssue(c, jira.NewIssue{Project: "KAN", Type: "NoSuchType", Summary: "x"})
	if !errors.As(err, &je) || !errors.Is(err, jira.ErrInvalidRequest) || len(je.Fields) == 0 {
		t.Errorf("create with an unknown type: %#v, want ErrInvalidRequest with field errors", err)
	}
	bad := start(t, func(c *jira.Config) { c.Token = "nope" })
	if _, err := bad.client.Myself(c); !errors.Is(err, jira.ErrUnauthorized) {
		t.Errorf("bad token: %v", err)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	// 120 a minute is a burst of 12, then two a second.
	e := start(t, nil, sandbox.WithRateLimit(120))
	c := ctx(t)
	began := time.Now()
	for i := range 14 {
		if _, err := e.client.Myself(c); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	s := e.client.Stats()
	if s.RateLimited == 0 || e.sb.RejectedRateLimited() == 0 || s.Retries < s.RateLimited {
		t.Fatalf("stats %+v, sandbox rejected %d: want 429s, each retried", s, e.sb.RejectedRateLimited())
	}
	// Each 429 said Retry-After: 1 or more, and every caller held off.
	if waited := time.Since(began); waited < time.Second {
		t.Errorf("14 calls took %v despite Retry-After", waited)
	}
	if s.RateLimited > 3 {
		t.Errorf("%d 429s: the client did not wait as asked", s.RateLimited)
	}
}

func TestRateLimitedAfterEveryRetry(t *testing.T) {
	e := start(t, func(c *jira.Config) { c.MaxRetries = -1 }, sandbox.WithRateLimit(10))
	var err error
	for range 3 {
		if _, err = e.client.Myself(ctx(t)); err != nil {
			break
		}
	}
	var je *jira.Error
	if !errors.Is(err, jira.ErrRateLimited) || !errors.As(err, &je) || je.RetryAfter < time.Second {
		t.Errorf("err = %v, want ErrRateLimited with Retry-After", err)
	}
}

func TestFaultsAreRetriedToSuccess(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"), sandbox.WithRandSeed(7))
	c := ctx(t)
	tr, _ := e.tracker(t)
	made, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "under faults"})
	if err != nil {
		t.Fatal(err)
	}
	e.sb.SetFaultRate(0.3)
	for i := range 6 {
		s := fmt.Sprintf("edit %d", i)
		if _, err := tr.Update(c, made.ID, tracker.EntityUpdate{Summary: &s}); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		if _, err := tr.Get(c, made.Key); err != nil {
			t.Fatalf("get %d: %v", i, err)
		}
	}
	// A create may fail after reaching Jira: it is never sent twice, and
	// FindBySummary tells whether it was made.
	since := time.Now().Add(-time.Minute)
	for i := range 4 {
		summary := fmt.Sprintf("made under faults %d", i)
		_, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: summary})
		if err != nil && !errors.Is(err, jira.ErrOutcomeUnknown) {
			t.Fatalf("create %d: %v", i, err)
		}
		ids, ferr := tr.FindBySummary(c, "KAN", summary, since)
		if ferr != nil || (err == nil) != (len(ids) == 1) || len(ids) > 1 {
			t.Fatalf("create %d (err %v) then FindBySummary: %v %v", i, err, ids, ferr)
		}
	}
	if e.client.Stats().Retries == 0 {
		t.Error("no retries: the faults were not exercised")
	}
	e.sb.SetFaultRate(0)
	got, err := tr.Get(c, made.ID)
	if err != nil || got.Summary != "edit 5" {
		t.Errorf("after the faults: %+v %v", got, err)
	}
}

func TestConflictingUpdateIsRetried(t *testing.T) {
	var conflicts atomic.Int32
	e := start(t, func(c *jira.Config) {
		c.HTTPClient = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPut && conflicts.Add(1) <= 2 {
				body := `{"errorMessages":["The issue was updated by someone else."],"errors":{}}`
				return &http.Response{StatusCode: http.StatusConflict, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
			}
			return http.DefaultTransport.RoundTrip(r)
		})}
	})
	s := "resolved"
	id := e.issueNamed(t, "OPS", "Migrate monitoring to OpenTelemetry").Key
	if err := e.client.UpdateIssue(ctx(t), id, jira.IssueUpdate{Summary: &s}); err != nil {
		t.Fatal(err)
	}
	if got := e.client.Stats(); got.Retries != 2 || got.Writes != 3 {
		t.Errorf("stats %+v, want 2 retries of the PUT", got)
	}
}

func TestContextCancellation(t *testing.T) {
	sent := make(chan struct{})
	var once sync.Once
	e := start(t, func(c *jira.Config) {
		c.HTTPClient = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			once.Do(func() { close(sent) })
			return http.DefaultTransport.RoundTrip(r)
		})}
	}, sandbox.WithLatency(time.Minute))
	e.mayBeSilent = true // the request may be cancelled before it arrives
	c, cancel := context.WithCancel(context.Background())
	go func() {
		<-sent
		cancel()
	}()
	if _, err := e.client.Myself(c); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestTheTokenIsNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	e := start(t, func(c *jira.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}, sandbox.WithRandSeed(3), sandbox.WithFaultRate(0.5))
	for range 5 {
		e.client.Myself(ctx(t))
	}
	if logs.Len() == 0 {
		t.Fatal("nothing logged: the retries were not exercised")
	}
	if strings.Contains(logs.String(), e.sb.Token()) || strings.Contains(logs.String(), "Basic ") {
		t.Errorf("the log shows credentials:\n%s", logs.String())
	}
}

func TestCommentsPastTheEmbeddedPage(t *testing.T) {
	// Jira embeds a first page of comments in the issue; this one embeds
	// two, so Issue must read the rest from /comment, which pages by 100.
	e := start(t, func(c *jira.Config) {
		c.HTTPClient = &http.Client{Transport: roundTrip(truncateEmbeddedComments(2))}
	}, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	made, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "chatty"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 103
	for i := range n {
		if _, err := tr.AddComment(c, made.ID, fmt.Sprintf("<body>comment %d</body>", i)); err != nil {
			t.Fatal(err)
		}
	}
	before := e.client.Stats()
	got, err := tr.Get(c, made.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := e.client.Stats().Sub(before); d.ByEndpoint["GET /issue/{id}/comment"] != 2 {
		t.Errorf("Get read %+v, want two pages of /comment", d.ByEndpoint)
	}
	if len(got.Comments) != n {
		t.Fatalf("%d comments, want %d", len(got.Comments), n)
	}
	for i, cm := range got.Comments {
		if cm.Body != fmt.Sprintf("<body>comment %d</body>", i) {
			t.Fatalf("comment %d = %q: out of order or lost", i, cm.Body)
		}
	}
}

// truncateEmbeddedComments keeps the first n comments embedded in GET
// /issue answers, as a Jira with a smaller embedded page would.
func truncateEmbeddedComments(n int) func(*http.Request) (*http.Response, error) {
	return func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil || r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/issue/") ||
			strings.HasSuffix(r.URL.Path, "/comment") || resp.StatusCode != http.StatusOK {
			return resp, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		var is map[string]any
		if err := json.Unmarshal(body, &is); err != nil {
			return nil, err
		}
		if f, ok := is["fields"].(map[string]any); ok {
			if page, ok := f["comment"].(map[string]any); ok {
				if cs, ok := page["comments"].([]any); ok && len(cs) > n {
					page["comments"] = cs[:n]
					page["maxResults"] = n
				}
			}
		}
		body, _ = json.Marshal(is)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Del("Content-Length")
		return resp, nil
	}
}

func TestSearchFollowsPageTokens(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	const n = 105
	for i := range n {
		if _, err := tr.Create(c, tracker.NewEntity{Project: "OPS", Summary: fmt.Sprintf("issue %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	before := e.client.Stats()
	ids, err := tr.List(c, "OPS")
	if err != nil || len(ids) != n {
		t.Fatalf("List = %d ids, %v; want %d", len(ids), err, n)
	}
	if d := e.client.Stats().Sub(before); d.ByEndpoint["POST /search/jql"] != 2 {
		t.Errorf("List cost %+v, want two pages", d.ByEndpoint)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("%s listed twice", id)
		}
		seen[id] = true
	}
}
