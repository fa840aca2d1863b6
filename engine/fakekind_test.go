package engine_test

// The fake tracker kind: the smallest tracker the engine can sync, defined
// in this file alone to show that adding a tracker is local. Its Kind value
// has the fields the pair tests use (a vocabulary, a sandbox and the
// project to sync); its sandbox is an in-memory board of cards behind the
// engine's tracker contract. TestFakeKindRunsThePairTests runs every pair
// test over Asana↔fake. Deleting this file leaves every other test
// compiling and passing.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker"
	"github.com/tandem-sync/tandem/internal/trackers"
)

// TestFakeKindRunsThePairTests runs every pair test over Asana and the
// fake kind, started from its Kind value like any kind of trackers.All.
func TestFakeKindRunsThePairTests(t *testing.T) {
	p := pairWith(fakeKind())
	for _, pt := range pairTests() {
		t.Run(pt.name, func(t *testing.T) { pt.run(t, p) })
	}
}

// fakeKind is a tracker of cards on one board. A real kind would also fill
// in Flags, Check, New and SandboxCommand for `tandem serve` and `tandem
// sandbox`; the tests need none of them.
func fakeKind() trackers.Kind {
	return trackers.Kind{
		Vocabulary: tracker.Vocabulary{Kind: "fake", Title: "Fake", Item: "card", Items: "cards",
			RefHint: "a card key (CARD-3) or link", DefaultType: "Card",
			// A Card is what Asana calls a default_task and Jira a Task.
			TypeAliases: map[string]string{"card": "task"}},
		Article:        "a",
		SandboxProject: fakeProjectName,
		Sandbox: func(addr string, s trackers.SandboxSpec) (*trackers.Sandbox, error) {
			url := "http://" + addr
			b := &fakeBoard{url: url, space: s.Name, cards: map[string]*tracker.Entity{},
				seqs: map[string]int64{}, files: map[string][]byte{}}
			if s.Seed == "demo" {
				if _, err := b.Create(context.Background(), tracker.NewEntity{Project: fakeProjectID,
					Summary: "Welcome to the board", Description: "<body>Cards live here.</body>"}); err != nil {
					return nil, err
				}
			}
			page := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprintf(w, "fake tracker %q: %d cards\n", s.Name, b.count())
			})
			return &trackers.Sandbox{Handler: page, URL: url, Tracker: b, Emulator: b, Client: b,
				Settings: map[string]string{"fake_url": url}}, nil
		},
	}
}

// The board's one project.
const fakeProjectID, fakeProjectName = "BRD", "Board"

// fakeBoard is an in-memory tracker. Every write bumps seq and stamps the
// card with it: Changes hands out seq as its cursor and reports the cards
// stamped after it.
type fakeBoard struct {
	url, space string

	mu    sync.Mutex
	seq   int64
	next  int // the last id handed out, for cards, comments and files
	cards map[string]*tracker.Entity
	seqs  map[string]int64  // card id → seq of its last write
	files map[string][]byte // attachment id → bytes
	last  time.Time         // the last ModifiedAt given, kept increasing
}

var _ tracker.EntityTracker = (*fakeBoard)(nil)

func (b *fakeBoard) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.cards)
}

func (b *fakeBoard) Kind() string { return "fake" }

func (b *fakeBoard) Check(context.Context) (tracker.TrackerAccount, error) {
	return tracker.TrackerAccount{User: "Fake Admin", Space: b.space}, nil
}

func (b *fakeBoard) Projects(context.Context) ([]tracker.Project, error) {
	return []tracker.Project{{ID: fakeProjectID, Name: fakeProjectName}}, nil
}

// ParseRef takes a card's key or its link.
func (b *fakeBoard) ParseRef(ref string) (string, error) {
	id := strings.TrimPrefix(strings.TrimSpace(ref), b.url+"/cards/")
	if n, err := strconv.Atoi(strings.TrimPrefix(id, "CARD-")); err != nil || n <= 0 || !strings.HasPrefix(id, "CARD-") {
		return "", tracker.Errorf(tracker.ErrBadRequest, "%q is not a card: give a card key (CARD-3) or link", ref)
	}
	return id, nil
}

// card is the card id under the lock, or ErrNotFound.
func (b *fakeBoard) card(id string) (*tracker.Entity, error) {
	e, ok := b.cards[id]
	if !ok {
		return nil, tracker.Errorf(tracker.ErrNotFound, "card %s not found", id)
	}
	return e, nil
}

// touch records a write to card e, under the lock.
func (b *fakeBoard) touch(e *tracker.Entity) {
	now := time.Now()
	if !now.After(b.last) {
		now = b.last.Add(time.Microsecond)
	}
	b.last, e.ModifiedAt = now, now
	b.seq++
	b.seqs[e.ID] = b.seq
}

func (b *fakeBoard) newID(prefix string) string {
	b.next++
	return prefix + strconv.Itoa(b.next)
}

// Get copies the card, comments and files included.
func (b *fakeBoard) Get(_ context.Context, id string) (tracker.Entity, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, err := b.card(id)
	if err != nil {
		return tracker.Entity{}, err
	}
	c := *e
	c.Comments, c.Attachments = slices.Clone(e.Comments), slices.Clone(e.Attachments)
	return c, nil
}

func (b *fakeBoard) List(_ context.Context, project string) ([]string, error) {
	return b.matching(project, func(*tracker.Entity) bool { return true })
}

// matching lists the ids of the project's cards that keep says to.
func (b *fakeBoard) matching(project string, keep func(*tracker.Entity) bool) ([]string, error) {
	if project != fakeProjectID {
		return nil, tracker.Errorf(tracker.ErrNotFound, "project %s not found", project)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var ids []string
	for id, e := range b.cards {
		if keep(e) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (b *fakeBoard) Types(_ context.Context, project string) ([]string, string, error) {
	if project != fakeProjectID {
		return nil, "", tracker.Errorf(tracker.ErrNotFound, "project %s not found", project)
	}
	return []string{"Card", "Bug"}, "Card", nil
}

// checkType refuses a type the board doesn't have, as a tracker would.
func (b *fakeBoard) checkType(typ string) error {
	if typ != "Card" && typ != "Bug" {
		return tracker.Errorf(tracker.ErrBadRequest, "the board has no card type %q", typ)
	}
	return nil
}

func (b *fakeBoard) Create(_ context.Context, ne tracker.NewEntity) (tracker.Entity, error) {
	if ne.Type == "" {
		ne.Type = "Card"
	}
	if err := b.checkType(ne.Type); err != nil {
		return tracker.Entity{}, err
	}
	if ne.Project != fakeProjectID {
		return tracker.Entity{}, tracker.Errorf(tracker.ErrBadRequest, "no project %s to make a card in", ne.Project)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.newID("CARD-")
	e := &tracker.Entity{ID: id, Key: id, URL: b.url + "/cards/" + id, Project: ne.Project, Type: ne.Type,
		Summary: ne.Summary, Description: ne.Description}
	b.cards[id] = e
	b.touch(e)
	return *e, nil
}

func (b *fakeBoard) Update(_ context.Context, id string, u tracker.EntityUpdate) (tracker.Entity, error) {
	if u.Type != nil {
		if err := b.checkType(*u.Type); err != nil {
			return tracker.Entity{}, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e, err := b.card(id)
	if err != nil {
		return tracker.Entity{}, err
	}
	for _, f := range []struct{ to, from *string }{{&e.Type, u.Type}, {&e.Summary, u.Summary}, {&e.Description, u.Description}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	b.touch(e)
	c := *e
	c.Comments, c.Attachments = nil, nil
	return c, nil
}

func (b *fakeBoard) AddComment(_ context.Context, id, body string) (tracker.Comment, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, err := b.card(id)
	if err != nil {
		return tracker.Comment{}, err
	}
	c := tracker.Comment{ID: b.newID("comment-"), Author: "Fake Admin", Body: body, CreatedAt: time.Now()}
	e.Comments = append(e.Comments, c)
	b.touch(e)
	return c, nil
}

func (b *fakeBoard) EditComment(_ context.Context, commentID, body string) (tracker.Comment, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.cards {
		for i, c := range e.Comments {
			if c.ID == commentID {
				e.Comments[i].Body, e.Comments[i].Edited = body, true
				b.touch(e)
				return e.Comments[i], nil
			}
		}
	}
	return tracker.Comment{}, tracker.Errorf(tracker.ErrNotFound, "comment %s not found", commentID)
}

func (b *fakeBoard) OpenAttachment(_ context.Context, attachmentID string) (io.ReadCloser, tracker.Attachment, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.cards {
		for _, a := range e.Attachments {
			if a.ID == attachmentID {
				return io.NopCloser(bytes.NewReader(b.files[a.ID])), a, nil
			}
		}
	}
	return nil, tracker.Attachment{}, tracker.Errorf(tracker.ErrNotFound, "attachment %s not found", attachmentID)
}

// AddAttachment reads the whole file before touching the card, so a
// failed read leaves nothing behind.
func (b *fakeBoard) AddAttachment(_ context.Context, id, name string, size int64, open func() (io.ReadCloser, error)) (tracker.Attachment, error) {
	if size > b.MaxAttachmentSize() {
		return tracker.Attachment{}, tracker.Errorf(tracker.ErrBadRequest, "%s is %d bytes; the board takes up to %d", name, size, b.MaxAttachmentSize())
	}
	r, err := open()
	if err != nil {
		return tracker.Attachment{}, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, size+1))
	if err != nil {
		return tracker.Attachment{}, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(data)) != size {
		return tracker.Attachment{}, fmt.Errorf("%s: got %d bytes, want %d", name, len(data), size)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e, err := b.card(id)
	if err != nil {
		return tracker.Attachment{}, err
	}
	a := tracker.Attachment{ID: b.newID("file-"), Name: name, Size: size}
	b.files[a.ID] = data
	e.Attachments = append(e.Attachments, a)
	b.touch(e)
	return a, nil
}

func (b *fakeBoard) MaxAttachmentSize() int64 { return 10 << 20 }

// Changes: the cursor is the board's seq at the last round; an empty or
// unreadable one is a reset.
func (b *fakeBoard) Changes(_ context.Context, project, cursor string) (tracker.Changes, error) {
	b.mu.Lock()
	now := strconv.FormatInt(b.seq, 10)
	b.mu.Unlock()
	since, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil {
		if _, err := b.List(context.Background(), project); err != nil {
			return tracker.Changes{}, err
		}
		return tracker.Changes{Cursor: now, Reset: true}, nil
	}
	ids, err := b.matching(project, func(e *tracker.Entity) bool { return b.seqs[e.ID] > since })
	return tracker.Changes{IDs: ids, Cursor: now}, err
}

func (b *fakeBoard) ChangedSince(_ context.Context, project string, t time.Time) ([]string, error) {
	return b.matching(project, func(e *tracker.Entity) bool { return !e.ModifiedAt.Before(t) })
}

func (b *fakeBoard) FindBySummary(_ context.Context, project, summary string, t time.Time) ([]string, error) {
	return b.matching(project, func(e *tracker.Entity) bool { return e.Summary == summary && !e.ModifiedAt.Before(t) })
}
