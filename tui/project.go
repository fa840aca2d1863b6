package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// side says whose project a project screen picks.
type side int

const (
	// sideThis is this node's project for incoming sync.
	sideThis side = iota
	// sideOther is this node's second project in a local connection.
	sideOther
	// sideDest is the destination's project (the admin-access path).
	sideDest
)

// projectScreen is "Select a project": a filterable list of projects.
type projectScreen struct {
	c      *common
	d      draft
	side   side
	pick   picker
	loaded bool
	err    error
	spin   spinner.Model
	width  int
}

type projectsMsg struct {
	list []adminapi.Project
	err  error
}

func newProjectScreen(c *common, d draft, sd side) *projectScreen {
	return &projectScreen{c: c, d: d, side: sd, pick: newPicker(c, "type to filter"), spin: newSpinner(c)}
}

// newDestProjectScreen picks among projects already read from the destination.
func newDestProjectScreen(c *common, d draft, list []adminapi.Project) *projectScreen {
	s := newProjectScreen(c, d, sideDest)
	s.setProjects(list)
	return s
}

func (s *projectScreen) Title() string { return "Select a project" }
func (s *projectScreen) SetSize(w, h int) {
	s.width = w
	s.pick.height = max(h-9-lineCount(basicNote(s.d.mode, w)), 3)
}

// basicNote is the seed's paragraph on the project for incoming sync in
// Basic mode: what syncs, what happens to types, and that the rules are
// fixed. In Script mode it says where this side's scripts start from and
// where they are edited.
func basicNote(mode adminapi.Mode, w int) string {
	switch mode {
	case adminapi.ModeBasic:
		return wrapText("Basic mode syncs the type, summary, description, comments and attachments both ways. "+
			"Types are mirrored: a type the other side lacks becomes a task (its default type). "+
			"Basic rules can't be edited.", w)
	case adminapi.ModeScript:
		return wrapText("Script mode: each side runs its own outgoing and incoming scripts, written in Starlark. "+
			"This side starts with scripts that do what Basic does; edit them on the connection's Rules tab.", w)
	}
	return ""
}

// lineCount is how many lines text takes, 0 for none.
func lineCount(text string) int {
	if text == "" {
		return 0
	}
	return strings.Count(text, "\n") + 1
}
func (s *projectScreen) capturing() bool { return true }

func (s *projectScreen) Init() tea.Cmd {
	if s.loaded {
		return nil
	}
	node, ctx := s.c.node, s.c.ctx
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		list, err := node.Projects(ctx)
		return projectsMsg{list, err}
	})
}

func (s *projectScreen) setProjects(list []adminapi.Project) {
	s.loaded = true
	var cs []choice
	for _, p := range list {
		if s.side == sideOther && p.ID == s.d.project.ID {
			continue
		}
		cs = append(cs, choice{ID: p.ID, Label: p.Name})
	}
	s.pick.SetChoices(cs)
	// The project this node usually works in comes first under the cursor
	// (in the demo: Acme's Company, Globex's Test).
	switch {
	case s.side == sideThis:
		s.pick.SelectLabel(s.c.project)
	case s.side == sideDest && s.d.to == s.c.suggest:
		s.pick.SelectLabel(s.c.suggestProject)
	}
}

func (s *projectScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case projectsMsg:
		s.err = msg.err
		if msg.err == nil {
			s.setProjects(msg.list)
		} else {
			s.loaded = true
		}
		return s, nil
	case spinner.TickMsg:
		return s, spinWhile(!s.loaded, &s.spin, msg)
	case tea.KeyMsg:
		if key.Matches(msg, s.c.keys.Select) {
			ch, ok := s.pick.Pick()
			if !ok {
				return s, nil
			}
			return s, s.picked(adminapi.Project{ID: ch.ID, Name: ch.Label})
		}
		return s, s.pick.Update(msg)
	}
	return s, nil
}

// picked moves the wizard on: the next question depends on the path.
func (s *projectScreen) picked(p adminapi.Project) tea.Cmd {
	d := s.d
	switch s.side {
	case sideThis:
		d.project = p
		switch {
		case d.local:
			return push(newProjectScreen(s.c, d, sideOther))
		case d.to == "":
			return push(newInvitationScreen(s.c, d))
		}
		return push(newAccessScreen(s.c, d))
	default:
		d.destProject = p
		return push(newConfirmScreen(s.c, d))
	}
}

func (s *projectScreen) View() string {
	st := s.c.styles
	var b strings.Builder
	switch s.side {
	case sideThis:
		b.WriteString(st.Subtitle.Render("Select a project on this side for incoming sync") + "\n")
		b.WriteString(st.Faint.Render(fmt.Sprintf("Items %s sends are created in this project of %s.", s.otherName(), s.c.self.Name)) + "\n\n")
	case sideOther:
		b.WriteString(st.Subtitle.Render("Select the other project of this local connection") + "\n")
		b.WriteString(st.Faint.Render(fmt.Sprintf("Items of %s are synced with this project, on this node too.", s.d.project.Name)) + "\n\n")
	case sideDest:
		b.WriteString(st.Subtitle.Render("Select a project for the incoming sync") + "\n")
		b.WriteString(st.Faint.Render(fmt.Sprintf("On %s: items %s sends are created in this project.", s.d.dest.Name, s.c.self.Name)) + "\n\n")
	}
	if note := basicNote(s.d.mode, s.width); note != "" {
		b.WriteString(st.Faint.Render(note) + "\n\n")
	}
	switch {
	case s.err != nil:
		b.WriteString(s.c.errorLine(fmt.Errorf("listing the projects: %w", s.err)) + "\n")
		b.WriteString(st.Faint.Render("Press esc to go back and try again."))
	case !s.loaded:
		b.WriteString(s.spin.View() + " Loading projects…")
	default:
		b.WriteString(s.pick.View())
	}
	return b.String()
}

func (s *projectScreen) otherName() string {
	if s.d.dest.Name != "" && !s.d.local {
		return s.d.dest.Name
	}
	return "the other side"
}

func (s *projectScreen) ShortHelp() []key.Binding {
	return []key.Binding{s.c.keys.Up, s.c.keys.Down, s.c.keys.Select}
}
func (s *projectScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
