package tui

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/tandem-sync/tandem/connectors/remote"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/internal/demo"
)

// The flows below drive the console the way an admin would, at 80×24,
// against two real nodes in front of two real sandboxes, reading only what
// the screen shows.

// flow is a console under test with a record of everything drawn.
type flow struct {
	t     *testing.T
	tm    *teatest.TestModel
	nodes []*demo.Node
	dir   string

	mu   sync.Mutex
	out  bytes.Buffer
	from int
}

func startFlow(t *testing.T, tune func(*demo.Spec)) *flow {
	t.Helper()
	return startFlowOn(t, tune, func(n *demo.Node) Node { return n.Node.Admin() })
}

// startFlowOn is startFlow with the console reaching the nodes through via.
func startFlowOn(t *testing.T, tune func(*demo.Spec), via func(*demo.Node) Node) *flow {
	t.Helper()
	return startFlowWith(t, demo.Pair, tune, via)
}

// startFlowWith starts the nodes with pair (demo.Pair: two Asana nodes;
// demo.Mixed: Acme on Asana, Globex on Jira).
func startFlowWith(t *testing.T, pair func(context.Context, string, func(*demo.Spec)) ([]*demo.Node, error),
	tune func(*demo.Spec), via func(*demo.Node) Node) *flow {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	start, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	nodes, err := pair(start, t.TempDir(), func(s *demo.Spec) {
		s.Poll, s.RequestsPerMinute = 50*time.Millisecond, -1
		if tune != nil {
			tune(s)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.Close()
		}
	})
	a, b := nodes[0], nodes[1]
	f := &flow{t: t, nodes: nodes, dir: t.TempDir()}
	app := New(ctx, Options{
		Targets: []Target{
			{Name: a.Name, URL: a.URL, Node: via(a), Suggest: b.URL, SuggestName: b.Name, Project: a.Project, SuggestProject: b.Project},
			{Name: b.Name, URL: b.URL, Node: via(b), Suggest: a.URL, SuggestName: a.Name, Project: b.Project, SuggestProject: a.Project},
		},
		Renderer: plainRenderer(), CodeDir: f.dir,
		// The clipboard of a terminal that drops OSC 52: nothing arrives.
		Clipboard: func(string) error { return nil },
	})
	f.tm = teatest.NewTestModel(t, app, teatest.WithInitialTermSize(80, 24))
	t.Cleanup(func() {
		f.tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
		f.tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	})
	f.waitFor("Connections")
	return f
}

// mark starts what the next waitFor looks at: output drawn from now on.
func (f *flow) mark() {
	f.read()
	f.mu.Lock()
	f.from = f.out.Len()
	f.mu.Unlock()
}

func (f *flow) read() {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, _ = io.Copy(&f.out, f.tm.Output())
}

// screen is what was drawn since the mark, without escape sequences.
func (f *flow) screen() string {
	f.read()
	f.mu.Lock()
	defer f.mu.Unlock()
	return plain(f.out.String()[f.from:])
}

// waitFor polls what is drawn until text shows up, or fails the test.
func (f *flow) waitFor(texts ...string) string {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		s := f.screen()
		ok := true
		for _, text := range texts {
			ok = ok && strings.Contains(s, text)
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("waiting for %q; the screen showed:\n%s", texts, tail(s, 3000))
		}
		<-tick.C // poll the output until the deadline
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// typ types text; send sends special keys.
func (f *flow) typ(s string) { f.tm.Type(s) }

func (f *flow) send(ks ...tea.KeyType) {
	for _, k := range ks {
		f.tm.Send(tea.KeyMsg{Type: k})
	}
}

// paste sends text the way a terminal delivers a bracketed paste.
func (f *flow) paste(s string) {
	f.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true})
}

var codeOnScreen = regexp.MustCompile(`tdm1\.[A-Za-z0-9_\-\s]+`)

func TestFlowWithoutAdminAccess(t *testing.T) {
	f := startFlow(t, nil)
	a, b := f.nodes[0], f.nodes[1]

	// Acme initiates towards Globex, without admin access there.
	f.mark()
	f.initiateToAccess(b.URL)
	f.mark()
	f.send(tea.KeyDown, tea.KeyEnter)
	s := f.waitFor("Send this invitation code", "Pending until the code is accepted")
	code := cleanCode(codeOnScreen.FindString(s))
	if _, err := engine.ParseInvitation(code, time.Now()); err != nil {
		t.Fatalf("the code read off the screen (%q) does not parse: %v", code, err)
	}
	// The file is there as soon as the screen says so, before any key.
	files, _ := filepath.Glob(filepath.Join(f.dir, "invitation-*.txt"))
	if len(files) != 1 {
		t.Fatalf("invitation files when the code is shown: %v", files)
	}
	f.mark()
	f.typ("c")
	f.waitFor("Sent to your terminal's clipboard (OSC 52)")
	files, _ = filepath.Glob(filepath.Join(f.dir, "invitation-*.txt"))
	if len(files) != 1 {
		t.Fatalf("invitation files: %v", files)
	}
	if data, _ := os.ReadFile(files[0]); strings.TrimSpace(string(data)) != code {
		t.Errorf("the file holds %q, the screen showed %q", data, code)
	}
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Pending")

	// Globex accepts it: the paste carries line breaks and spaces.
	f.mark()
	f.send(tea.KeyCtrlT)
	f.waitFor("Globex", "No connections yet")
	f.typ("a")
	f.waitFor("Paste the invitation code")
	f.paste(code[:40] + "\n  " + code[40:])
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Invited by Acme", "Select a project for the incoming sync")
	f.typ("Test")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Connection established successfully ✓", "Recent tasks:")

	// A first sync from Globex, picked from the project's recent tasks.
	f.syncFirstListed(b)
	waitUntil(t, func() bool {
		cs, _ := a.Connections(context.Background())
		return len(cs) == 1 && cs[0].Status == engine.StatusActive && cs[0].SyncedItems == 1
	})
}

func TestFlowWithAdminAccess(t *testing.T) {
	f := startFlow(t, nil)
	b := f.nodes[1]

	f.initiateToAccess(f.nodes[1].URL)
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Verify access on Globex")

	// A wrong token is refused inline and never shown.
	f.typ("not-the-token")
	f.mark()
	f.send(tea.KeyEnter)
	s := f.waitFor("refused the admin token")
	if strings.Contains(s, "not-the-token") {
		t.Error("the token was shown in clear")
	}
	for range len("not-the-token") {
		f.send(tea.KeyBackspace)
	}
	f.typ(b.AdminToken)
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Select a project for the incoming sync", "On Globex")
	f.typ("Test")
	f.send(tea.KeyEnter)
	f.waitFor("Confirm the connection", "Globex / Test")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Connection established successfully ✓", "Recent tasks:")
	f.syncFirstListed(f.nodes[0])
	waitUntil(t, func() bool {
		cs, _ := b.Connections(context.Background())
		return len(cs) == 1 && cs[0].Status == engine.StatusActive && cs[0].SyncedItems == 1
	})
}

// TestFlowOverTheAdminAPI is tandem console --node: the same screens on
// nodes reached through their admin API, live stages through its event
// stream.
func TestFlowOverTheAdminAPI(t *testing.T) {
	f := startFlowOn(t, nil, func(n *demo.Node) Node {
		c, err := remote.New(n.URL, n.AdminToken)
		if err != nil {
			t.Fatal(err)
		}
		return RemoteNode(c)
	})
	f.initiateToAccess(f.nodes[1].URL)
	f.send(tea.KeyEnter)
	f.waitFor("Verify access on Globex")
	f.typ(f.nodes[1].AdminToken)
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Select a project for the incoming sync", "On Globex")
	f.typ("Test")
	f.send(tea.KeyEnter)
	f.waitFor("Confirm the connection")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("Connection established successfully ✓", "Recent tasks:")
	f.syncFirstListed(f.nodes[0])
}

func TestFlowRefusedCodes(t *testing.T) {
	// Globex's clock runs 73 hours ahead: a fresh code is expired there.
	f := startFlow(t, func(s *demo.Spec) {
		if s.Name == "Globex" {
			s.Now = func() time.Time { return time.Now().Add(73 * time.Hour) }
		}
	})
	a := f.nodes[0]
	_, code, err := a.Invite(context.Background(), engine.InviteRequest{Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	f.send(tea.KeyCtrlT)
	f.waitFor("Globex")
	f.typ("a")
	f.waitFor("Paste the invitation code")
	for _, c := range []struct{ paste, want string }{
		{"tdm1.this-is-not-a-code", "The invitation code is damaged or was altered"},
		{"hello", "This is not a valid invitation code"},
		{code, "The invitation code has expired"},
	} {
		f.paste(c.paste)
		f.mark()
		f.send(tea.KeyEnter)
		f.waitFor(c.want)
		f.tm.Send(tea.KeyMsg{Type: tea.KeyCtrlU}) // clear the input
	}
	if cs, _ := f.nodes[1].Connections(context.Background()); len(cs) != 0 {
		t.Errorf("refused codes made connections: %+v", cs)
	}
}

func TestFlowUsedCode(t *testing.T) {
	f := startFlow(t, nil)
	a, b := f.nodes[0], f.nodes[1]
	_, code, err := a.Invite(context.Background(), engine.InviteRequest{Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(context.Background(), code, "Test"); err != nil {
		t.Fatal(err)
	}
	f.send(tea.KeyCtrlT)
	f.waitFor("Globex")
	f.typ("a")
	f.waitFor("Paste the invitation code")
	f.paste(code)
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("already used")
}

func TestFlowInitiatorDown(t *testing.T) {
	f := startFlow(t, nil)
	a := f.nodes[0]
	_, code, err := a.Invite(context.Background(), engine.InviteRequest{Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	f.send(tea.KeyCtrlT)
	f.waitFor("Globex")
	f.typ("a")
	f.waitFor("Paste the invitation code")
	f.paste(code)
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("The inviting node Acme", "can't be reached")
}

func TestFlowUnreachableDestination(t *testing.T) {
	f := startFlow(t, nil)
	f.typ("i")
	f.waitFor("Destination instance URL")
	f.typ("http://127.0.0.1:1")
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("can't be reached")
	// A server that is not tandem: the sandbox.
	f.tm.Send(tea.KeyMsg{Type: tea.KeyCtrlU})
	f.typ(strings.TrimSuffix(f.nodes[1].SandboxURL, "/api/1.0"))
	f.mark()
	f.send(tea.KeyEnter)
	f.waitFor("not a tandem node")
}

// initiateToAccess goes from Connections to the admin-access question:
// Initiate, the suggested URL (dest), Basic, this side's Company project.
func (f *flow) initiateToAccess(dest string) {
	f.t.Helper()
	f.mark()
	f.typ("i")
	f.waitFor("Destination instance URL", "Suggestion: "+dest)
	f.send(tea.KeyTab, tea.KeyEnter)
	f.waitFor("Choose the configuration mode", "Basic")
	f.send(tea.KeyEnter)
	f.waitFor("Select a project on this side for incoming sync", "Company")
	f.mark()
	f.typ("Comp")
	f.send(tea.KeyEnter)
	f.waitFor("Do you have admin access to the destination instance?")
}

// syncFirstListed, on "Connection established", exalates the first of the
// project's recent tasks and waits for Synchronized with n's links shown.
func (f *flow) syncFirstListed(n *demo.Node) {
	f.t.Helper()
	f.mark()
	f.send(tea.KeyDown, tea.KeyEnter)
	f.waitFor("✓ Synchronized")
	f.waitForLinks(n)
}

// waitForLinks waits until both sides' keys and links of the node's latest
// sync are on screen.
func (f *flow) waitForLinks(n *demo.Node) {
	f.t.Helper()
	cs, err := n.Connections(context.Background())
	if err != nil || len(cs) != 1 {
		f.t.Fatalf("connections of %s: %v, %v", n.Name, cs, err)
	}
	evs, err := n.RecentEvents(context.Background(), cs[0].ID, 1)
	if err != nil || len(evs) != 1 {
		f.t.Fatalf("syncs of %s: %v, %v", n.Name, evs, err)
	}
	e := evs[0]
	if e.LocalKey == "" || e.RemoteKey == "" || e.LocalURL == "" || e.RemoteURL == "" {
		f.t.Fatalf("the sync lacks a key or link: %+v", e)
	}
	f.waitFor(e.LocalKey, e.LocalURL, e.RemoteKey, e.RemoteURL)
}

// waitUntil polls cond with a deadline.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		<-tick.C
	}
}
