package engine_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/engine"
)

func TestConnectWithAdminAccess(t *testing.T) {
	clk := &clock{}
	a, b := startNode(t, "Acme", clk), startNode(t, "Globex", clk)
	ctx := ctxFor(t)

	_, err := a.Connect(ctx, engine.ConnectRequest{To: b.url, DestToken: "tdm_admin_wrong", DestProject: "Test", Project: "Company"})
	if err == nil || !strings.Contains(err.Error(), "--dest-token") {
		t.Errorf("wrong destination token: err = %v, want a pointer to --dest-token", err)
	}
	for _, n := range []*testNode{a, b} {
		if cs, _ := n.Connections(ctx); len(cs) != 0 {
			t.Errorf("a refused connect left %d connections on %s", len(cs), n.Info().Name)
		}
	}

	c, err := a.Connect(ctx, engine.ConnectRequest{To: b.url, DestToken: b.token, DestProject: "Test", Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != engine.StatusActive || c.RemoteName != "Globex" || c.RemoteProjectName != "Test" {
		t.Errorf("initiator: %+v", c)
	}
	bs, _ := b.Connections(ctx)
	if len(bs) != 1 || bs[0].Status != engine.StatusActive || bs[0].RemoteProjectName != "Company" {
		t.Errorf("destination: %+v", bs)
	}
}

func TestLocalConnection(t *testing.T) {
	a := startNode(t, "Acme", &clock{})
	ctx := ctxFor(t)
	if _, err := a.Connect(ctx, engine.ConnectRequest{To: a.url + "/", Project: "Company", DestProject: "company"}); !errors.Is(err, engine.ErrBadRequest) {
		t.Errorf("a project to itself: err = %v", err)
	}
	c, err := a.Connect(ctx, engine.ConnectRequest{To: a.url + "/", Project: "Company", DestProject: "Test"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Local || c.Status != engine.StatusActive || c.Name != "Company_to_Test" {
		t.Errorf("local connection: %+v", c)
	}
	cs, _ := a.Connections(ctx)
	if len(cs) != 2 {
		t.Fatalf("a local connection has two ends on the node, got %d", len(cs))
	}
	if _, _, err := a.Invite(ctx, engine.InviteRequest{To: a.url, Project: "Company"}); err == nil {
		t.Error("inviting the node's own URL succeeded")
	}
}

func TestProbeTellsWhatIsWrong(t *testing.T) {
	a := startNode(t, "Acme", &clock{}, withoutScript) // Basic only: nothing in common with a Script-only node
	ctx := ctxFor(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	notTandem := httptest.NewServer(http.NotFoundHandler())
	defer notTandem.Close()
	future := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(engine.Instance{Product: "tandem", APIVersion: 99, Version: "9.0.0"})
	}))
	defer future.Close()
	scriptOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(engine.Instance{Product: "tandem", APIVersion: engine.APIVersion, Name: "Scripted", Modes: []engine.Mode{engine.ModeScript}})
	}))
	defer scriptOnly.Close()
	if _, _, err := a.Invite(ctx, engine.InviteRequest{To: scriptOnly.URL, Project: "Company"}); !errors.Is(err, engine.ErrIncompatible) {
		t.Errorf("invite a node with no mode in common: err = %v, want ErrIncompatible", err)
	}

	for _, tt := range []struct {
		url  string
		want error
	}{
		{closed.URL, engine.ErrUnreachable},
		{notTandem.URL, engine.ErrNotTandem},
		{future.URL, engine.ErrIncompatible},
	} {
		if _, err := a.Probe(ctx, tt.url); !errors.Is(err, tt.want) {
			t.Errorf("probe %s: err = %v, want %v", tt.url, err, tt.want)
		}
		if _, _, err := a.Invite(ctx, engine.InviteRequest{To: tt.url, Project: "Company"}); !errors.Is(err, tt.want) {
			t.Errorf("invite %s: err = %v, want %v", tt.url, err, tt.want)
		}
	}
	if _, err := a.Probe(ctx, "not a url"); err == nil {
		t.Error("probing garbage succeeded")
	}
	b := startNode(t, "Globex", &clock{})
	info, err := a.Probe(ctx, b.url)
	if err != nil || info.Name != "Globex" || info.Tracker != "asana" || len(info.Modes) == 0 || info.Modes[0] != engine.ModeBasic {
		t.Errorf("probe of a node: %+v, %v", info, err)
	}
	if cs, _ := a.Connections(ctx); len(cs) != 0 {
		t.Errorf("failed invites left %d connections", len(cs))
	}
}

func TestRestartKeepsInstanceAndToken(t *testing.T) {
	a := startNode(t, "Acme", &clock{})
	id, token := a.Info().ID, a.token
	a.stop()
	a.start(t, "Acme")
	if a.Info().ID != id || a.AdminTokenOnce() != "" {
		t.Errorf("restart: id %s→%s, token printed again: %q", id, a.Info().ID, a.AdminTokenOnce())
	}
	if !a.CheckAdminToken(ctxFor(t), token) || a.CheckAdminToken(ctxFor(t), token+"x") || a.CheckAdminToken(ctxFor(t), "") {
		t.Error("the admin token from the first start is not the one that works")
	}
}
