package engine_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/tandem-sync/tandem/engine"
)

// oneRow are Basic rules that show a single row of their own, so the Rules
// tab's rows can be told apart from Basic's.
type oneRow struct{ engine.Basic }

func (oneRow) Rows() []engine.Rule {
	return []engine.Rule{{Order: 1, ThisSide: "Summary", OtherSide: "Title", Note: "oneRow"}}
}

// TestConnectionRules: a connection's rules rows come from the node's rules,
// the same in process (the node, its Admin view) and through the admin API
// and its client, by id or by name; an unknown connection is ErrNotFound
// on every path.
func TestConnectionRules(t *testing.T) {
	a := startNode(t, "Acme", &clock{}, func(n *testNode) { n.config = func(c *engine.Config) { c.Rules = oneRow{} } })
	b := startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	connA, err := a.Connect(ctx, engine.ConnectRequest{To: b.url, DestToken: b.token, DestProject: "Test", Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	connsB, err := b.Connections(ctx)
	if err != nil || len(connsB) != 1 {
		t.Fatalf("Globex's connections: %+v, %v", connsB, err)
	}
	rc := a.remote(t)
	for _, tc := range []struct {
		name string
		get  func() ([]engine.Rule, error)
		want []engine.Rule
	}{
		{"node", func() ([]engine.Rule, error) { return a.Rules(ctx, connA.ID) }, oneRow{}.Rows()},
		{"admin by name", func() ([]engine.Rule, error) { return a.Admin().Rules(ctx, connA.Name) }, oneRow{}.Rows()},
		{"remote", func() ([]engine.Rule, error) { return rc.Rules(ctx, connA.ID) }, oneRow{}.Rows()},
		{"basic", func() ([]engine.Rule, error) { return b.Admin().Rules(ctx, connsB[0].ID) }, engine.BasicRules()},
	} {
		got, err := tc.get()
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: rules %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	if _, err := a.Admin().Rules(ctx, "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Rules of an unknown connection: err = %v, want ErrNotFound", err)
	}
	if _, err := rc.Rules(ctx, "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("remote Rules of an unknown connection: err = %v, want ErrNotFound", err)
	}
}
