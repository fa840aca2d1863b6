package tui

import (
	"context"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/tui/termtext"
)

// Target is a node the console can show: its name and URL for the status
// bar, and how to reach it.
type Target struct {
	Name string
	URL  string
	Node Node
	// Suggest is a destination URL the Initiate screen offers (in the demo,
	// the other node's), with SuggestName naming it.
	Suggest     string
	SuggestName string
	// SuggestToken is the admin token of the suggested node, which the
	// demo knows since it made both nodes; the verify screen offers it.
	SuggestToken string
	// Project is the project this node usually works in, and
	// SuggestProject the suggested node's: project lists start on them.
	Project        string
	SuggestProject string
}

// Options configure the console.
type Options struct {
	// Targets are the nodes to show, the first one opened; ctrl+t goes to
	// the next.
	Targets []Target
	// Renderer renders styles; nil means lipgloss's default (the terminal's
	// colour profile, NO_COLOR honoured).
	Renderer *lipgloss.Renderer
	// Clipboard copies text to the user's clipboard (OSC 52 in a terminal);
	// nil disables copying.
	Clipboard func(string) error
	// CodeDir is where invitation codes are also written as files.
	CodeDir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// About, if set, is shown on its key (about.go): tandem demo's
	// addresses and where its demo.env is.
	About string
}

// App is the console's root model: it routes keys and messages to the
// current screen of the current node's session, and draws the frame (title,
// help line, status bar) around it.
type App struct {
	ctx      context.Context
	sessions []*session
	current  int
	styles   *Styles
	keys     *keyMap
	help     help.Model
	fullHelp bool
	// quitting is true while q asks whether to leave the wizard.
	quitting bool
	width    int
	height   int
	about    string
}

// session is one node's stack of screens, kept while the console shows the
// other node so ctrl+t returns to where the admin was.
type session struct {
	target Target
	common *common
	stack  []screen
	events <-chan adminapi.StageEvent
}

// sessionMsg carries a message produced by a session's command back to
// that session, whichever node is on screen when it arrives.
type sessionMsg struct {
	session int
	msg     tea.Msg
}

type (
	subscribedMsg struct {
		events <-chan adminapi.StageEvent
		err    error
	}
	infoMsg struct {
		info adminapi.Instance
		err  error
	}
	eventsClosedMsg struct{}
)

// New builds the console. ctx bounds every call it makes to the nodes.
func New(ctx context.Context, opts Options) *App {
	r := opts.Renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	a := &App{ctx: ctx, styles: NewStyles(r), keys: newKeyMap(), help: help.New(), width: 80, height: 24, about: opts.About}
	a.help.Styles.ShortKey = a.styles.Accent
	a.help.Styles.FullKey = a.styles.Accent
	a.help.Styles.ShortDesc = a.styles.Help
	a.help.Styles.FullDesc = a.styles.Help
	a.help.Styles.ShortSeparator = a.styles.Help
	a.help.Styles.FullSeparator = a.styles.Help
	for _, t := range opts.Targets {
		// The target's name may be another node's (console --node): it is
		// drawn in the status bar, so it is cleaned like what the node says.
		t.Name, t.URL, t.SuggestName = termtext.Line(t.Name), termtext.Line(t.URL), termtext.Line(t.SuggestName)
		t.Node = cleanNode{t.Node}
		c := &common{ctx: ctx, node: t.Node, self: adminapi.Instance{Name: t.Name, URL: t.URL}, styles: a.styles,
			keys: a.keys, suggest: t.Suggest, suggestName: t.SuggestName, suggestToken: t.SuggestToken, project: t.Project, suggestProject: t.SuggestProject, clipboard: opts.Clipboard,
			codeDir: opts.CodeDir, now: now, tick: tea.Tick}
		a.sessions = append(a.sessions, &session{target: t, common: c, stack: []screen{newConnectionsScreen(c)}})
	}
	return a
}

// Init starts every session: its node's details, its event stream and its
// home screen.
func (a *App) Init() tea.Cmd {
	var cmds []tea.Cmd
	for i, s := range a.sessions {
		node := s.target.Node
		cmds = append(cmds,
			a.wrap(i, func() tea.Msg {
				info, err := node.Info(a.ctx)
				return infoMsg{info, err}
			}),
			a.wrap(i, func() tea.Msg {
				ch, err := node.Subscribe(a.ctx)
				return subscribedMsg{ch, err}
			}),
			a.wrap(i, s.top().Init()))
	}
	return tea.Batch(cmds...)
}

func (s *session) top() screen { return s.stack[len(s.stack)-1] }

// wrap tags a command's messages with their session.
func (a *App) wrap(i int, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		msg := cmd()
		switch msg := msg.(type) {
		case nil:
			return nil
		case tea.BatchMsg:
			out := make(tea.BatchMsg, 0, len(msg))
			for _, c := range msg {
				out = append(out, a.wrap(i, c))
			}
			return out
		case tea.QuitMsg:
			return msg
		}
		return sessionMsg{i, msg}
	}
}

// Update routes a message.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		a.help.Width = msg.Width - 2
		for _, s := range a.sessions {
			s.common.width = max(a.width-2, 20)
			for _, sc := range s.stack {
				a.size(sc)
			}
		}
		return a, nil
	case tea.KeyMsg:
		return a.key(msg)
	case sessionMsg:
		return a, a.toSession(msg.session, msg.msg)
	}
	return a, a.toSession(a.current, msg)
}

func (a *App) key(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	s := a.sessions[a.current]
	top := s.top()
	typing := false
	if c, ok := top.(capturer); ok {
		typing = c.capturing()
	}
	if a.quitting {
		switch {
		case key.Matches(msg, a.keys.ForceQuit), key.Matches(msg, a.keys.Confirm):
			return a, tea.Quit
		case key.Matches(msg, a.keys.Cancel):
			a.quitting = false
		}
		return a, nil
	}
	switch {
	case key.Matches(msg, a.keys.ForceQuit):
		return a, tea.Quit
	case key.Matches(msg, a.keys.SwitchNode) && len(a.sessions) > 1:
		a.current = (a.current + 1) % len(a.sessions)
		return a, a.reveal(a.current)
	case !typing && key.Matches(msg, a.keys.Quit):
		if inWizard(top) {
			a.quitting = true
			return a, nil
		}
		return a, tea.Quit
	case !typing && a.about != "" && key.Matches(msg, a.keys.About):
		return a, a.openAbout()
	case !typing && key.Matches(msg, a.keys.Help):
		if _, ok := top.(explainer); ok {
			// The screen has its own explanation to show.
			return a, a.toSession(a.current, msg)
		}
		a.fullHelp = !a.fullHelp
		for _, s := range a.sessions {
			for _, sc := range s.stack {
				a.size(sc)
			}
		}
		return a, nil
	case key.Matches(msg, a.keys.Back):
		if e, ok := top.(escHandler); !ok || !e.handlesEsc() {
			return a, a.toSession(a.current, backMsg{})
		}
	}
	return a, a.toSession(a.current, msg)
}

// toSession delivers a message to a session: stack changes are done here,
// anything else goes to its top screen.
func (a *App) toSession(i int, msg tea.Msg) tea.Cmd {
	s := a.sessions[i]
	switch msg := msg.(type) {
	case infoMsg:
		if msg.err == nil {
			s.common.self = msg.info
		}
		return nil
	case subscribedMsg:
		if msg.err != nil || msg.events == nil {
			return nil
		}
		s.events = msg.events
		return a.wrap(i, s.next)
	case stageMsg:
		var cmd tea.Cmd
		s.stack[len(s.stack)-1], cmd = s.top().Update(msg)
		return tea.Batch(a.wrap(i, cmd), a.wrap(i, s.next))
	case eventsClosedMsg:
		return nil
	case runProcessMsg:
		// The program has the terminal until it exits; what it left comes
		// back to this session.
		done := msg.done
		return tea.ExecProcess(msg.cmd, func(err error) tea.Msg { return sessionMsg{i, done(err)} })
	case pushMsg:
		a.size(msg.s)
		s.stack = append(s.stack, msg.s)
		return a.wrap(i, msg.s.Init())
	case replaceMsg:
		a.size(msg.s)
		s.stack[len(s.stack)-1] = msg.s
		return a.wrap(i, msg.s.Init())
	case resetMsg:
		a.size(msg.s)
		s.stack = append(s.stack[:1], msg.s)
		return a.wrap(i, msg.s.Init())
	case backMsg:
		if len(s.stack) == 1 {
			return nil
		}
		s.stack = s.stack[:len(s.stack)-1]
		return a.reveal(i)
	case homeMsg:
		s.stack = s.stack[:1]
		return a.reveal(i)
	}
	var cmd tea.Cmd
	s.stack[len(s.stack)-1], cmd = s.top().Update(msg)
	return a.wrap(i, cmd)
}

func (a *App) reveal(i int) tea.Cmd {
	s := a.sessions[i]
	var cmd tea.Cmd
	s.stack[len(s.stack)-1], cmd = s.top().Update(revealMsg{})
	return a.wrap(i, cmd)
}

// next waits for the session's next stage event.
func (s *session) next() tea.Msg {
	ev, ok := <-s.events
	if !ok {
		return eventsClosedMsg{}
	}
	return stageMsg{ev}
}

// chrome is the lines the frame takes: title and blank line above the
// screen, help line and status bar below.
const chrome = 5

func (a *App) size(sc screen) {
	sc.SetSize(max(a.width-2, 20), max(a.height-chrome-a.helpLines()+1, 5))
}

func (a *App) helpLines() int {
	if a.fullHelp {
		return 6
	}
	return 1
}

// View draws the frame around the current screen.
func (a *App) View() string {
	s := a.sessions[a.current]
	top := s.top()
	var b strings.Builder
	b.WriteString(a.styles.Title.Render("tandem") + a.styles.Faint.Render(" · ") + a.styles.Subtitle.Render(top.Title()))
	b.WriteString("\n\n")
	// Screens wrap what they can; this catches the rest, so nothing is cut
	// at the terminal's edge.
	body := ansi.Wrap(top.View(), max(a.width-2, 20), "")
	helpView := a.helpView(top)
	// A body taller than the room left would scroll the title off the
	// top: its end is cut instead, and says so.
	if room := a.height - 2 - lipgloss.Height(helpView) - 1; lipgloss.Height(body) > room && room > 1 {
		lines := strings.Split(body, "\n")
		body = strings.Join(lines[:room-1], "\n") + "\n" + a.styles.Faint.Render("… (make the terminal taller to see the rest)")
	}
	b.WriteString(body)
	used := 2 + lipgloss.Height(body)
	pad := a.height - used - lipgloss.Height(helpView) - 1
	for range max(pad+1, 1) {
		b.WriteString("\n")
	}
	b.WriteString(helpView)
	b.WriteString("\n")
	b.WriteString(a.statusBar())
	return a.styles.App.Render(b.String())
}

func (a *App) helpView(top screen) string {
	if a.quitting {
		return a.styles.Warn.Render(wrapText(quitQuestion+" y/n", a.width-2))
	}
	if a.fullHelp {
		global := a.globalKeys(top)
		if len(a.sessions) > 1 {
			global = append(global, a.keys.SwitchNode)
		}
		if a.about != "" {
			global = append(global, a.keys.About)
		}
		return a.help.FullHelpView(append(top.FullHelp(), global))
	}
	return a.shortHelp(top.ShortHelp(), a.globalKeys(top))
}

// shortHelp is the one-line help: the screen's keys as many as fit, then
// "…" (the full help, ?, has them all), and always the global keys (back,
// help, quit), which are never the ones cut.
func (a *App) shortHelp(own, global []key.Binding) string {
	sep := a.styles.Help.Render(" • ")
	sepW := lipgloss.Width(sep)
	item := func(k key.Binding) string {
		return a.styles.Accent.Render(k.Help().Key) + " " + a.styles.Help.Render(k.Help().Desc)
	}
	join := func(ks []key.Binding) (string, int) {
		var parts []string
		for _, k := range ks {
			if k.Enabled() {
				parts = append(parts, item(k))
			}
		}
		out := strings.Join(parts, sep)
		return out, lipgloss.Width(out)
	}
	tail, tailW := join(global)
	w := a.width - 2
	ell := a.styles.Help.Render("…")
	var b strings.Builder
	used := 0
	for i, k := range own {
		if !k.Enabled() {
			continue
		}
		it := item(k)
		iw := lipgloss.Width(it)
		if used > 0 {
			iw += sepW
		}
		// Room for this key, then the global keys after a separator, and
		// an ellipsis unless this is the last of the screen's keys.
		need := used + iw + sepW + tailW
		if i < len(own)-1 {
			need += lipgloss.Width(ell) + 1
		}
		if need > w {
			if used > 0 {
				b.WriteString(" ")
			}
			b.WriteString(ell)
			used += lipgloss.Width(ell) + 1
			break
		}
		if used > 0 {
			b.WriteString(sep)
		}
		b.WriteString(it)
		used += iw
	}
	if tail == "" {
		return b.String()
	}
	if used > 0 {
		b.WriteString(sep)
	}
	b.WriteString(tail)
	return b.String()
}

// globalKeys are the keys every screen has.
func (a *App) globalKeys(top screen) []key.Binding {
	ks := []key.Binding{}
	if len(a.sessions[a.current].stack) > 1 && !bindsEsc(top.ShortHelp()) {
		ks = append(ks, a.keys.Back)
	}
	if c, ok := top.(capturer); ok && c.capturing() {
		return append(ks, a.keys.ForceQuit)
	}
	if _, ok := top.(explainer); ok {
		// Its own help names ?, for what it explains.
		return append(ks, a.keys.Quit)
	}
	return append(ks, a.keys.Help, a.keys.Quit)
}

func (a *App) statusBar() string {
	s := a.sessions[a.current]
	self := s.common.self
	name, url := self.Name, self.URL
	if name == "" {
		name = s.target.Name
	}
	if url == "" {
		url = s.target.URL
	}
	left := a.styles.StatusKey.Render(" " + name + " ")
	right := " " + url
	if self.Tracker != "" {
		right += " · " + self.Tracker
	}
	if len(a.sessions) > 1 {
		other := a.sessions[(a.current+1)%len(a.sessions)].target.Name
		right += " · ctrl+t → " + other
	}
	w := max(a.width-2-lipgloss.Width(left), 0)
	return left + a.styles.StatusBar.Width(w).MaxWidth(w).Render(truncate(right, w))
}

// bindsEsc says whether a screen names esc in its own help (as "previous").
func bindsEsc(ks []key.Binding) bool {
	for _, k := range ks {
		for _, name := range k.Keys() {
			if name == "esc" {
				return true
			}
		}
	}
	return false
}
