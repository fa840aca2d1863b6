package tui

import (
	"errors"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// draft is a connection being set up, filled in screen by screen.
type draft struct {
	// to is the destination's URL; "" when the admin has none.
	to    string
	dest  adminapi.Instance
	local bool
	// mode is the configuration mode chosen; it travels into the
	// invitation (InviteRequest) or the connection (ConnectRequest).
	mode adminapi.Mode
	// project is this side's project for incoming sync; destProject the
	// other side's (the destination's, or this node's other project in a
	// local connection).
	project     adminapi.Project
	destProject adminapi.Project
	destToken   string
}

// initiateScreen asks for the destination instance URL.
type initiateScreen struct {
	c       *common
	input   textinput.Model
	noURL   bool
	focusNo bool
	busy    bool
	err     error
	// assumed is the URL completed with a scheme the admin did not type,
	// said on screen so a wrong guess is seen.
	assumed string
	spin    spinner.Model
	width   int
}

type probeMsg struct {
	url  string
	info adminapi.Instance
	err  error
}

func newInitiateScreen(c *common) *initiateScreen {
	ti := c.textInput("https://tandem.example.com", 2048)
	return &initiateScreen{c: c, input: ti, spin: newSpinner(c)}
}

func (s *initiateScreen) Title() string    { return "Initiate connection" }
func (s *initiateScreen) SetSize(w, _ int) { s.width = w; s.input.Width = max(w-4, 10) }
func (s *initiateScreen) Init() tea.Cmd    { return textinput.Blink }
func (s *initiateScreen) capturing() bool  { return !s.focusNo }
func (s *initiateScreen) handlesEsc() bool { return false }
func (s *initiateScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case probeMsg:
		s.busy = false
		if msg.err != nil {
			s.err = msg.err
			return s, nil
		}
		return s, push(newModeScreen(s.c, draft{to: msg.url, dest: msg.info}))
	case spinner.TickMsg:
		return s, spinWhile(s.busy, &s.spin, msg)
	case tea.KeyMsg:
		if s.busy {
			return s, nil
		}
		switch {
		case key.Matches(msg, s.c.keys.Next):
			return s, s.next()
		case key.Matches(msg, s.c.keys.NoURL):
			s.noURL = !s.noURL
			s.err = nil
			return s, nil
		case key.Matches(msg, s.c.keys.Down) && !s.focusNo:
			s.focusNo = true
			s.input.Blur()
			return s, nil
		case key.Matches(msg, s.c.keys.Up) && s.focusNo:
			s.focusNo = false
			return s, s.input.Focus()
		case key.Matches(msg, s.c.keys.Toggle) && s.focusNo:
			s.noURL = !s.noURL
			return s, nil
		case key.Matches(msg, s.c.keys.Suggestion) && s.c.suggest != "" && !s.focusNo:
			s.input.SetValue(s.c.suggest)
			s.input.CursorEnd()
			s.noURL, s.err = false, nil
			return s, nil
		}
		if s.focusNo {
			return s, nil
		}
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		if strings.TrimSpace(s.input.Value()) != "" {
			s.noURL = false
		}
		s.err, s.assumed = nil, ""
		return s, cmd
	}
	return s, nil
}

// next checks the URL, then probes it behind a spinner; the node's own URL
// means a local connection and needs no probe.
func (s *initiateScreen) next() tea.Cmd {
	s.err = nil
	if s.noURL {
		self := s.c.self
		return push(newModeScreen(s.c, draft{dest: adminapi.Instance{Modes: self.Modes}}))
	}
	raw := strings.TrimSpace(s.input.Value())
	if raw == "" {
		s.err = errors.New("enter the destination instance URL, or choose \"I don't have a URL\" (ctrl+o)")
		return nil
	}
	url, scheme, err := adminapi.CompleteURL(raw)
	if err != nil {
		s.err = err
		return nil
	}
	s.assumed = ""
	if scheme != "" {
		s.assumed = url
	}
	if url == s.c.self.URL {
		return push(newModeScreen(s.c, draft{to: url, dest: s.c.self, local: true}))
	}
	s.busy = true
	node, ctx := s.c.node, s.c.ctx
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		info, err := node.Probe(ctx, url)
		return probeMsg{url, info, err}
	})
}

func (s *initiateScreen) View() string {
	st := s.c.styles
	var b strings.Builder
	b.WriteString(st.Subtitle.Render("Destination instance URL") + "\n")
	b.WriteString(st.Faint.Render("The URL of the tandem node on the other side. This node's own URL makes a\nlocal connection between two of its projects.") + "\n\n")
	b.WriteString(s.input.View() + "\n")
	if s.c.suggest != "" {
		name := s.c.suggestName
		if name != "" {
			name = " (" + name + ")"
		}
		b.WriteString(st.Faint.Render("Suggestion: "+s.c.suggest+name+" (tab)") + "\n")
	}
	b.WriteString("\n")
	box := "[ ]"
	if s.noURL {
		box = "[x]"
	}
	line := box + " I don't have a URL"
	if s.focusNo {
		line = st.Selected.Render("› " + line)
	} else {
		line = "  " + line
	}
	b.WriteString(line + st.Faint.Render("  (ctrl+o)") + "\n")
	b.WriteString(st.Faint.Render("    You'll get an invitation code to send to the other side's admin.") + "\n")
	if s.assumed != "" && (s.busy || s.err != nil) {
		b.WriteString("\n" + st.Faint.Render(ansiWrap("Assuming "+s.assumed+" (no scheme was given: http:// for this machine, https:// otherwise).", s.width)))
	}
	switch {
	case s.busy:
		b.WriteString("\n" + s.spin.View() + " Checking the destination…")
	case s.err != nil:
		b.WriteString("\n" + s.c.errorLine(s.err))
	}
	return b.String()
}

func (s *initiateScreen) ShortHelp() []key.Binding {
	ks := s.keys()
	if s.focusNo {
		// Space ticks the box only while it has the focus; elsewhere it is
		// a character of the URL.
		ks = append(ks, s.c.keys.Toggle)
	}
	return ks
}

func (s *initiateScreen) FullHelp() [][]key.Binding {
	return [][]key.Binding{s.keys(), {s.c.keys.Up, s.c.keys.Down, s.c.keys.Toggle}}
}

// keys are the screen's keys wherever the focus is.
func (s *initiateScreen) keys() []key.Binding {
	ks := []key.Binding{s.c.keys.Next}
	if s.c.suggest != "" {
		ks = append(ks, s.c.keys.Suggestion)
	}
	return append(ks, s.c.keys.NoURL)
}

// modeScreen offers the configuration modes both sides support, as their
// instance info (Instance.Modes) says, and names the node to upgrade for
// each other mode.
type modeScreen struct {
	c     *common
	d     draft
	modes []adminapi.Mode
	// lacking holds, per mode neither offered, the nodes that don't
	// support it.
	lacking map[adminapi.Mode][]string
	cursor  int
}

// modeInfo says in one line what a mode means.
func modeInfo(mode adminapi.Mode) string {
	switch mode {
	case adminapi.ModeBasic:
		return "Fixed rules for type, summary, description, comments and attachments."
	case adminapi.ModeScript:
		return "Your own outgoing and incoming rules, written in Starlark."
	}
	return ""
}

// newModeScreen sorts every mode into those both nodes support and those
// one of them lacks. Without a destination URL the other side is not
// known yet: this node's modes are offered, and the accepting node refuses
// a mode it lacks.
func newModeScreen(c *common, d draft) *modeScreen {
	s := &modeScreen{c: c, d: d, lacking: map[adminapi.Mode][]string{}}
	for _, m := range adminapi.Modes() {
		var lacking []string
		if !slices.Contains(c.self.Modes, m) {
			lacking = append(lacking, c.self.Name)
		}
		if d.to != "" && !d.local && !slices.Contains(d.dest.Modes, m) {
			lacking = append(lacking, d.dest.Name)
		}
		if len(lacking) == 0 {
			s.modes = append(s.modes, m)
		} else {
			s.lacking[m] = lacking
		}
	}
	return s
}

func (s *modeScreen) Title() string    { return "Configuration mode" }
func (s *modeScreen) SetSize(int, int) {}
func (s *modeScreen) Init() tea.Cmd    { return nil }

func (s *modeScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, s.c.keys.Up):
			s.cursor = max(s.cursor-1, 0)
		case key.Matches(k, s.c.keys.Down):
			s.cursor = min(s.cursor+1, max(len(s.modes)-1, 0))
		case key.Matches(k, s.c.keys.Next) && len(s.modes) > 0:
			d := s.d
			d.mode = s.modes[s.cursor]
			return s, push(newProjectScreen(s.c, d, sideThis))
		}
	}
	return s, nil
}

func (s *modeScreen) View() string {
	st := s.c.styles
	var b strings.Builder
	switch {
	case s.d.local:
		b.WriteString("Local connection between two projects of " + st.Subtitle.Render(s.c.self.Name) + ".\n\n")
	case s.d.to != "":
		b.WriteString("Destination: " + st.Subtitle.Render(s.d.dest.Name) + st.Faint.Render(" ("+s.d.to+", "+s.d.dest.Tracker+")") + "\n\n")
	default:
		b.WriteString("No destination URL: the invitation code will carry this node's URL.\n\n")
	}
	b.WriteString(st.Subtitle.Render("Choose the configuration mode") + "\n")
	if len(s.modes) == 0 {
		b.WriteString(s.c.errorLine(errors.New("the two nodes have no configuration mode in common: upgrade one of them")))
		return b.String()
	}
	for i, m := range s.modes {
		line := "  " + modeName(m)
		if i == s.cursor {
			line = st.Selected.Render("› " + modeName(m))
		}
		b.WriteString(line + "\n" + st.Faint.Render(wrapText("    "+modeInfo(m), s.c.width)) + "\n")
	}
	for _, m := range adminapi.Modes() {
		if lacking := s.lacking[m]; len(lacking) > 0 {
			b.WriteString(st.Faint.Render("  "+modeName(m)+" mode is not available: upgrade tandem on "+strings.Join(lacking, " and ")+".") + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *modeScreen) ShortHelp() []key.Binding {
	return []key.Binding{s.c.keys.Up, s.c.keys.Down, s.c.keys.Next}
}
func (s *modeScreen) FullHelp() [][]key.Binding {
	return [][]key.Binding{s.ShortHelp()}
}
