package engine_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/store"
)

// dropOut are rules that never send the description: Basic without it on
// the way out.
type dropOut struct{ engine.Basic }

func (dropOut) Fields() []string {
	return slices.DeleteFunc(engine.Basic{}.Fields(), func(f string) bool { return f == engine.FieldDescription })
}

func (d dropOut) Outgoing(ctx context.Context, e engine.Entity, twin *store.Twin) (engine.Outgoing, error) {
	out, err := d.Basic.Outgoing(ctx, e, twin)
	out.Source.Description = ""
	return out, err
}

// dropIn are rules that never write a description they receive, and mark
// the comments they write.
type dropIn struct{ engine.Basic }

func (d dropIn) Incoming(ctx context.Context, in engine.Incoming) (engine.Applied, error) {
	ch, err := d.Basic.Incoming(ctx, in)
	ch.Update.Description = nil
	return ch, err
}

func (d dropIn) Comment(c engine.ReplicaComment, origin string) string {
	return "<body>[dropIn] " + strings.TrimPrefix(d.Basic.Comment(c, origin), "<body>")
}

// TestPipelineCallsTheRules: a node's rules (Config.Rules), not a field list
// of the pipeline's, decide what a sync carries and what it writes. Rules
// that drop the description, on the sending side or on the receiving one,
// leave the twin without it, and the receiving side's rules write its
// comments, when the twin is made and when it is updated; neither makes a
// sync echo.
func TestPipelineCallsTheRules(t *testing.T) {
	for _, tc := range []struct {
		name          string
		source, dest  engine.Rules
		markedComment bool
	}{
		{name: "outgoing", source: dropOut{}},
		{name: "incoming", dest: dropIn{}, markedComment: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withRules := func(r engine.Rules) func(*testNode) {
				return func(n *testNode) { n.config = func(c *engine.Config) { c.Rules = r } }
			}
			a := startNode(t, "Acme", &clock{}, withRules(tc.source))
			b := startNode(t, "Globex", &clock{}, withRules(tc.dest))
			ctx := ctxFor(t)
			c, err := a.Connect(ctx, engine.ConnectRequest{To: b.url, DestToken: b.token, DestProject: "Test", Project: "Company"})
			if err != nil {
				t.Fatal(err)
			}
			src, err := a.et().Create(ctx, engine.NewEntity{Project: c.LocalProject, Summary: "Launch plan",
				Description: "<body>The secret plan</body>"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.et().AddComment(ctx, src.ID, "<body>Looks good</body>"); err != nil {
				t.Fatal(err)
			}
			if src, err = a.et().Get(ctx, src.ID); err != nil || !strings.Contains(src.Description, "secret plan") {
				t.Fatalf("the source task: %+v, %v", src, err)
			}
			done := exalate(t, a, src.ID)
			dst, err := b.et().Get(ctx, done.RemoteKey)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(dst.Description, "secret plan") {
				t.Errorf("the twin's description is %q; the rules drop it", dst.Description)
			}
			if dst.Summary != src.Summary {
				t.Errorf("the twin's summary is %q, want %q", dst.Summary, src.Summary)
			}
			if n := countContaining(dst.Comments, "Looks good"); n != 1 {
				t.Fatalf("the comment is on the twin %d times, want once", n)
			}
			if marked := countContaining(dst.Comments, "[dropIn]") == 1; marked != tc.markedComment {
				t.Errorf("the twin's comment %q: written by the receiving rules is %v, want %v", dst.Comments[0].Body, marked, tc.markedComment)
			}
			// An edit takes the same rules to the existing twin.
			summary, description := "Launch plan, v2", "<body>The secret plan, v2</body>"
			if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &summary, Description: &description}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the edit on Globex", func() bool {
				e, err := b.et().Get(ctx, done.RemoteKey)
				return err == nil && e.Summary == summary
			})
			quiet(t, a, b)
			if e, err := b.et().Get(ctx, done.RemoteKey); err != nil || strings.Contains(e.Description, "secret plan") {
				t.Errorf("after the edit, the twin's description is %q (%v); the rules drop it", e.Description, err)
			}
			if got := sent(t, a); got != 2 {
				t.Errorf("Acme sent %d replicas for two syncs (an echo?)", got)
			}
			if got := sent(t, b); got != 0 {
				t.Errorf("Globex sent %d replicas back", got)
			}
		})
	}
}
