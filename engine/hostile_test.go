package engine_test

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/tracker/richtext"
)

var manyComments = flag.Int("hostile.comments", 10_000, "comments on the one task of TestTenThousandComments")

// plainBodies is the text of each comment, in order.
func plainBodies(t *testing.T, cs []engine.Comment) []string {
	t.Helper()
	var out []string
	for _, c := range cs {
		p, err := richtext.ToPlain(c.Body)
		if err != nil {
			t.Fatalf("comment %s: %v", c.ID, err)
		}
		out = append(out, p)
	}
	return out
}

func canonical(t *testing.T, html string) string {
	t.Helper()
	c, err := richtext.Canonical(html)
	if err != nil {
		t.Fatalf("%v: %.100q", err, html)
	}
	return c
}

// TestHostileTextSyncsFaithfully: right-to-left and bidi controls, emoji,
// and markup that would be an injection if anyone rendered it unescaped,
// in the summary, the description and a comment, arrive as they left.
func TestHostileTextSyncsFaithfully(t *testing.T) {
	a, b, connA, _ := connected(t)
	ctx := ctxFor(t)
	summary := "مرحبا \u202Eevil\u202C <script>alert('x')</script> & \"quotes\" 🎉 שלום ẞ"
	description := `<body><strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong> שלום 🎉 &amp; <a href="https://example.com/?a=1&amp;b=2">a link</a>` +
		"\n<ul><li>\u202Eright to left</li><li>&lt;img src=x onerror=alert(1)&gt;</li></ul></body>"
	src, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: summary, Description: description})
	if err != nil {
		t.Fatal(err)
	}
	comment := `<body>&lt;/body&gt;&lt;script&gt;steal()&lt;/script&gt; مرحبا 🎉 "<em>quoted</em>"</body>`
	if _, err := a.et().AddComment(ctx, src.ID, comment); err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a, src.ID)
	want, err := a.et().Get(ctx, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.et().Get(ctx, done.RemoteKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary != summary {
		t.Errorf("summary:\n got %q\nwant %q", got.Summary, summary)
	}
	if g, w := canonical(t, got.Description), canonical(t, want.Description); g != w {
		t.Errorf("description:\n got %q\nwant %q", g, w)
	}
	wantText := plainBodies(t, want.Comments)
	gotText := plainBodies(t, got.Comments)
	if len(gotText) != 1 || !strings.Contains(gotText[0], wantText[0]) {
		t.Errorf("comment:\n got %q\nwant one containing %q", gotText, wantText)
	}
}

// TestMegabyteDescriptionSyncs: a 1 MB description travels whole.
func TestMegabyteDescriptionSyncs(t *testing.T) {
	if testing.Short() {
		t.Skip("a megabyte description: content, not concurrency, and slow under the race detector; the plain run covers it")
	}
	a, b, connA, _ := connected(t)
	ctx := ctxFor(t)
	var sb strings.Builder
	sb.WriteString("<body>")
	for i := 0; sb.Len() < 1<<20; i++ {
		fmt.Fprintf(&sb, "<strong>Paragraph %d</strong> lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", i)
	}
	sb.WriteString("</body>")
	src, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "A very long brief", Description: sb.String()})
	if err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a, src.ID)
	got, err := b.et().Get(ctx, done.RemoteKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Description) < 1<<20 || canonical(t, got.Description) != canonical(t, sb.String()) {
		t.Errorf("the 1 MB description arrived as %d bytes, not equal", len(got.Description))
	}
}

// hugeAttachment is a tracker whose entities carry one more attachment,
// of 101 MB: over Asana's limit, so the receiving side must refuse it
// before a byte moves, say so, and apply the rest.
type hugeAttachment struct{ *asana.Tracker }

const hugeName = "disk-image.iso"

func (h hugeAttachment) Get(ctx context.Context, id string) (engine.Entity, error) {
	e, err := h.Tracker.Get(ctx, id)
	if err == nil {
		e.Attachments = append(e.Attachments, engine.Attachment{ID: "huge-" + id, Name: hugeName, Size: 101 << 20})
	}
	return e, err
}

func TestOversizedAttachmentIsRefusedAndShown(t *testing.T) {
	a, b, connA, _ := connected(t)
	a.wrap = func(tr *asana.Tracker) engine.Tracker { return hugeAttachment{tr} }
	a.stop()
	a.start(t, "Acme")
	ctx := ctxFor(t)
	ids, err := a.et().List(ctx, connA.LocalProject)
	if err != nil {
		t.Fatal(err)
	}
	var src engine.Entity
	for _, id := range ids {
		if e, err := a.et().Get(ctx, id); err == nil && len(e.Attachments) > 0 {
			src = e
			break
		}
	}
	if src.ID == "" {
		t.Fatal("no seeded task with an attachment")
	}
	done := exalate(t, a, src.ID)
	st, err := a.EventStatus(ctx, done.ConnectionID, done.EventID)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Skipped) != 1 || !strings.Contains(st.Skipped[0], hugeName) || !strings.Contains(st.Skipped[0], "limit") {
		t.Errorf("what was not synced: %q, want the 101 MB attachment named with the limit", st.Skipped)
	}
	got, err := b.et().Get(ctx, done.RemoteKey)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, at := range got.Attachments {
		names = append(names, at.Name)
	}
	if len(names) != len(src.Attachments) || slices.Contains(names, hugeName) {
		t.Errorf("attachments on Globex: %q; want the %d real ones and not %s", names, len(src.Attachments), hugeName)
	}
	if !strings.Contains(a.log.String(), "not synced") {
		t.Error("the skipped attachment was not logged")
	}
}

// TestTenThousandComments: one task with 10,000 comments syncs every one
// of them, once, in order. -hostile.comments changes the number.
func TestTenThousandComments(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	a, b, connA, _ := connected(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	src, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "A very busy thread"})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	for i := range *manyComments {
		if _, err := a.client.AddComment(ctx, src.ID, fmt.Sprintf("<body>comment %d</body>", i)); err != nil {
			t.Fatal(err)
		}
	}
	seeded := time.Since(began)
	began = time.Now()
	done := exalateSlow(t, a, src.ID, 5*time.Minute)
	synced := time.Since(began)
	got, err := b.et().Get(ctx, done.RemoteKey)
	if err != nil {
		t.Fatal(err)
	}
	texts := plainBodies(t, got.Comments)
	if len(texts) != *manyComments {
		t.Fatalf("%d comments arrived, want %d", len(texts), *manyComments)
	}
	for i, text := range texts {
		if !strings.HasSuffix(text, fmt.Sprintf("comment %d", i)) {
			t.Fatalf("comment %d reads %q", i, text)
		}
	}
	// A second sync has nothing to add.
	again := exalateSlow(t, a, src.ID, 5*time.Minute)
	if got2, _ := b.et().Get(ctx, again.RemoteKey); len(got2.Comments) != *manyComments {
		t.Errorf("after a second sync: %d comments", len(got2.Comments))
	}
	t.Logf("%d comments: seeded in %v, synced in %v", *manyComments, seeded.Round(time.Millisecond), synced.Round(time.Millisecond))
}

// exalateSlow is exalate for a sync that takes minutes: it polls the
// sync's status until Synchronized or the deadline.
func exalateSlow(t *testing.T, n *testNode, ref string, within time.Duration) engine.StageEvent {
	t.Helper()
	first, err := n.Exalate(ctxFor(t), "", ref)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(within)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := n.EventStatus(ctxFor(t), first.ConnectionID, first.EventID)
		if err == nil && st.Stage == engine.StageSynchronized {
			return st.StageEvent
		}
		if time.Now().After(deadline) {
			t.Fatalf("sync of %s not Synchronized within %v: %+v, %v", ref, within, st.StageEvent, err)
		}
		<-tick.C
	}
}
