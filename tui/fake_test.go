package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/tandem-sync/tandem/engine"
)

// fakeNode is a Node with canned answers, for table tests of Update. Each
// field answers the method of the same name; calls are recorded.
type fakeNode struct {
	mu    sync.Mutex
	calls []string

	info        engine.Instance
	connections []engine.Connection
	projects    []engine.Project
	probe       func(url string) (engine.Instance, error)
	invite      func(r engine.InviteRequest) (engine.Connection, string, error)
	renew       func(id string) (engine.Connection, string, error)
	preview     func(code string) (engine.InvitationPreview, error)
	accept      func(code, project string) (engine.Connection, error)
	destination func(url, token string) (engine.Instance, []engine.Project, error)
	connect     func(r engine.ConnectRequest) (engine.Connection, error)
	exalate     func(connID, ref string) (engine.StageEvent, error)
	exalateAll  func(connID string) ([]engine.StageEvent, error)
	// bulkUnlisted is how many syncs ExalateAll started beyond those
	// exalateAll lists (the node lists adminapi.BulkEventsListed).
	bulkUnlisted int
	eventStatus  func(connID, eventID string) (engine.EventStatus, error)
	stats        engine.ConnectionStats
	events       []engine.StageEvent
	items        []engine.Item
	rules        []engine.Rule // nil: Basic's
	rulesErr     error
	setActive    func(id string, on bool) (engine.Connection, error)
	setTrigger   func(id string, on bool) (engine.Connection, error)
	del          func(id string) error
	err          error // returned by the list methods when set
	// scripts are the Script mode connections' scripts (fake_scripts_test.go).
	scripts map[string]*fakeScripts
}

var _ Node = (*fakeNode)(nil)

func (f *fakeNode) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

// called reports the calls made so far.
func (f *fakeNode) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

var errNotFaked = errors.New("not faked")

func (f *fakeNode) Info(context.Context) (engine.Instance, error) {
	f.record("Info")
	return f.info, nil
}
func (f *fakeNode) Connections(context.Context) ([]engine.Connection, error) {
	f.record("Connections")
	return f.connections, f.err
}
func (f *fakeNode) Connection(_ context.Context, id string) (engine.Connection, error) {
	f.record("Connection " + id)
	for _, c := range f.connections {
		if c.ID == id {
			return c, nil
		}
	}
	return engine.Connection{}, engine.ErrNotFound
}
func (f *fakeNode) Projects(context.Context) ([]engine.Project, error) {
	f.record("Projects")
	return f.projects, f.err
}
func (f *fakeNode) Probe(_ context.Context, url string) (engine.Instance, error) {
	f.record("Probe " + url)
	if f.probe == nil {
		return engine.Instance{}, errNotFaked
	}
	return f.probe(url)
}
func (f *fakeNode) Invite(_ context.Context, r engine.InviteRequest) (engine.Connection, string, error) {
	f.record("Invite " + r.To + " " + r.Project)
	if f.invite == nil {
		return engine.Connection{}, "", errNotFaked
	}
	return f.invite(r)
}
func (f *fakeNode) RenewInvitation(_ context.Context, id string) (engine.Connection, string, error) {
	f.record("RenewInvitation " + id)
	if f.renew == nil {
		return engine.Connection{}, "", errNotFaked
	}
	return f.renew(id)
}
func (f *fakeNode) PreviewInvitation(_ context.Context, code string) (engine.InvitationPreview, error) {
	f.record("PreviewInvitation " + code)
	if f.preview == nil {
		return engine.InvitationPreview{}, errNotFaked
	}
	return f.preview(code)
}
func (f *fakeNode) Accept(_ context.Context, code, project string) (engine.Connection, error) {
	f.record("Accept " + code + " " + project)
	if f.accept == nil {
		return engine.Connection{}, errNotFaked
	}
	return f.accept(code, project)
}
func (f *fakeNode) DestinationProjects(_ context.Context, url, token string) (engine.Instance, []engine.Project, error) {
	f.record("DestinationProjects " + url)
	if f.destination == nil {
		return engine.Instance{}, nil, errNotFaked
	}
	return f.destination(url, token)
}
func (f *fakeNode) Connect(_ context.Context, r engine.ConnectRequest) (engine.Connection, error) {
	f.record("Connect " + r.To + " " + r.Project + " " + r.DestProject)
	if f.connect == nil {
		return engine.Connection{}, errNotFaked
	}
	return f.connect(r)
}
func (f *fakeNode) SetActive(_ context.Context, id string, on bool) (engine.Connection, error) {
	f.record("SetActive " + id)
	if f.setActive == nil {
		return engine.Connection{}, errNotFaked
	}
	return f.setActive(id, on)
}
func (f *fakeNode) SetTrigger(_ context.Context, id string, on bool) (engine.Connection, error) {
	f.record("SetTrigger " + id)
	if f.setTrigger == nil {
		return engine.Connection{}, errNotFaked
	}
	return f.setTrigger(id, on)
}
func (f *fakeNode) Delete(_ context.Context, id string) error {
	f.record("Delete " + id)
	if f.del == nil {
		return errNotFaked
	}
	return f.del(id)
}
func (f *fakeNode) Exalate(_ context.Context, connID, ref string) (engine.StageEvent, error) {
	f.record("Exalate " + connID + " " + ref)
	if f.exalate == nil {
		return engine.StageEvent{}, errNotFaked
	}
	return f.exalate(connID, ref)
}
func (f *fakeNode) ExalateAll(_ context.Context, connID string) (engine.BulkStarted, error) {
	f.record("ExalateAll " + connID)
	if f.exalateAll == nil {
		return engine.BulkStarted{}, errNotFaked
	}
	evs, err := f.exalateAll(connID)
	return engine.BulkStarted{Started: len(evs) + f.bulkUnlisted, Events: evs}, err
}
func (f *fakeNode) StartBulk(_ context.Context, connID string) (engine.Bulk, error) {
	f.record("StartBulk " + connID)
	return engine.Bulk{}, errNotFaked
}
func (f *fakeNode) Bulk(_ context.Context, connID, id string, _ int) (engine.Bulk, error) {
	f.record("Bulk " + connID + " " + id)
	return engine.Bulk{}, errNotFaked
}
func (f *fakeNode) EventStatus(_ context.Context, connID, eventID string) (engine.EventStatus, error) {
	f.record("EventStatus " + eventID)
	if f.eventStatus == nil {
		return engine.EventStatus{}, errNotFaked
	}
	return f.eventStatus(connID, eventID)
}
func (f *fakeNode) Stats(_ context.Context, connID string) (engine.ConnectionStats, error) {
	f.record("Stats " + connID)
	return f.stats, f.err
}
func (f *fakeNode) RecentEvents(_ context.Context, connID string, _ int) ([]engine.StageEvent, error) {
	f.record("RecentEvents " + connID)
	return f.events, f.err
}
func (f *fakeNode) Rules(_ context.Context, connID string) ([]engine.Rule, error) {
	f.record("Rules " + connID)
	if f.rulesErr != nil {
		return nil, f.rulesErr
	}
	if f.rules == nil {
		return engine.BasicRules(), f.err
	}
	return f.rules, f.err
}
func (f *fakeNode) RecentItems(_ context.Context, project string, _ int) ([]engine.Item, error) {
	f.record("RecentItems " + project)
	return f.items, f.err
}
func (f *fakeNode) Subscribe(ctx context.Context) (<-chan engine.StageEvent, error) {
	f.record("Subscribe")
	ch := make(chan engine.StageEvent)
	context.AfterFunc(ctx, func() { close(ch) })
	return ch, nil
}

// testNow is the fixed clock of table tests and goldens.
var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// plainRenderer renders without colour, so views compare as text.
func plainRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	return r
}

// testCommon is the common value of a table test's screen.
func testCommon(t *testing.T, n Node) *common {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &common{ctx: ctx, node: n, self: engine.Instance{Name: "Acme", URL: "http://acme.test", Tracker: "asana", Modes: []engine.Mode{engine.ModeBasic, engine.ModeScript}},
		styles: NewStyles(plainRenderer()), keys: newKeyMap(), codeDir: t.TempDir(), now: func() time.Time { return testNow },
		tick: func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }, staticCursor: true}
}

// run feeds a screen a message and then, transitively, what its commands
// return, the way the program would (ticks and blinks excepted, so a test
// never waits on a timer). It returns the screen and the router messages
// (push, back, home, reset) the screen emitted.
func run(t *testing.T, s screen, msg tea.Msg) (screen, []tea.Msg) {
	t.Helper()
	var out []tea.Msg
	queue := []tea.Msg{msg}
	for len(queue) > 0 && len(queue) < 100 {
		m := queue[0]
		queue = queue[1:]
		switch m.(type) {
		case pushMsg, replaceMsg, backMsg, homeMsg, resetMsg:
			out = append(out, m)
			continue
		}
		var cmd tea.Cmd
		s, cmd = s.Update(m)
		queue = append(queue, exec(cmd)...)
	}
	return s, out
}

// start runs a screen's Init and feeds it what its commands return.
func start(t *testing.T, s screen) screen {
	t.Helper()
	for _, m := range exec(s.Init()) {
		s, _ = run(t, s, m)
	}
	return s
}

// exec runs a command and the commands of a batch.
func exec(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	m := cmd()
	if b, ok := m.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, exec(c)...)
		}
		return out
	}
	if m == nil || isTimer(m) {
		return nil
	}
	return []tea.Msg{m}
}

// isTimer tells the messages that only start an animation (a spinner's
// first tick, a cursor's first blink): handling them would start timers.
func isTimer(m tea.Msg) bool {
	if sm, ok := m.(sessionMsg); ok {
		return isTimer(sm.msg) // the app's, tagged with their session
	}
	if _, ok := m.(spinner.TickMsg); ok {
		return true
	}
	return strings.Contains(strings.ToLower(fmt.Sprintf("%T", m)), "blink")
}

// keys turns text into key messages; names in brackets ("<enter>") are
// special keys.
func keys(s string) []tea.Msg {
	var out []tea.Msg
	for s != "" {
		if strings.HasPrefix(s, "<") {
			if end := strings.Index(s, ">"); end > 0 {
				out = append(out, namedKey(s[1:end]))
				s = s[end+1:]
				continue
			}
		}
		r := []rune(s)[0]
		out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		s = s[len(string(r)):]
	}
	return out
}

func namedKey(name string) tea.KeyMsg {
	switch name {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	case "ctrl+o":
		return tea.KeyMsg{Type: tea.KeyCtrlO}
	case "ctrl+t":
		return tea.KeyMsg{Type: tea.KeyCtrlT}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	}
	panic("unknown key " + name)
}

// typeKeys feeds keys to a screen one by one and collects router messages.
func typeKeys(t *testing.T, s screen, text string) (screen, []tea.Msg) {
	t.Helper()
	var all []tea.Msg
	for _, k := range keys(text) {
		var out []tea.Msg
		s, out = run(t, s, k)
		all = append(all, out...)
	}
	return s, all
}

var escapes = regexp.MustCompile(`\x1b\[[0-9;?]*[a-zA-Z]`)

// plain is a view without escape sequences.
func plain(s string) string { return escapes.ReplaceAllString(s, "") }
