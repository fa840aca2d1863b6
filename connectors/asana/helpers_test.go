package asana_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/asanatest"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
)

// env is one sandbox on loopback behind the OpenAPI contract check, and a
// client of it.
type env struct {
	sb      *sandbox.Sandbox
	base    string
	client  *asana.Client
	checked func() int
}

// start serves a sandbox (demo seed unless opts say otherwise) and returns
// a client with no client-side budget and fast retries; mod adjusts the
// client's config.
func start(t *testing.T, mod func(*asana.Config), opts ...sandbox.Option) *env {
	t.Helper()
	sb, err := sandbox.New(append([]sandbox.Option{sandbox.WithRandSeed(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	v := asanatest.NewValidator(t, asanatest.AllowStatus(http.StatusServiceUnavailable))
	srv := httptest.NewServer(v.Wrap(t, sb))
	t.Cleanup(srv.Close)
	cfg := asana.Config{
		BaseURL:           srv.URL + "/api/1.0",
		Token:             sb.Token(),
		RequestsPerMinute: -1,
		BackoffBase:       time.Millisecond,
		BackoffMax:        20 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := asana.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{sb: sb, base: cfg.BaseURL, client: c, checked: v.Checked}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// project finds a seeded project by name.
func (e *env) project(t *testing.T, name string) asana.Project {
	t.Helper()
	c := ctx(t)
	ws, err := e.client.Workspaces(c)
	if err != nil || len(ws) == 0 {
		t.Fatalf("workspaces: %v %v", ws, err)
	}
	ps, err := e.client.Projects(c, ws[0].GID)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ps, func(p asana.Project) bool { return p.Name == name })
	if i < 0 {
		t.Fatalf("no project %q in %v", name, ps)
	}
	return ps[i]
}

// requireValidated fails if the contract check saw no traffic, so a test
// can't pass by validating nothing.
func (e *env) requireValidated(t *testing.T) {
	t.Helper()
	if e.checked() == 0 {
		t.Fatal("no request or response was checked against the OpenAPI document")
	}
}

// roundTrip adapts a function to http.RoundTripper.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
