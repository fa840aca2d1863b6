package tui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/tandem-sync/tandem/engine"
)

// Table tests of each wizard screen's Update, and goldens of their views at
// the size the router gives them in an 80×24 terminal.

const (
	screenW = 78
	screenH = 18
)

func sized(s screen) screen {
	s.SetSize(screenW, screenH)
	return s
}

func requireGolden(t *testing.T, s screen) {
	t.Helper()
	golden.RequireEqual(t, []byte(plain(s.View())+"\n"))
}

// pushed is the screen a push (or reset) carried, failing if there is none.
func pushed(t *testing.T, msgs []tea.Msg) screen {
	t.Helper()
	for _, m := range msgs {
		switch m := m.(type) {
		case pushMsg:
			return m.s
		case resetMsg:
			return m.s
		case replaceMsg:
			return m.s
		}
	}
	t.Fatalf("no screen was opened; messages: %#v", msgs)
	return nil
}

var (
	globex     = engine.Instance{Name: "Globex", URL: "http://globex.test", Tracker: "asana", Modes: []engine.Mode{engine.ModeBasic, engine.ModeScript}}
	company    = engine.Project{ID: "p1", Name: "Company"}
	test       = engine.Project{ID: "p2", Name: "Test"}
	activeConn = engine.Connection{ID: "c1", Name: "Acme_to_Globex", Mode: engine.ModeBasic, Status: engine.StatusActive,
		LocalProject: "p1", LocalProjectName: "Company", RemoteName: "Globex", RemoteURL: "http://globex.test",
		RemoteProjectName: "Test", SyncedItems: 3, LastSync: testNow.Add(-90 * time.Second)}
)

func TestConnectionsScreen(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		f := &fakeNode{}
		s, _ := run(t, sized(newConnectionsScreen(testCommon(t, f))), nil)
		s = start(t, s)
		if !strings.Contains(plain(s.View()), "No connections yet") {
			t.Fatal(plain(s.View()))
		}
		requireGolden(t, s)
	})
	t.Run("list", func(t *testing.T) {
		pending := engine.Connection{ID: "c2", Name: "Acme_to_Partner", Mode: engine.ModeBasic, Status: engine.StatusPending, RemoteName: "", LocalProjectName: "Test",
			Queued: 2}
		f := &fakeNode{connections: []engine.Connection{activeConn, pending}}
		s := sized(newConnectionsScreen(testCommon(t, f)))
		s = start(t, s)
		s, _ = typeKeys(t, s, "<down>")
		v := plain(s.View())
		for _, want := range []string{"Acme_to_Globex", "Globex / Test", "Active", "Pending", "1m ago", "never", "› Acme_to_Partner", "Queued", "Pending  0       2"} {
			if !strings.Contains(v, want) {
				t.Errorf("missing %q in\n%s", want, v)
			}
		}
		requireGolden(t, s)
	})
	t.Run("error", func(t *testing.T) {
		f := &fakeNode{err: errors.New("the node at http://x can't be reached")}
		s := sized(newConnectionsScreen(testCommon(t, f)))
		s = start(t, s)
		if !strings.Contains(plain(s.View()), "✗ Listing the connections: the node") {
			t.Fatal(plain(s.View()))
		}
		requireGolden(t, s)
	})
	t.Run("keys", func(t *testing.T) {
		c := testCommon(t, &fakeNode{})
		for _, tc := range []struct {
			key   string
			title string
		}{{"i", "Initiate connection"}, {"a", "Accept invitation"}} {
			_, msgs := typeKeys(t, newConnectionsScreen(c), tc.key)
			if got := pushed(t, msgs).Title(); got != tc.title {
				t.Errorf("%s opened %q, want %q", tc.key, got, tc.title)
			}
		}
	})
}

func TestInitiateScreen(t *testing.T) {
	probeOK := func(url string) (engine.Instance, error) {
		if url == "http://globex.test" {
			return globex, nil
		}
		return engine.Instance{}, fmt.Errorf("%w: dial tcp: connection refused", engine.ErrUnreachable)
	}
	for _, tc := range []struct {
		name    string
		keys    string
		suggest string
		want    string // in the view, or the title of the screen opened
		opened  bool
	}{
		{name: "empty", keys: "<enter>", want: "✗ Enter the destination instance URL"},
		{name: "bad url", keys: "ftp://x<enter>", want: "✗"},
		{name: "unreachable", keys: "http://nowhere.test<enter>", want: "✗ The destination can't be reached"},
		{name: "suggestion", keys: "<tab><enter>", suggest: "http://globex.test", want: "Configuration mode", opened: true},
		{name: "own url is local", keys: "http://acme.test<enter>", want: "Configuration mode", opened: true},
		{name: "no url", keys: "<ctrl+o><enter>", want: "Configuration mode", opened: true},
		{name: "no url by arrows", keys: "<down><space><enter>", want: "Configuration mode", opened: true},
		{name: "space in the url field is typed", keys: "<space><enter>", want: "✗ Enter the destination instance URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeNode{probe: probeOK}
			c := testCommon(t, f)
			c.suggest, c.suggestName = tc.suggest, "Globex"
			s, msgs := typeKeys(t, sized(newInitiateScreen(c)), tc.keys)
			if tc.opened {
				if got := pushed(t, msgs).Title(); got != tc.want {
					t.Errorf("opened %q, want %q", got, tc.want)
				}
				return
			}
			if v := plain(s.View()); !strings.Contains(v, tc.want) {
				t.Errorf("want %q in\n%s", tc.want, v)
			}
		})
	}
	// A URL without a scheme: http:// for loopback, https:// otherwise, and
	// the screen says which it assumed (trap 16).
	for _, tc := range []struct{ typed, probed string }{
		{"127.0.0.1:45079", "http://127.0.0.1:45079"},
		{"localhost:7001", "http://localhost:7001"},
		{"[::1]:7001", "http://[::1]:7001"},
		{"tandem.example.com", "https://tandem.example.com"},
	} {
		t.Run("no scheme "+tc.typed, func(t *testing.T) {
			f := &fakeNode{probe: probeOK}
			s, _ := typeKeys(t, sized(newInitiateScreen(testCommon(t, f))), tc.typed+"<enter>")
			if calls := f.called(); len(calls) != 1 || calls[0] != "Probe "+tc.probed {
				t.Errorf("calls %v, want a probe of %s", calls, tc.probed)
			}
			if v := plain(s.View()); !strings.Contains(v, "Assuming "+tc.probed) {
				t.Errorf("the screen does not say it assumed %s:\n%s", tc.probed, v)
			}
		})
	}
	t.Run("view", func(t *testing.T) {
		c := testCommon(t, &fakeNode{probe: probeOK})
		c.suggest, c.suggestName = "http://globex.test", "Globex, the other demo node"
		s, _ := typeKeys(t, sized(newInitiateScreen(c)), "http://nowhere.test<enter>")
		requireGolden(t, s)
	})
	t.Run("help names space on the checkbox", func(t *testing.T) {
		c := testCommon(t, &fakeNode{probe: probeOK})
		s := sized(newInitiateScreen(c))
		if helpHas(s.ShortHelp(), "space") {
			t.Error("space is in the help while the URL field has the focus")
		}
		s, _ = typeKeys(t, s, "<down>")
		if !helpHas(s.ShortHelp(), "space") {
			t.Error("space is not in the help while the checkbox has the focus")
		}
	})
}

// helpHas tells whether a help line shows the key named name.
func helpHas(ks []key.Binding, name string) bool {
	for _, k := range ks {
		if k.Help().Key == name {
			return true
		}
	}
	return false
}

func TestModeAndProjectScreens(t *testing.T) {
	f := &fakeNode{projects: []engine.Project{company, test}}
	c := testCommon(t, f)
	m := sized(newModeScreen(c, draft{to: "http://globex.test", dest: globex}))
	requireGolden(t, m)
	_, msgs := typeKeys(t, m, "<enter>")
	p := sized(pushed(t, msgs))
	p = start(t, p)
	t.Run("project", func(t *testing.T) { requireGolden(t, p) })
	t.Run("usual project first", func(t *testing.T) {
		c := testCommon(t, f)
		c.project = "test"
		s := start(t, sized(newProjectScreen(c, draft{to: "http://globex.test", dest: globex}, sideThis)))
		if v := plain(s.View()); !strings.Contains(v, "› Test") {
			t.Errorf("the node's usual project should be under the cursor:\n%s", v)
		}
	})
	p, _ = typeKeys(t, p, "tes")
	if v := plain(p.View()); strings.Contains(v, "Company") || !strings.Contains(v, "› Test") {
		t.Fatalf("the filter should leave Test only:\n%s", v)
	}
	_, msgs = typeKeys(t, p, "<enter>")
	access := pushed(t, msgs).(*accessScreen)
	if access.d.project != test || access.d.mode != engine.ModeBasic {
		t.Errorf("draft after the project: %+v", access.d)
	}
	t.Run("access", func(t *testing.T) { requireGolden(t, sized(access)) })
	_, msgs = typeKeys(t, access, "<down><enter>")
	if _, ok := pushed(t, msgs).(*invitationScreen); !ok {
		t.Errorf("No should lead to the invitation code, got %T", pushed(t, msgs))
	}
	_, msgs = typeKeys(t, access, "<up><enter>")
	if _, ok := pushed(t, msgs).(*verifyScreen); !ok {
		t.Errorf("Yes should lead to verifying access, got %T", pushed(t, msgs))
	}
}

func TestLocalConnectionPath(t *testing.T) {
	f := &fakeNode{projects: []engine.Project{company, test}, connect: func(r engine.ConnectRequest) (engine.Connection, error) {
		return engine.Connection{ID: "l1", Name: "Company_to_Test", Local: true, LocalProject: r.Project, LocalProjectName: "Company"}, nil
	}}
	c := testCommon(t, f)
	_, msgs := typeKeys(t, newInitiateScreen(c), "http://acme.test<enter>")
	s := pushed(t, msgs)
	_, msgs = typeKeys(t, s, "<enter>")
	s = pushed(t, msgs)
	s = start(t, s)
	_, msgs = typeKeys(t, s, "<enter>") // Company
	other := pushed(t, msgs)
	other = start(t, other)
	if v := plain(other.View()); strings.Contains(v, "› Company") || !strings.Contains(v, "› Test") {
		t.Errorf("the other project can't be the first one again:\n%s", v)
	}
	_, msgs = typeKeys(t, other, "<enter>")
	confirm := sized(pushed(t, msgs))
	requireGolden(t, confirm)
	_, msgs = typeKeys(t, confirm, "<enter>")
	if got := pushed(t, msgs).Title(); got != "Connection established" {
		t.Errorf("after Confirm: %q", got)
	}
	if calls := strings.Join(f.called(), ";"); !strings.Contains(calls, "Connect http://acme.test p1 p2") {
		t.Errorf("calls: %s", calls)
	}
}

func TestVerifyScreen(t *testing.T) {
	f := &fakeNode{destination: func(url, token string) (engine.Instance, []engine.Project, error) {
		if token != "s3cret" {
			return engine.Instance{}, nil, engine.Errorf(engine.ErrBadRequest, "the destination refused the admin token: check it and try again")
		}
		return globex, []engine.Project{company, test}, nil
	}}
	c := testCommon(t, f)
	d := draft{to: "http://globex.test", dest: globex, mode: engine.ModeBasic, project: company}
	s, _ := typeKeys(t, sized(newVerifyScreen(c, d)), "wrong<enter>")
	v := plain(s.View())
	if !strings.Contains(v, "refused the admin token") || strings.Contains(v, "wrong") {
		t.Fatalf("a refused token: want the reason and no token in\n%s", v)
	}
	requireGolden(t, s)
	for range 5 {
		s, _ = run(t, s, tea.KeyMsg{Type: tea.KeyBackspace})
	}
	_, msgs := typeKeys(t, s, "s3cret<enter>")
	p := sized(pushed(t, msgs)).(*projectScreen)
	if p.d.destToken != "s3cret" || p.side != sideDest {
		t.Errorf("draft after verify: %+v", p.d)
	}
	t.Run("dest", func(t *testing.T) { requireGolden(t, p) })
	_, msgs = typeKeys(t, p, "<down><enter>")
	confirm := pushed(t, msgs).(*confirmScreen)
	if confirm.d.destProject != test {
		t.Errorf("destination project: %+v", confirm.d.destProject)
	}
}

func TestConfirmShowsConnectErrors(t *testing.T) {
	f := &fakeNode{connect: func(engine.ConnectRequest) (engine.Connection, error) {
		return engine.Connection{}, errors.New("the destination could not accept: no such project")
	}}
	d := draft{to: "http://globex.test", dest: globex, mode: engine.ModeBasic, project: company, destProject: test}
	s, msgs := typeKeys(t, sized(newConfirmScreen(testCommon(t, f), d)), "<enter>")
	if len(msgs) != 0 || !strings.Contains(plain(s.View()), "✗ The destination could not accept") {
		t.Fatalf("msgs %v, view:\n%s", msgs, plain(s.View()))
	}
	requireGolden(t, s)
}

const testCode = "tdm1.eyJ1cmwiOiJodHRwOi8vYWNtZS50ZXN0IiwibmFtZSI6IkFjbWUiLCJ0cmFja2VyIjoiYXNhbmEiLCJjb25uZWN0aW9uIjoiYzEiLCJtb2RlIjoiYmFzaWMifQ"

func TestInvitationScreen(t *testing.T) {
	f := &fakeNode{invite: func(engine.InviteRequest) (engine.Connection, string, error) {
		return engine.Connection{ID: "c1", Name: "Acme_to_Globex", Status: engine.StatusPending}, testCode, nil
	}}
	c := testCommon(t, f)
	var clipboard string
	c.clipboard = func(s string) error { clipboard = s; return nil }
	d := draft{to: "http://globex.test", dest: globex, mode: engine.ModeBasic, project: company}
	s := sized(newInvitationScreen(c, d))
	s = start(t, s)
	// The golden shows a fixed path, so it is the same from run to run;
	// the real file is checked below.
	is := s.(*invitationScreen)
	tmpPath := is.path
	is.path = "/home/admin/.local/share/tandem/invitation-Acme_to_Globex-c1.txt"
	requireGolden(t, s)
	is.path = tmpPath
	if calls := f.called(); len(calls) != 1 || calls[0] != "Invite http://globex.test p1" {
		t.Errorf("calls: %v", calls)
	}
	// The file is written as the screen appears, so what it says is true
	// before any key (trap 6).
	path := filepath.Join(c.codeDir, "invitation-Acme_to_Globex-c1.txt")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the code file is not written when the screen appears: %v", err)
	}
	s, _ = typeKeys(t, s, "c")
	if clipboard != testCode {
		t.Errorf("clipboard: %q", clipboard)
	}
	if v := plain(s.View()); strings.Contains(v, "Copied") || !strings.Contains(v, "Sent to your terminal's clipboard (OSC 52); the code is also in") {
		t.Errorf("after c the screen should say only what was done (an OSC 52 sequence sent):\n%s", v)
	}
	data, err := os.ReadFile(path)
	if err != nil || strings.TrimSpace(string(data)) != testCode {
		t.Fatalf("code file: %q, %v", data, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("code file mode %v: it is a secret", st.Mode().Perm())
	}
	if !strings.Contains(strings.ReplaceAll(plain(s.View()), "\n", ""), path) {
		t.Errorf("the path is not shown:\n%s", plain(s.View()))
	}
	_, msgs := typeKeys(t, s, "<enter>")
	if len(msgs) != 1 || msgs[0] != (homeMsg{}) {
		t.Errorf("Done should go home: %v", msgs)
	}
}

// TestInvitationPathNotSplit checks that a long path to the code file wraps
// only between its parts, never inside a name (trap 6), at 60 columns.
func TestInvitationPathNotSplit(t *testing.T) {
	f := &fakeNode{invite: func(engine.InviteRequest) (engine.Connection, string, error) {
		return engine.Connection{ID: "c1", Name: "Acme_to_Globex", Status: engine.StatusPending}, testCode, nil
	}}
	c := testCommon(t, f)
	c.codeDir = filepath.Join(c.codeDir, "a-rather-long-directory-name", "tandem-demo-data")
	if err := os.MkdirAll(c.codeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	c.width = 58
	s := newInvitationScreen(c, draft{to: "http://globex.test", dest: globex, mode: engine.ModeBasic, project: company})
	s.SetSize(58, 14)
	v := plain(start(t, s).View())
	for _, part := range strings.Split(filepath.Join(c.codeDir, "invitation-Acme_to_Globex-c1.txt"), string(filepath.Separator)) {
		if part != "" && !strings.Contains(v, part) {
			t.Errorf("%q is split:\n%s", part, v)
		}
	}
	for l := range strings.Lines(v) {
		if w := lipgloss.Width(strings.TrimRight(l, "\n")); w > 58 {
			t.Errorf("line %q is %d wide, over 58", l, w)
		}
	}
}

func TestAcceptScreen(t *testing.T) {
	preview := engine.InvitationPreview{Initiator: engine.Instance{Name: "Acme", URL: "http://acme.test", Tracker: "asana"},
		ProjectName: "Company", Mode: engine.ModeBasic, Expires: testNow.Add(71 * time.Hour)}
	f := &fakeNode{projects: []engine.Project{company, test},
		preview: func(code string) (engine.InvitationPreview, error) {
			switch code {
			case testCode:
				return preview, nil
			case "tdm1.used":
				return engine.InvitationPreview{}, engine.ErrInvitationUsed
			}
			return engine.InvitationPreview{}, engine.ErrInvitationMalformed
		},
		accept: func(code, project string) (engine.Connection, error) {
			return engine.Connection{ID: "c9", Name: "Acme_to_Globex", LocalProject: project, LocalProjectName: "Test"}, nil
		}}
	c := testCommon(t, f)
	t.Run("malformed", func(t *testing.T) {
		s, _ := typeKeys(t, sized(newAcceptScreen(c)), "nonsense<enter>")
		requireGolden(t, s)
	})
	t.Run("used", func(t *testing.T) {
		s, _ := typeKeys(t, sized(newAcceptScreen(c)), "tdm1.used<enter>")
		if !strings.Contains(plain(s.View()), "already used") {
			t.Fatal(plain(s.View()))
		}
	})
	t.Run("accept", func(t *testing.T) {
		s := sized(newAcceptScreen(c))
		s, _ = run(t, s, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(" " + testCode[:30] + "\n " + testCode[30:] + "\n"), Paste: true})
		s, _ = typeKeys(t, s, "<enter>")
		if !strings.Contains(plain(s.View()), "Invited by Acme") {
			t.Fatalf("stray spaces and line breaks should be dropped:\n%s", plain(s.View()))
		}
		requireGolden(t, s)
		s, _ = typeKeys(t, s, "<esc>")
		if !strings.Contains(plain(s.View()), "Paste the invitation code") {
			t.Fatalf("esc goes back to the code:\n%s", plain(s.View()))
		}
		s, _ = typeKeys(t, s, "<enter><down><enter>")
		_ = s
		if calls := strings.Join(f.called(), ";"); !strings.Contains(calls, "Accept "+testCode+" p2") {
			t.Errorf("calls: %s", calls)
		}
	})
}

func TestSuccessScreen(t *testing.T) {
	items := []engine.Item{{ID: "101", Key: "101", Summary: "Draft the launch plan"}, {ID: "102", Key: "102", Summary: "Fix the signup form"}}
	f := &fakeNode{items: items, exalate: func(connID, ref string) (engine.StageEvent, error) {
		if ref == "nope" {
			return engine.StageEvent{}, fmt.Errorf("%w: no task nope in Company", engine.ErrNotFound)
		}
		return engine.StageEvent{ConnectionID: connID, EventID: "e1", EntityID: ref, Stage: engine.StagePreparing}, nil
	}}
	c := testCommon(t, f)
	s := sized(newSuccessScreen(c, activeConn))
	s = start(t, s)
	requireGolden(t, s)
	s, msgs := typeKeys(t, s, "nope<enter>")
	if len(msgs) != 0 || !strings.Contains(plain(s.View()), "✗ Not found: no task nope") {
		t.Fatalf("%v\n%s", msgs, plain(s.View()))
	}
	for range 4 {
		s, _ = run(t, s, tea.KeyMsg{Type: tea.KeyBackspace})
	}
	_, msgs = typeKeys(t, s, "<down><down><enter>")
	sync, ok := pushed(t, msgs).(*syncScreen)
	if !ok {
		t.Fatalf("exalate should open the sync status")
	}
	if v := plain(sync.View()); !strings.Contains(v, "Syncing Fix the signup form (102)") {
		t.Errorf("the sync status should name the task:\n%s", v)
	}
	if calls := strings.Join(f.called(), ";"); !strings.Contains(calls, "Exalate c1 102") {
		t.Errorf("calls: %s", calls)
	}
}

// The first-sync screen names items as the node's tracker does, in every
// line: tasks on Asana, issues on Jira.
func TestSuccessScreenSpeaksTheTrackersNoun(t *testing.T) {
	for _, tc := range []struct {
		tracker, key    string
		want, notWanted []string
	}{
		{"asana", "101", []string{"Sync your first task", "Enter a task id or link (such as 101) from the project Company", "Recent tasks:",
			"✗ Enter a task id or link (such as 101) from Company"}, []string{"issue"}},
		{"jira", "KAN-1", []string{"Sync your first issue", "Enter an issue key or link (such as KAN-1) from the project Company", "Recent issues:",
			"✗ Enter an issue key or link (such as KAN-1) from Company"}, []string{"task"}},
	} {
		t.Run(tc.tracker, func(t *testing.T) {
			f := &fakeNode{items: []engine.Item{{ID: "10001", Key: tc.key, Summary: "Draft the launch plan"}}}
			c := testCommon(t, f)
			onTracker(t, c, tc.tracker)
			s := start(t, sized(newSuccessScreen(c, activeConn)))
			s, _ = typeKeys(t, s, "<enter>") // nothing typed or picked: the hint
			v := plain(s.View())
			flat := strings.Join(strings.Fields(v), " ")
			for _, w := range tc.want {
				if !strings.Contains(flat, w) {
					t.Errorf("missing %q in\n%s", w, v)
				}
			}
			for _, w := range tc.notWanted {
				if strings.Contains(strings.ToLower(v), w) {
					t.Errorf("%q on a %s node:\n%s", w, tc.tracker, v)
				}
			}
		})
	}
}

func TestSyncScreen(t *testing.T) {
	t0 := testNow
	status := engine.EventStatus{StageEvent: engine.StageEvent{ConnectionID: "c1", EventID: "e1", EntityID: "101", LocalKey: "101",
		LocalURL: "http://acme.test/task/101", Stage: engine.StageSending, Error: "the peer can't be reached",
		NextRetry: t0.Add(5 * time.Second)},
		Stages: []engine.StageEntry{{Stage: engine.StagePreparing, At: t0.Add(-2 * time.Second)}, {Stage: engine.StageSending, At: t0.Add(-1500 * time.Millisecond)}}}
	f := &fakeNode{eventStatus: func(string, string) (engine.EventStatus, error) { return status, nil }}
	c := testCommon(t, f)
	s := sized(newSyncScreen(c, activeConn, status.StageEvent))
	s, _ = run(t, s, stageMsg{status.StageEvent})
	t.Run("failing", func(t *testing.T) { requireGolden(t, s) })

	status.Error, status.NextRetry = "", time.Time{}
	status.Stage = engine.StageSynchronized
	status.RemoteKey, status.RemoteURL = "201", "http://globex.test/task/201"
	status.Skipped = []string{"big.iso (120 MB) is over Globex's limit of 100 MB"}
	status.Notes = []string{`201 is a "task": Globex's Asana has no type "Bug", so it got the default type`}
	for i, st := range []string{engine.StageWaiting, engine.StageFinalizing, engine.StageSynchronized} {
		status.Stages = append(status.Stages, engine.StageEntry{Stage: st, At: t0.Add(time.Duration(i+1) * 300 * time.Millisecond)})
	}
	s, _ = run(t, s, stageMsg{engine.StageEvent{ConnectionID: "other", EventID: "e1"}})
	if strings.Contains(plain(s.View()), "✓ Synchronized") {
		t.Fatal("an event of another connection moved this sync")
	}
	s, _ = run(t, s, stageMsg{status.StageEvent})
	v := plain(s.View())
	for _, want := range []string{"✓ Sending", "✓ Synchronized", "201", "http://globex.test/task/201", "Not synced: big.iso", `no type "Bug"`} {
		if !strings.Contains(v, want) {
			t.Errorf("missing %q in\n%s", want, v)
		}
	}
	t.Run("done", func(t *testing.T) { requireGolden(t, s) })
}

func TestVerifyOffersTheDemoToken(t *testing.T) {
	f := &fakeNode{destination: func(url, token string) (engine.Instance, []engine.Project, error) {
		if token != "s3cret" {
			return engine.Instance{}, nil, engine.Errorf(engine.ErrBadRequest, "refused")
		}
		return globex, []engine.Project{test}, nil
	}}
	c := testCommon(t, f)
	c.suggest, c.suggestToken = "http://globex.test", "s3cret"
	d := draft{to: "http://globex.test", dest: globex, mode: engine.ModeBasic, project: company}
	s := sized(newVerifyScreen(c, d))
	if v := plain(s.View()); !strings.Contains(v, "tab fills it in") || strings.Contains(v, "s3cret") {
		t.Fatalf("the offer, without the token:\n%s", v)
	}
	s, _ = typeKeys(t, s, "<tab>")
	if strings.Contains(plain(s.View()), "s3cret") {
		t.Fatal("the filled-in token is shown in clear")
	}
	_, msgs := typeKeys(t, s, "<enter>")
	if _, ok := pushed(t, msgs).(*projectScreen); !ok {
		t.Fatal("the demo's token should verify")
	}
	// Another destination gets no offer.
	d.to = "http://elsewhere.test"
	if v := plain(sized(newVerifyScreen(c, d)).View()); strings.Contains(v, "tab fills it in") {
		t.Errorf("offered a token for another node:\n%s", v)
	}
}
