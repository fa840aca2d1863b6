package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
)

// lyingPeer makes the sending node a signed but hostile peer: its tracker
// gives every entity one more attachment, announced at one size and
// streamed at another, its zeros made as they are read and counted.
type lyingPeer struct {
	*asana.Tracker
	announced, actual int64
	sent              *atomic.Int64 // bytes handed to the node's peer API
	opens             *atomic.Int64 // downloads started
}

const lieName = "payload.bin"

func newLyingPeer(announced, actual int64) lyingPeer {
	return lyingPeer{announced: announced, actual: actual, sent: new(atomic.Int64), opens: new(atomic.Int64)}
}

// on makes node a (restarted) serve the lie.
func (l lyingPeer) on(t *testing.T, a *testNode) {
	t.Helper()
	a.wrap = func(tr *asana.Tracker) engine.Tracker { l.Tracker = tr; return l }
	a.stop()
	a.start(t, "Acme")
}

func (l lyingPeer) Get(ctx context.Context, id string) (engine.Entity, error) {
	e, err := l.Tracker.Get(ctx, id)
	if err == nil {
		e.Attachments = append(e.Attachments, engine.Attachment{ID: "lie-" + id, Name: lieName, Size: l.announced})
	}
	return e, err
}

func (l lyingPeer) OpenAttachment(ctx context.Context, id string) (io.ReadCloser, engine.Attachment, error) {
	if !strings.HasPrefix(id, "lie-") {
		return l.Tracker.OpenAttachment(ctx, id)
	}
	l.opens.Add(1)
	return io.NopCloser(&zeros{left: l.actual, sent: l.sent}), engine.Attachment{ID: id, Name: lieName, Size: l.announced}, nil
}

// zeros is a stream of left zero bytes that costs no memory.
type zeros struct {
	left int64
	sent *atomic.Int64
}

func (z *zeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.left))
	clear(p[:n])
	z.left -= int64(n)
	z.sent.Add(int64(n))
	return n, nil
}

// slack is what the sender may have pushed into the loopback socket's
// buffers and the copy buffers past what the receiver read.
const slack = 16 << 20

// exalateWatched creates an item on a's side and syncs it, with b's events
// watched from before the sync began.
func exalateWatched(t *testing.T, a, b *testNode, project, summary string) (engine.StageEvent, <-chan engine.StageEvent) {
	t.Helper()
	src, err := a.et().Create(ctxFor(t), engine.NewEntity{Project: project, Summary: summary})
	if err != nil {
		t.Fatal(err)
	}
	events, stop := b.Subscribe()
	t.Cleanup(stop)
	first, err := a.Exalate(ctxFor(t), "", src.ID)
	if err != nil {
		t.Fatal(err)
	}
	return first, events
}

// failures waits for count failed tries of sync eventID on n, in order.
func failures(t *testing.T, events <-chan engine.StageEvent, eventID string, count int, within time.Duration) []engine.StageEvent {
	t.Helper()
	var seen []engine.StageEvent
	deadline := time.After(within)
	for len(seen) < count {
		select {
		case ev := <-events:
			if ev.EventID == eventID && ev.Error != "" {
				seen = append(seen, ev)
			}
		case <-deadline:
			t.Fatalf("saw %d failed tries of sync %s within %v, want %d: %+v", len(seen), eventID, within, count, seen)
		}
	}
	return seen
}

// partFiles lists the attachments in transit in a data dir.
func partFiles(t *testing.T, dir string) []string {
	t.Helper()
	parts, err := filepath.Glob(filepath.Join(dir, "attachment-*.part"))
	if err != nil {
		t.Fatal(err)
	}
	return parts
}

// TestHostilePeerAttachmentStopsAtTheLimit: a peer announces a small
// attachment, or none at all, and streams 300 MB. The receiver reads at
// most one byte past the limit (the announced size, else Asana's 100 MB),
// deletes the partial file at once, fails the sync saying why, backs off,
// and never downloads it again.
func TestHostilePeerAttachmentStopsAtTheLimit(t *testing.T) {
	for _, tc := range []struct {
		name             string
		announced, limit int64
		why              string
	}{
		{"announced 64 KB", 64 << 10, 64 << 10, "announced 65536"},
		{"announced no size", 0, asana.MaxAttachmentSize, "announced no size; asana takes at most 104857600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, connA, _ := connected(t)
			lie := newLyingPeer(tc.announced, 300<<20)
			lie.on(t, a)
			began := time.Now()
			first, events := exalateWatched(t, a, b, connA.LocalProject, "Innocent-looking task")
			fails := failures(t, events, first.EventID, 1, 30*time.Second)
			if parts := partFiles(t, b.dir); len(parts) > 0 {
				t.Errorf("after the refusal the data dir still holds %q", parts)
			}
			want := fmt.Sprintf("attachment %q from Acme: more than %d bytes (%s); refused", lieName, tc.limit, tc.why)
			if !strings.Contains(fails[0].Error, want) {
				t.Errorf("the sync's error:\n %q\nwant it to say\n %q", fails[0].Error, want)
			}
			t.Logf("refused after %v", time.Since(began).Round(time.Millisecond))

			// The tries that follow back off, each longer than the one two
			// before, and none downloads the bytes again.
			fails = append(fails, failures(t, events, first.EventID, 3, 30*time.Second)...)
			for i, f := range fails {
				if !f.NextRetry.After(f.At) {
					t.Errorf("try %d: next retry %v is not after the failure at %v", i+1, f.NextRetry, f.At)
				}
				if !strings.Contains(f.Error, "refused") {
					t.Errorf("try %d: error %q", i+1, f.Error)
				}
			}
			if gap12, gap34 := fails[1].At.Sub(fails[0].At), fails[3].At.Sub(fails[2].At); gap34 <= gap12 {
				t.Errorf("the retries do not back off: %v between tries 1 and 2, %v between tries 3 and 4", gap12, gap34)
			}
			if n := lie.opens.Load(); n != 1 {
				t.Errorf("the attachment was downloaded %d times over 4 tries, want once", n)
			}
			// The sender may write a little more into the socket before it
			// sees the connection closed; what counts is the total.
			if sent := lie.sent.Load(); sent <= tc.limit || sent > tc.limit+slack {
				t.Errorf("the peer streamed %d bytes in all; want just over the limit of %d (slack %d)", sent, tc.limit, slack)
			} else {
				t.Logf("the peer streamed %.1f MB of its 300 MB in all", float64(sent)/(1<<20))
			}
			if parts := partFiles(t, b.dir); len(parts) > 0 {
				t.Errorf("the data dir holds %q", parts)
			}
			if !strings.Contains(b.log.String(), "attachment refused") {
				t.Error("the refusal was not logged")
			}
			t.Logf("4 tries in %v, at +%v", fails[3].At.Sub(fails[0].At).Round(time.Millisecond), gaps(fails))
		})
	}
}

func gaps(evs []engine.StageEvent) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(evs); i++ {
		out = append(out, evs[i].At.Sub(evs[i-1].At).Round(time.Millisecond))
	}
	return out
}

// TestAnnouncedOverTheLimitIsNeverDownloaded: an attachment announced over
// the tracker's limit is skipped and shown without a byte moving.
func TestAnnouncedOverTheLimitIsNeverDownloaded(t *testing.T) {
	a, b, connA, _ := connected(t)
	lie := newLyingPeer(asana.MaxAttachmentSize+1, 300<<20)
	lie.on(t, a)
	ctx := ctxFor(t)
	src, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "Oversized"})
	if err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a, src.ID)
	st, err := a.EventStatus(ctx, done.ConnectionID, done.EventID)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Skipped) != 1 || !strings.Contains(st.Skipped[0], lieName) {
		t.Errorf("skipped: %q", st.Skipped)
	}
	if n, sent := lie.opens.Load(), lie.sent.Load(); n != 0 || sent != 0 {
		t.Errorf("downloads started: %d, bytes streamed: %d; want none", n, sent)
	}
	if parts := partFiles(t, b.dir); len(parts) > 0 {
		t.Errorf("the data dir holds %q", parts)
	}
}

// TestAttachmentDiskBudget: with a 256 KB budget for attachments in
// transit, one announced larger is refused before it is downloaded, and
// one announced with no size stops at the budget, its partial file gone;
// both are failures to retry, not refusals.
func TestAttachmentDiskBudget(t *testing.T) {
	const budget = 256 << 10
	for _, tc := range []struct {
		name      string
		announced int64
		opens     bool
		want      string
	}{
		{"announced over the budget", 300 << 10, false, "attachment \"payload.bin\" is 300 KB, more than this node's whole budget of 256 KB"},
		{"streamed over the budget", 0, true, "more than 262144 bytes (announced no size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, connA, _ := connected(t)
			b.config = func(c *engine.Config) { c.AttachmentBudget = budget }
			b.stop()
			b.start(t, "Globex")
			lie := newLyingPeer(tc.announced, 300<<20)
			lie.on(t, a)
			first, events := exalateWatched(t, a, b, connA.LocalProject, "Big file")
			f := failures(t, events, first.EventID, 1, 30*time.Second)[0]
			if !strings.Contains(f.Error, tc.want) {
				t.Errorf("the sync's error %q does not say %q", f.Error, tc.want)
			}
			if parts := partFiles(t, b.dir); len(parts) > 0 {
				t.Errorf("the data dir holds %q", parts)
			}
			if opened := lie.opens.Load() > 0; opened != tc.opens {
				t.Errorf("downloaded: %v, want %v", opened, tc.opens)
			}
			if sent := lie.sent.Load(); sent > budget+slack {
				t.Errorf("the peer streamed %d bytes, over the budget of %d (slack %d)", sent, budget, slack)
			}
		})
	}
}

// TestFullDiskIsOneClearError: below its minimum of free space the node
// says so in /healthz (503, one line), in the sync's error and in its
// log, and copies nothing; with space again it is ok.
func TestFullDiskIsOneClearError(t *testing.T) {
	a, b, connA, _ := connected(t)
	var free atomic.Int64
	free.Store(10 << 30)
	b.config = func(c *engine.Config) {
		c.FreeSpace = func(string) (uint64, error) { return uint64(free.Load()), nil }
	}
	b.stop()
	b.start(t, "Globex")
	health := func() (int, string) {
		resp, err := http.Get(b.url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(body))
	}
	if code, body := health(); code != 200 || body != "ok" {
		t.Fatalf("healthz with room: %d %q", code, body)
	}
	free.Store(12 << 20)
	want := fmt.Sprintf("disk full: 12 MB free in %s, need 64 MB", b.dir)
	if code, body := health(); code != 503 || body != "not ok: disk full; the node's log says more" {
		t.Errorf("healthz on a full disk: %d %q, want 503 and disk full", code, body)
	}
	if code, body := health(); strings.Contains(body, b.dir) {
		t.Errorf("healthz tells anyone the data dir: %d %q", code, body)
	}
	if err := b.Health(ctxFor(t)); !errors.Is(err, engine.ErrDiskFull) {
		t.Errorf("Health: %v, want ErrDiskFull", err)
	}

	lie := newLyingPeer(1<<10, 1<<10)
	lie.on(t, a)
	ctx := ctxFor(t)
	first, events := exalateWatched(t, a, b, connA.LocalProject, "With a file")
	f := failures(t, events, first.EventID, 1, 30*time.Second)[0]
	if !strings.Contains(f.Error, want) {
		t.Errorf("the sync's error %q does not say %q", f.Error, want)
	}
	// The failure is logged just after it is recorded and published.
	within(t, 5*time.Second, "the full disk in the log", func() bool { return strings.Contains(b.log.String(), "disk full") })
	if n := lie.opens.Load(); n != 0 {
		t.Errorf("%d downloads started on a full disk", n)
	}

	// Space again: healthy, and the sync goes through on its next try.
	free.Store(10 << 30)
	if code, body := health(); code != 200 || body != "ok" {
		t.Errorf("healthz with room again: %d %q", code, body)
	}
	within(t, 30*time.Second, "the sync to finish once the disk has room", func() bool {
		st, err := a.EventStatus(ctx, first.ConnectionID, first.EventID)
		return err == nil && st.Stage == engine.StageSynchronized
	})
}

// TestLeftoverPartsAreRemovedAtStart: the attachments in transit a crash
// left behind go when the node starts.
func TestLeftoverPartsAreRemovedAtStart(t *testing.T) {
	n := startNode(t, "Acme", &clock{})
	n.stop()
	for i := range 3 {
		if err := os.WriteFile(filepath.Join(n.dir, fmt.Sprintf("attachment-%d.part", i)), make([]byte, 1<<10), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keep := filepath.Join(n.dir, "notes.txt")
	if err := os.WriteFile(keep, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n.start(t, "Acme")
	if parts := partFiles(t, n.dir); len(parts) > 0 {
		t.Errorf("after a start the data dir still holds %q", parts)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("a file that is not an attachment in transit was touched: %v", err)
	}
}
