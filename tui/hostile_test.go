package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/tui/termtext/termtexttest"
)

// Issue 12: text from outside must reach the operator's terminal cleaned
// (see termtexttest.Hostile for what it tried).
const (
	hostile      = termtexttest.Hostile
	hostileShown = termtexttest.HostileShown
)

func requireSafe(t *testing.T, where, out string) {
	t.Helper()
	termtexttest.RequireSafe(t, where, out)
}

// hostileNode answers with hostile text wherever text from outside can be:
// another node's name, URL and project, a task's summary and key, stage
// errors, notes, and a connection's status reason.
func hostileNode() *fakeNode {
	evil := adminapi.Instance{Name: hostile, URL: "http://evil.test/" + hostile, Tracker: "asana", Modes: []adminapi.Mode{adminapi.ModeBasic}}
	conn := adminapi.Connection{ID: "c1", Name: "Acme_to_" + hostile, Mode: adminapi.ModeBasic, Status: adminapi.StatusError,
		StatusReason: "the peer said: " + hostile, LocalProject: "p1", LocalProjectName: "Company", RemoteName: hostile,
		RemoteURL: evil.URL, RemoteProjectName: hostile, SyncedItems: 1, CreatedAt: testNow.Add(-48 * time.Hour),
		LastSync: testNow.Add(-time.Minute)}
	status := adminapi.EventStatus{StageEvent: adminapi.StageEvent{ConnectionID: "c1", EventID: "e1", Direction: "out",
		EntityID: "101", LocalKey: "101", LocalURL: "http://acme.test/task/101", RemoteKey: hostile, RemoteURL: evil.URL,
		Stage: adminapi.StageSynchronized, At: testNow},
		Stages:  []adminapi.StageEntry{{Stage: adminapi.StagePreparing, At: testNow.Add(-time.Second)}, {Stage: adminapi.StageSynchronized, At: testNow}},
		Skipped: []string{hostile + ".iso (120 MB) is over the limit"},
		Notes:   []string{"could not give the type " + hostile}}
	return &fakeNode{
		info:        adminapi.Instance{Name: "Acme", URL: "http://acme.test", Tracker: "asana", Modes: []adminapi.Mode{adminapi.ModeBasic}},
		connections: []adminapi.Connection{conn},
		projects:    []adminapi.Project{company, {ID: "p3", Name: hostile}},
		items:       []adminapi.Item{{ID: "101", Key: "101", Summary: hostile}, {ID: "102", Key: hostile, Summary: "Fix the signup form"}},
		events: []adminapi.StageEvent{
			status.StageEvent,
			{ConnectionID: "c1", EventID: "e2", Direction: "out", EntityID: hostile, Stage: adminapi.StageSending,
				Error: "globex answered: " + hostile, At: testNow.Add(-5 * time.Minute)},
		},
		stats:       adminapi.ConnectionStats{ConnectionID: "c1", SyncedItems: 1, EventsOut: 2},
		eventStatus: func(string, string) (adminapi.EventStatus, error) { return status, nil },
		exalate: func(connID, ref string) (adminapi.StageEvent, error) {
			return adminapi.StageEvent{ConnectionID: connID, EventID: "e1", EntityID: ref, Stage: adminapi.StagePreparing}, nil
		},
		preview: func(code string) (adminapi.InvitationPreview, error) {
			if code != testCode {
				return adminapi.InvitationPreview{}, fmt.Errorf("%w: the initiator said %s", adminapi.ErrInvitationRefused, hostile)
			}
			return adminapi.InvitationPreview{Initiator: evil, ProjectName: hostile, Mode: adminapi.ModeBasic, Expires: testNow.Add(time.Hour)}, nil
		},
		accept: func(code, project string) (adminapi.Connection, error) { return conn, nil },
		probe: func(url string) (adminapi.Instance, error) {
			return adminapi.Instance{}, fmt.Errorf("%w: %s is not a tandem node: %s", adminapi.ErrNotTandem, url, hostile)
		},
	}
}

// TestHostileConsole drives the console at 80×24 through every screen that
// shows text from outside, on a node that answers with hostile text and
// beside a second node whose own name is hostile, and pins each frame.
func TestHostileConsole(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	acme := hostileNode()
	a := New(ctx, Options{Renderer: plainRenderer(), Now: func() time.Time { return testNow }, Targets: []Target{
		{Name: "Acme", URL: "http://acme.test", Node: acme},
		{Name: hostile, URL: "http://evil.test/" + hostile, Node: &fakeNode{info: adminapi.Instance{Name: hostile, Tracker: "asana"}}},
	}})
	for _, s := range a.sessions {
		s.common.staticCursor = true
		s.common.tick = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
	}
	appSend(a, tea.WindowSizeMsg{Width: 80, Height: 24})
	for _, m := range execNoSubscribe(a.Init()) {
		appSend(a, m)
	}
	for _, step := range []struct {
		name, keys string
		paste      string
		want       []string
	}{
		{"connections", "", "", []string{"Hostile ␛"}},
		{"connection", "<enter>", "", []string{"with " + hostileShown, "✗ Globex answered: Ho"}},
		{"connection_info", "<right><right><right>", "", []string{hostileShown}},
		{"sync", "<left><left><left><enter>", "", []string{"Not synced: " + hostileShown, "type " + hostileShown, hostileShown}},
		{"exalate_picker", "<esc>s<down>", "", []string{"› " + hostileShown}},
		{"syncing", "<enter>", "", []string{"Syncing " + hostileShown}},
		{"accept_refused", "<enter>a", "tdm1.refused", []string{"the initiator said " + hostileShown}},
		{"accept_preview", "<esc><esc>a", testCode, []string{"Invited by " + hostileShown, hostileShown}},
		{"success", "<down><enter>", "", []string{hostileShown}},
		{"initiate_error", "<esc>i", "http://evil.test", []string{"is not a tandem node:", hostileShown}},
		{"other_node", "<esc><esc><ctrl+t>", "", []string{hostileShown}},
	} {
		appKeys(a, step.keys)
		if step.paste != "" {
			appSend(a, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(step.paste), Paste: true})
			appKeys(a, "<enter>")
		}
		view := a.View()
		requireSafe(t, step.name, view)
		for _, want := range step.want {
			if !strings.Contains(view, want) {
				t.Errorf("%s: %q is not shown:\n%s", step.name, want, view)
			}
		}
		t.Run(step.name, func(t *testing.T) { golden.RequireEqual(t, []byte(view+"\n")) })
	}
}
