package jira_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/jira"
	"github.com/tandem-sync/tandem/connectors/jira/jiratest"
	"github.com/tandem-sync/tandem/connectors/jira/sandbox"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// env is one sandbox on loopback and a client of it.
type env struct {
	sb     *sandbox.Sandbox
	srv    *httptest.Server
	client *jira.Client
	// mayBeSilent is set by tests whose traffic may never reach the
	// sandbox (a transport that answers for it, a request cancelled in
	// flight), so that no exchange having been checked is not a failure.
	mayBeSilent bool
}

// start serves a sandbox (demo seed unless opts say otherwise) and returns
// a client with no client-side budget and fast retries; mod adjusts the
// client's config.
func start(t *testing.T, mod func(*jira.Config), opts ...sandbox.Option) *env {
	t.Helper()
	sb, err := sandbox.New(append([]sandbox.Option{sandbox.WithRandSeed(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	// The client's requests and the sandbox's answers are both held to the
	// official document.
	v := jiratest.NewValidator(t)
	srv := httptest.NewServer(v.Wrap(sb))
	e := &env{sb: sb, srv: srv}
	t.Cleanup(func() {
		srv.Close() // waits for the handlers, and so for their checks
		if v.Checked() == 0 && !e.mayBeSilent {
			t.Error("no request or response was checked against the OpenAPI document")
		}
	})
	cfg := jira.Config{
		BaseURL:           srv.URL,
		Email:             sb.Email(),
		Token:             sb.Token(),
		RequestsPerMinute: -1,
		BackoffBase:       time.Millisecond,
		BackoffMax:        20 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := jira.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	return e
}

// another is a second client of the same sandbox: its writes are not in
// e.client's reconcileIssues.
func (e *env) another(t *testing.T) *jira.Client {
	t.Helper()
	c, err := jira.New(jira.Config{BaseURL: e.srv.URL, Email: e.sb.Email(), Token: e.sb.Token(), RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// tracker checks and returns a tracker on e's client.
func (e *env) tracker(t *testing.T) (*jira.Tracker, tracker.TrackerAccount) {
	t.Helper()
	tr := jira.NewTracker(e.client, "")
	acct, err := tr.Check(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return tr, acct
}

// issueNamed finds an issue of a project by summary.
func (e *env) issueNamed(t *testing.T, project, summary string) jira.Issue {
	t.Helper()
	issues, err := e.client.Search(ctx(t), jira.Search{JQL: "project = " + project, Fields: []string{"summary"}})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(issues, func(is jira.Issue) bool { return is.Fields.Summary == summary })
	if i < 0 {
		t.Fatalf("no issue %q in project %s", summary, project)
	}
	return issues[i]
}

// roundTrip adapts a function to http.RoundTripper.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
