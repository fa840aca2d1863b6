package tui

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/tandem-sync/tandem/engine"
)

// testConnection is the connection the page tests open.
func testConnection() engine.Connection {
	return engine.Connection{ID: "c1", Name: "Acme_to_Globex", Role: "initiator", Mode: engine.ModeBasic,
		Status: engine.StatusActive, LocalProject: "p1", LocalProjectName: "Website", RemoteURL: "http://globex.test",
		RemoteName: "Globex", RemoteTracker: "asana", RemoteProjectName: "Marketing", TriggerNewTasks: true,
		CreatedAt: testNow.Add(-50 * time.Hour), SyncedItems: 12, LastSync: testNow.Add(-2 * time.Minute)}
}

// connectionNode is a node holding testConnection, its stats and three
// recent syncs (one failing).
func connectionNode() *fakeNode {
	return &fakeNode{
		connections: []engine.Connection{testConnection()},
		stats: engine.ConnectionStats{ConnectionID: "c1", SyncedItems: 12, EventsOut: 30, EventsIn: 28, Synchronized: 55,
			Failing: 1, LastSync: testNow.Add(-2 * time.Minute), MedianStage: map[string]time.Duration{
				engine.StagePreparing: 400 * time.Millisecond, engine.StageSending: 120 * time.Millisecond,
				engine.StageWaiting: 1250 * time.Millisecond}},
		events: []engine.StageEvent{
			{ConnectionID: "c1", EventID: "e2", Direction: "in", LocalKey: "WEB-7", Stage: engine.StageWaiting, At: testNow.Add(-30 * time.Second)},
			{ConnectionID: "c1", EventID: "e1", Direction: "out", LocalKey: "WEB-12", Stage: engine.StageSynchronized, At: testNow.Add(-2 * time.Minute)},
			{ConnectionID: "c1", EventID: "e3", Direction: "out", EntityID: "120045", Stage: engine.StageSending,
				Error: "globex.test did not answer: timeout", At: testNow.Add(-5 * time.Minute)},
		},
	}
}

// openConnection builds the page at the router's 80×24 size and runs its
// Init.
func openConnection(t *testing.T, f *fakeNode) *connectionScreen {
	t.Helper()
	return openConnectionWith(t, testCommon(t, f), f)
}

func openConnectionWith(t *testing.T, c *common, f *fakeNode) *connectionScreen {
	t.Helper()
	var s screen = newConnectionScreen(c, f.connections[0])
	s.SetSize(78, 17)
	for _, m := range exec(s.Init()) {
		s, _ = run(t, s, m)
	}
	return s.(*connectionScreen)
}

// send delivers one message (and what its commands return).
func send(t *testing.T, s *connectionScreen, msg tea.Msg) (*connectionScreen, []tea.Msg) {
	t.Helper()
	sc, out := run(t, s, msg)
	return sc.(*connectionScreen), out
}

func press(t *testing.T, s *connectionScreen, text string) (*connectionScreen, []tea.Msg) {
	t.Helper()
	sc, out := typeKeys(t, s, text)
	return sc.(*connectionScreen), out
}

func countCalls(calls []string, prefix string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func TestConnectionTabs(t *testing.T) {
	for _, tc := range []struct {
		keys string
		tab  connTab
		want string
	}{
		{"", tabScope, "Sync new tasks automatically: on"},
		{"<right>", tabRules, "Basic mode rules cannot be edited."},
		{"<right><right>", tabStats, "Median time per stage"},
		{"<tab><tab><tab>", tabInfo, "Created     24 Nov 2026 10:00"},
		{"<left>", tabInfo, "Role        Initiator"},
		{"<right><right><right><right>", tabScope, "Other side  Globex / Marketing"},
		{"<right><right><left>", tabRules, "Order"},
	} {
		t.Run(tc.keys, func(t *testing.T) {
			s, _ := press(t, openConnection(t, connectionNode()), tc.keys)
			if s.tab != tc.tab {
				t.Errorf("tab %v, want %v", s.tab, tc.tab)
			}
			if v := plain(s.View()); !strings.Contains(v, tc.want) {
				t.Errorf("view lacks %q:\n%s", tc.want, v)
			}
		})
	}
}

func TestConnectionLoads(t *testing.T) {
	f := connectionNode()
	s := openConnection(t, f)
	for _, call := range []string{"Connection c1", "Rules c1", "Stats c1", "RecentEvents c1"} {
		if !slices.Contains(f.called(), call) {
			t.Errorf("Init did not call %s: %v", call, f.called())
		}
	}
	v := plain(s.View())
	for _, want := range []string{"Acme_to_Globex · Active · with Globex / Marketing", "← in   WEB-7", "✗ Globex.test did"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
}

func TestConnectionTrigger(t *testing.T) {
	f := connectionNode()
	var asked []bool
	f.setTrigger = func(id string, on bool) (engine.Connection, error) {
		asked = append(asked, on)
		if len(asked) == 3 {
			return engine.Connection{}, errors.New("database is locked")
		}
		c := testConnection()
		c.TriggerNewTasks = on
		return c, nil
	}
	s := openConnection(t, f)
	s, _ = press(t, s, "t")
	if v := plain(s.View()); !strings.Contains(v, "Sync new tasks automatically: off") {
		t.Errorf("after t the trigger doesn't show off:\n%s", v)
	}
	s, _ = press(t, s, "t")
	if v := plain(s.View()); !strings.Contains(v, "Sync new tasks automatically: on") {
		t.Errorf("after t t the trigger doesn't show on:\n%s", v)
	}
	s, _ = press(t, s, "t")
	v := plain(s.View())
	if !strings.Contains(v, "Sync new tasks automatically: on") || !strings.Contains(v, "✗ Changing the trigger: database is locked") {
		t.Errorf("a failed change should keep the state and say why:\n%s", v)
	}
	if want := []bool{false, true, false}; !slices.Equal(asked, want) {
		t.Errorf("SetTrigger asked %v, want %v", asked, want)
	}
	// t is the Scope tab's key only.
	press(t, s, "<right>t")
	if n := countCalls(f.called(), "SetTrigger c1"); n != 3 {
		t.Errorf("SetTrigger called %d times, want 3 (t off the Scope tab does nothing)", n)
	}
}

func TestConnectionLiveRefresh(t *testing.T) {
	f := connectionNode()
	s := openConnection(t, f)
	if _, cmd := s.Update(stage("c2", "z", engine.StageSending, "")); cmd != nil {
		t.Error("another connection's event refreshed the page")
	}
	_, first := s.Update(stage("c1", "e2", engine.StageFinalizing, ""))
	_, second := s.Update(stage("c1", "e2", engine.StageSynchronized, ""))
	if first == nil || second != nil {
		t.Fatalf("want one read in flight at a time (first %v, second %v)", first != nil, second != nil)
	}
	f.events = slices.Clone(f.events)
	f.events[0].Stage = engine.StageSynchronized
	_, again := s.Update(first())
	if again == nil {
		t.Fatal("events that came during a read should cause one more read")
	}
	s, _ = send(t, s, again())
	if v := plain(s.View()); !strings.Contains(v, "← in   WEB-7             Synchronized") {
		t.Errorf("recent syncs not updated:\n%s", v)
	}
}

func TestConnectionDeactivate(t *testing.T) {
	newNode := func() (*fakeNode, *[]bool) {
		f := connectionNode()
		var asked []bool
		f.setActive = func(id string, on bool) (engine.Connection, error) {
			asked = append(asked, on)
			c := testConnection()
			if !on {
				c.Status = engine.StatusDeactivated
			}
			return c, nil
		}
		return f, &asked
	}
	const question = "Deactivate Acme_to_Globex? Changes queue up and replay on activation. y/n"
	for _, tc := range []struct {
		name, keys string
		want       []bool
		header     string
	}{
		{"n cancels", "dn", nil, "Acme_to_Globex · Active"},
		{"esc cancels", "d<esc>", nil, "Acme_to_Globex · Active"},
		{"other keys wait", "dtb<right>n", nil, "Acme_to_Globex · Active"},
		{"y deactivates", "dy", []bool{false}, "Acme_to_Globex · Deactivated"},
		{"d again activates", "dydy", []bool{false, true}, "Acme_to_Globex · Active"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, asked := newNode()
			s := openConnection(t, f)
			s, _ = press(t, s, "d")
			if !s.handlesEsc() || !strings.Contains(plain(s.View()), question) {
				t.Fatalf("d should ask first (esc kept: %v):\n%s", s.handlesEsc(), plain(s.View()))
			}
			s, _ = press(t, s, strings.TrimPrefix(tc.keys, "d"))
			if !slices.Equal(*asked, tc.want) {
				t.Errorf("SetActive asked %v, want %v", *asked, tc.want)
			}
			v := plain(s.View())
			if s.handlesEsc() || strings.Contains(v, " y/n") {
				t.Errorf("the question is still open:\n%s", v)
			}
			if !strings.Contains(v, tc.header) {
				t.Errorf("view lacks %q:\n%s", tc.header, v)
			}
			if slices.Contains(f.called(), "SetTrigger c1") || slices.Contains(f.called(), "ExalateAll c1") {
				t.Errorf("keys pressed during the question acted: %v", f.called())
			}
		})
	}
	t.Run("activation asks differently", func(t *testing.T) {
		f, _ := newNode()
		f.connections[0].Status = engine.StatusError
		s, _ := press(t, openConnection(t, f), "d")
		if v := plain(s.View()); !strings.Contains(v, "Activate Acme_to_Globex? The syncs queued while it was off are replayed.") {
			t.Errorf("view:\n%s", v)
		}
	})
	t.Run("pending can't", func(t *testing.T) {
		f, asked := newNode()
		f.connections[0].Status = engine.StatusPending
		s, _ := press(t, openConnection(t, f), "dy")
		if len(*asked) != 0 || !strings.Contains(plain(s.View()), "✗ This connection is waiting for its invitation") {
			t.Errorf("a pending connection: asked %v, view:\n%s", *asked, plain(s.View()))
		}
	})
}

func TestConnectionDelete(t *testing.T) {
	for _, tc := range []struct {
		name, keys string
		err        error
		deletes    int
		home       bool
		want       string
	}{
		{"asks", "x", nil, 0, false, "Delete Acme_to_Globex on this node? Its twins' links and sync history"},
		{"n cancels", "xn", nil, 0, false, "Sync new tasks"},
		{"y deletes and goes home", "xy", nil, 1, true, ""},
		{"an error stays", "xy", errors.New("database is locked"), 1, false, "✗ Deleting Acme_to_Globex: database is locked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := connectionNode()
			f.del = func(string) error { return tc.err }
			s, out := press(t, openConnection(t, f), tc.keys)
			if n := countCalls(f.called(), "Delete c1"); n != tc.deletes {
				t.Errorf("Delete called %d times, want %d", n, tc.deletes)
			}
			home := slices.ContainsFunc(out, func(m tea.Msg) bool { _, ok := m.(homeMsg); return ok })
			if home != tc.home {
				t.Errorf("went home: %v, want %v (%v)", home, tc.home, out)
			}
			if v := plain(s.View()); !strings.Contains(v, tc.want) {
				t.Errorf("view lacks %q:\n%s", tc.want, v)
			}
		})
	}
}

func TestConnectionExportRules(t *testing.T) {
	check := func(t *testing.T, s *connectionScreen, path string) {
		t.Helper()
		s, _ = press(t, s, "<right>x")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var rules []engine.Rule
		if err := json.Unmarshal(data, &rules); err != nil {
			t.Fatalf("the export is not JSON: %v\n%s", err, data)
		}
		if !reflect.DeepEqual(rules, engine.BasicRules()) {
			t.Errorf("exported %+v, want the 5 Basic rules", rules)
		}
		if !strings.Contains(string(data), "\n  {") {
			t.Errorf("the export is not indented:\n%s", data)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("mode %v (%v), want 0644", fi.Mode().Perm(), err)
		}
		if v := plain(s.View()); !strings.Contains(v, "✓ Exported to "+path) {
			t.Errorf("view lacks the path %s:\n%s", path, v)
		}
	}
	t.Run("code dir", func(t *testing.T) {
		c := testCommon(t, connectionNode())
		f := c.node.(*fakeNode)
		check(t, openConnectionWith(t, c, f), filepath.Join(c.codeDir, "rules-Acme_to_Globex.json"))
	})
	t.Run("temp dir", func(t *testing.T) {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		c := testCommon(t, connectionNode())
		c.codeDir = ""
		check(t, openConnectionWith(t, c, c.node.(*fakeNode)), filepath.Join(tmp, "rules-Acme_to_Globex.json"))
	})
	t.Run("error shows", func(t *testing.T) {
		c := testCommon(t, connectionNode())
		c.codeDir = filepath.Join(c.codeDir, "missing")
		s, _ := press(t, openConnectionWith(t, c, c.node.(*fakeNode)), "<right>x")
		if v := plain(s.View()); !strings.Contains(v, "✗ Exporting the rules to") {
			t.Errorf("view:\n%s", v)
		}
	})
	t.Run("only on Rules", func(t *testing.T) {
		c := testCommon(t, connectionNode())
		press(t, openConnectionWith(t, c, c.node.(*fakeNode)), "x")
		if _, err := os.Stat(filepath.Join(c.codeDir, "rules-Acme_to_Globex.json")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("x on Scope exported the rules (%v)", err)
		}
	})
}

// TestConnectionRulesFromNode: the Rules tab and its export show the rules
// the node answers for the connection, not a list of the console's; a
// failed read says so and r reads again.
func TestConnectionRulesFromNode(t *testing.T) {
	f := connectionNode()
	f.rules = []engine.Rule{{Order: 1, ThisSide: "Summary", OtherSide: "Title", Note: "from the node"}}
	c := testCommon(t, f)
	s, _ := press(t, openConnectionWith(t, c, f), "<right>x")
	v := plain(s.View())
	if !strings.Contains(v, "from the node") || strings.Contains(v, "Attachments") {
		t.Errorf("the Rules tab should show the node's one rule:\n%s", v)
	}
	data, err := os.ReadFile(filepath.Join(c.codeDir, "rules-Acme_to_Globex.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exported []engine.Rule
	if err := json.Unmarshal(data, &exported); err != nil || !reflect.DeepEqual(exported, f.rules) {
		t.Errorf("exported %+v (%v), want the node's %+v", exported, err, f.rules)
	}

	f = connectionNode()
	f.rulesErr = errors.New("database is locked")
	s, _ = press(t, openConnection(t, f), "<right>")
	if v := plain(s.View()); !strings.Contains(v, "✗ Reading the rules: database is locked") || !strings.Contains(v, "Press r to try again.") {
		t.Errorf("view should say the rules could not be read:\n%s", v)
	}
	f.rulesErr = nil
	s, _ = press(t, s, "r")
	if v := plain(s.View()); strings.Contains(v, "✗ Reading") || !strings.Contains(v, "Basic mode rules cannot be edited.") {
		t.Errorf("after r the rules should show:\n%s", v)
	}
}

func TestConnectionStatsError(t *testing.T) {
	f := connectionNode()
	f.err = errors.New("database is locked")
	s, _ := press(t, openConnection(t, f), "<right><right>")
	v := plain(s.View())
	for _, want := range []string{"✗ Reading the statistics: database is locked", "Press r to try again.",
		"✗ Reading the recent syncs: database is locked"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	f.err = nil
	s, _ = press(t, s, "r")
	if v := plain(s.View()); strings.Contains(v, "✗ Reading") || !strings.Contains(v, "Events out / in  30 / 28") {
		t.Errorf("after r the statistics should show:\n%s", v)
	}
}

// TestConnectionGolden pins each tab at the router's size for 80×24.
func TestConnectionGolden(t *testing.T) {
	for _, tc := range []struct {
		name, keys string
	}{
		{"scope", ""},
		{"rules", "<right>"},
		{"statistics", "<right><right>"},
		{"info", "<right><right><right>"},
		{"delete", "<left>x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := press(t, openConnection(t, connectionNode()), tc.keys)
			view := plain(s.View())
			if h := lipgloss.Height(view); h > 17 {
				t.Errorf("view is %d lines, more than 17", h)
			}
			for _, line := range strings.Split(view, "\n") {
				if w := lipgloss.Width(line); w > 78 {
					t.Errorf("line is %d cells, more than 78: %q", w, line)
				}
			}
			golden.RequireEqual(t, []byte(view))
		})
	}
}

func TestConnectionReveal(t *testing.T) {
	f := connectionNode()
	f.exalateAll = func(string) ([]engine.StageEvent, error) { return bulkEvents(), nil }
	s, _ := press(t, openConnection(t, f), "by")
	// A read whose answer went to the page on top (the sync page).
	s.Update(stage("c1", "e2", engine.StageSynchronized, ""))
	gen := s.bulk.gen
	stats, conns := countCalls(f.called(), "Stats c1"), countCalls(f.called(), "Connection c1")
	s, _ = send(t, s, revealMsg{})
	if countCalls(f.called(), "Stats c1") != stats+1 || countCalls(f.called(), "Connection c1") != conns+1 {
		t.Errorf("reveal should read the connection and its stats again: %v", f.called())
	}
	if s.bulk.gen == gen {
		t.Error("reveal should start a new poll chain for the unfinished Bulk Exalate")
	}
}

func TestConnectionOpenSync(t *testing.T) {
	s := openConnection(t, connectionNode())
	_, out := press(t, s, "<enter>")
	if len(out) != 1 {
		t.Fatalf("enter emitted %v", out)
	}
	p, ok := out[0].(pushMsg)
	sync, isSync := p.s.(*syncScreen)
	if !ok || !isSync || sync.ev.EventID != "e2" {
		t.Errorf("enter should open the newest sync (e2), got %#v", out[0])
	}
}

// s on the Scope tab opens the exalate screen for one more item, worded
// for the node's tracker, and enter there syncs what was typed.
func TestConnectionExalateOne(t *testing.T) {
	f := connectionNode()
	f.exalate = func(connID, ref string) (engine.StageEvent, error) {
		return engine.StageEvent{ConnectionID: connID, EventID: "e9", LocalKey: ref, Stage: engine.StageSending}, nil
	}
	c := testCommon(t, f)
	onTracker(t, c, "jira")
	s := openConnectionWith(t, c, f)
	if v := plain(s.View()); !strings.Contains(v, "Sync new issues automatically") || !strings.Contains(v, "every issue of Website") {
		t.Errorf("a Jira node's page should speak of issues:\n%s", v)
	}
	_, msgs := press(t, s, "s")
	next, ok := pushed(t, msgs).(*successScreen)
	if !ok {
		t.Fatalf("s should open the exalate screen, got %v", msgs)
	}
	for _, m := range exec(next.Init()) {
		run(t, next, m)
	}
	v := plain(next.View())
	if next.Title() != "Exalate" || strings.Contains(v, "established") ||
		!strings.Contains(v, "Sync one item of Website now: enter an issue key or link:") {
		t.Errorf("the exalate screen (title %q) reads:\n%s", next.Title(), v)
	}
	sc, msgs := typeKeys(t, next, "KAN-19<enter>")
	if _, ok := pushed(t, msgs).(*syncScreen); !ok {
		t.Fatalf("enter should open the sync status:\n%s", plain(sc.View()))
	}
	if n := countCalls(f.called(), "Exalate c1 KAN-19"); n != 1 {
		t.Errorf("Exalate c1 KAN-19 called %d times: %v", n, f.called())
	}
	// s is the Scope tab's key only.
	press(t, s, "<right>s")
	if n := countCalls(f.called(), "Exalate"); n != 1 {
		t.Errorf("s off the Scope tab should do nothing: %v", f.called())
	}
}
