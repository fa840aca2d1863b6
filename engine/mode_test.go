package engine_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

// scriptStandIn stands in for Script mode's rules until that mode exists:
// Basic with rows of its own, so a test can tell whose rows a connection
// shows.
type scriptStandIn struct{ engine.Basic }

func (scriptStandIn) Rows() []engine.Rule {
	return []engine.Rule{{Order: 1, ThisSide: "Summary", OtherSide: "Summary", Note: "script stand-in"}}
}

// Comment marks the comments the stand-in writes, so a test can tell which
// rules the pipeline applied.
func (scriptStandIn) Comment(c engine.ReplicaComment, origin string) string {
	return engine.Basic{}.Comment(c, origin+" via script")
}

// withScript makes a node support Script mode, with the stand-in rules.
func withScript(n *testNode) {
	n.config = func(c *engine.Config) { c.Modes = map[engine.Mode]engine.Rules{engine.ModeScript: scriptStandIn{}} }
}

// withoutScript makes a node as a tandem without Script mode is.
func withoutScript(n *testNode) {
	n.config = func(c *engine.Config) { c.Modes = map[engine.Mode]engine.Rules{engine.ModeScript: nil} }
}

// connectionsOf lists a node's connections, failing the test on error.
func connectionsOf(t *testing.T, n *testNode) []engine.Connection {
	t.Helper()
	cs, err := n.Connections(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestInvitationCarriesMode: the mode chosen on the inviting node is in
// the code, and both ends of the connection record it; the Rules tab of
// each shows its mode's rules, and each node advertises what it supports.
func TestInvitationCarriesMode(t *testing.T) {
	t.Run("basic by default", func(t *testing.T) {
		a, b, connA, connB := connectedPair(t, startNode, "Test")
		if connA.Mode != engine.ModeBasic || connB.Mode != engine.ModeBasic {
			t.Errorf("modes = %q and %q, want basic on both sides", connA.Mode, connB.Mode)
		}
		for _, n := range []*testNode{a, b} {
			if got := n.Info().Modes; !slices.Equal(got, []engine.Mode{engine.ModeBasic, engine.ModeScript}) {
				t.Errorf("%s advertises the modes %v, want [basic script]", n.Info().Name, got)
			}
		}
		if got := startNode(t, "Initech", &clock{}, withoutScript).Info().Modes; !slices.Equal(got, []engine.Mode{engine.ModeBasic}) {
			t.Errorf("a node with Script mode turned off advertises %v, want [basic]", got)
		}
	})
	t.Run("script", func(t *testing.T) {
		a, b := startNode(t, "Acme", &clock{}, withScript), startNode(t, "Globex", &clock{}, withScript)
		ctx := ctxFor(t)
		if got := a.Info().Modes; !slices.Equal(got, []engine.Mode{engine.ModeBasic, engine.ModeScript}) {
			t.Errorf("a node with Script rules advertises %v, want [basic script]", got)
		}
		connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company", Mode: engine.ModeScript})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := engine.ParseInvitation(code, time.Now())
		if err != nil || inv.Mode != engine.ModeScript || connA.Mode != engine.ModeScript {
			t.Fatalf("the code carries %q (%v) and the connection %q, want script", inv.Mode, err, connA.Mode)
		}
		if p, err := b.PreviewInvitation(ctx, code); err != nil || p.Mode != engine.ModeScript {
			t.Errorf("preview: mode %q (%v), want script", p.Mode, err)
		}
		connB, err := b.Accept(ctx, code, "Test")
		if err != nil {
			t.Fatal(err)
		}
		if connB.Mode != engine.ModeScript {
			t.Errorf("the accepting side recorded %q, want script", connB.Mode)
		}
		if c, err := a.ConnectionByID(ctx, connA.ID); err != nil || c.Mode != engine.ModeScript || c.Status != engine.StatusActive {
			t.Errorf("the inviting side: %+v (%v), want an Active script connection", c, err)
		}
		for _, side := range []struct {
			n  *testNode
			id string
		}{{a, connA.ID}, {b, connB.ID}} {
			rows, err := side.n.Rules(ctx, side.id)
			if err != nil || len(rows) != 1 || rows[0].Note != "script stand-in" {
				t.Errorf("%s's rules of the script connection: %v (%v), want the script rules", side.n.Info().Name, rows, err)
			}
		}
	})
}

// oldFormat rewrites a code the way a node before modes wrote it: the same
// payload without its mode, checksummed as ParseInvitation expects.
func oldFormat(t *testing.T, code string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(code, "tdm1."))
	if err != nil {
		t.Fatal(err)
	}
	var payload map[string]json.RawMessage
	if err := json.Unmarshal(raw[:len(raw)-8], &payload); err != nil {
		t.Fatal(err)
	}
	if _, ok := payload["m"]; !ok {
		t.Fatalf("the code has no mode to take out: %s", raw[:len(raw)-8])
	}
	delete(payload, "m")
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return "tdm1." + base64.RawURLEncoding.EncodeToString(append(data, sum[:8]...))
}

// TestOldCodeWithoutModeIsBasic: a code made before codes carried a mode
// is still accepted, as Basic.
func TestOldCodeWithoutModeIsBasic(t *testing.T) {
	a, b := startNode(t, "Acme", &clock{}), startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	old := oldFormat(t, code)
	if inv, err := engine.ParseInvitation(old, time.Now()); err != nil || inv.Mode != engine.ModeBasic {
		t.Fatalf("an old code reads as mode %q (%v), want basic", inv.Mode, err)
	}
	connB, err := b.Accept(ctx, old, "Test")
	if err != nil {
		t.Fatal(err)
	}
	if connB.Mode != engine.ModeBasic || connB.Status != engine.StatusActive {
		t.Errorf("accepted from an old code: %+v, want an Active basic connection", connB)
	}
	if c, err := a.ConnectionByID(ctx, connA.ID); err != nil || c.Status != engine.StatusActive || c.Mode != engine.ModeBasic {
		t.Errorf("the inviting side: %+v (%v), want an Active basic connection", c, err)
	}
}

// TestUnsupportedModeRefused: a mode a node does not support is refused
// with ErrModeUnsupported, in process and over the admin API, naming the
// node to upgrade, and nothing is created there.
func TestUnsupportedModeRefused(t *testing.T) {
	a, b := startNode(t, "Acme", &clock{}, withScript), startNode(t, "Globex", &clock{}, withoutScript)
	ctx := ctxFor(t)
	wantRefusal := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, engine.ErrModeUnsupported) || !strings.Contains(err.Error(), "Script mode") ||
			!strings.Contains(err.Error(), "upgrade tandem on Globex") {
			t.Errorf("%s: err = %v, want ErrModeUnsupported saying to upgrade tandem on Globex", what, err)
		}
	}

	// Invited by a node that supports Script, in a code without a URL.
	connA, code, err := a.Invite(ctx, engine.InviteRequest{Project: "Company", Mode: engine.ModeScript})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Accept(ctx, code, "Test")
	wantRefusal("accepting a Script code", err)
	_, err = b.remote(t).Accept(ctx, code, "Test")
	wantRefusal("accepting a Script code through the admin API", err)
	if cs := connectionsOf(t, b); len(cs) != 0 {
		t.Errorf("the refusing node made connections: %+v", cs)
	}
	if c, err := a.ConnectionByID(ctx, connA.ID); err != nil || c.Status != engine.StatusPending {
		t.Errorf("the inviting side after the refusal: %+v (%v), want still Pending", c, err)
	}

	// Asked of the inviting node, with the destination's URL: refused
	// before anything is made.
	before := len(connectionsOf(t, a))
	_, _, err = a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company", Mode: engine.ModeScript})
	wantRefusal("inviting Globex in Script mode", err)
	_, err = a.Connect(ctx, engine.ConnectRequest{To: b.url, DestToken: b.token, Project: "Company", DestProject: "Test", Mode: engine.ModeScript})
	wantRefusal("connecting to Globex in Script mode", err)
	if after := len(connectionsOf(t, a)); after != before {
		t.Errorf("refused invitations left connections: %d, was %d", after, before)
	}

	// Asked of a node that lacks the mode itself.
	_, _, err = b.Invite(ctx, engine.InviteRequest{Project: "Test", Mode: engine.ModeScript})
	wantRefusal("Globex inviting in Script mode", err)
	_, _, err = b.remote(t).Invite(ctx, adminapi.InviteRequest{Project: "Test", Mode: engine.ModeScript})
	wantRefusal("Globex inviting in Script mode through the admin API", err)
	if _, _, err := b.Invite(ctx, engine.InviteRequest{Project: "Test", Mode: "fancy"}); !errors.Is(err, engine.ErrBadRequest) ||
		!strings.Contains(err.Error(), "basic, script") {
		t.Errorf("an unknown mode: err = %v, want ErrBadRequest listing the modes", err)
	}
	if cs := connectionsOf(t, b); len(cs) != 0 {
		t.Errorf("refused invitations left connections: %+v", cs)
	}
}

// TestModeThroughAdminAPI: the admin API's client sees the modes a node
// supports and each connection's mode, as the node says them.
func TestModeThroughAdminAPI(t *testing.T) {
	a := startNode(t, "Acme", &clock{})
	ctx := ctxFor(t)
	rc := a.remote(t)
	info, err := rc.Info(ctx)
	if err != nil || !slices.Equal(info.Modes, []engine.Mode{engine.ModeBasic, engine.ModeScript}) {
		t.Errorf("instance info through the API: modes %v (%v), want [basic script]", info.Modes, err)
	}
	conn, code, err := rc.Invite(ctx, adminapi.InviteRequest{Project: "Company", Mode: adminapi.ModeBasic})
	if err != nil || conn.Mode != engine.ModeBasic || code == "" {
		t.Fatalf("invite through the API: %+v (%v), want a basic connection", conn, err)
	}
	cs, err := rc.Connections(ctx)
	if err != nil || len(cs) != 1 || cs[0].Mode != engine.ModeBasic {
		t.Errorf("connections through the API: %+v (%v), want one in basic mode", cs, err)
	}
	if c, err := rc.Connection(ctx, conn.ID); err != nil || c.Mode != engine.ModeBasic {
		t.Errorf("the connection through the API: mode %q (%v), want basic", c.Mode, err)
	}
}

// TestPipelineRunsTheConnectionsRules: a connection syncs with its own
// mode's rules, not the node's Basic ones, and a connection whose mode
// the node no longer supports fails its syncs with a clear error instead
// of syncing by other rules.
func TestPipelineRunsTheConnectionsRules(t *testing.T) {
	a, b := startNode(t, "Acme", &clock{}, withScript), startNode(t, "Globex", &clock{}, withScript)
	ctx := ctxFor(t)
	_, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company", Mode: engine.ModeScript})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	project := connectionsOf(t, a)[0].LocalProject
	task, err := a.et().Create(ctx, engine.NewEntity{Project: project, Summary: "Scripted"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.et().AddComment(ctx, task.ID, "<body>hello from Acme</body>"); err != nil {
		t.Fatal(err)
	}
	synced := exalate(t, a, task.ID)
	twin := read(t, b, synced.RemoteKey)
	if len(twin.Comments) != 1 || !strings.Contains(twin.Comments[0].Body, "Acme via script") {
		t.Fatalf("the twin's comments %+v: want one written by the Script rules", twin.Comments)
	}
}
