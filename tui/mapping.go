package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// mappingScreen is "+ Add mapping": a small form (this side's field, the
// direction, the other side's field, an optional value map) whose
// Starlark, shown as it is filled in, is added to the end of the draft's
// outgoing or incoming function and saved. An admin who has never written
// Starlark maps status or priority this way. As in huh, the form does not
// move on from a field that is not valid.
type mappingScreen struct {
	c    *common
	conn adminapi.Connection

	focus    mappingField
	here     int // this side's field, in mappingFields
	there    int
	incoming bool
	values   textinput.Model
	fieldErr error

	busy  bool
	err   error
	saved *adminapi.Scripts
	file  string
	spin  spinner.Model
	width int
}

// mappingField is a field of the form.
type mappingField int

const (
	fieldHere mappingField = iota
	fieldDirection
	fieldThere
	fieldValues
	fieldCount
)

type mappingSavedMsg struct {
	sc  adminapi.Scripts
	err error
}

func newMappingScreen(c *common, conn adminapi.Connection) *mappingScreen {
	ti := c.textInput("optional: true=Done, false=To Do", 1024)
	ti.Blur()
	return &mappingScreen{c: c, conn: conn, values: ti, spin: newSpinner(c), width: 78}
}

func (s *mappingScreen) Title() string { return "Add mapping" }

func (s *mappingScreen) SetSize(w, _ int) {
	s.width = w
	s.values.Width = max(w-26, 10)
}

// capturing keeps q and ? for the value map while it is typed.
func (s *mappingScreen) capturing() bool { return s.focus == fieldValues && s.saved == nil }

func (s *mappingScreen) Init() tea.Cmd { return nil }

// mapping is what the form says, with the value map read.
func (s *mappingScreen) mapping() (mapping, error) {
	fs := mappingFields()
	m := mapping{here: fs[s.here], there: fs[s.there], incoming: s.incoming}
	err := parseValueMap(&m, s.values.Value())
	return m, err
}

func (s *mappingScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case mappingSavedMsg:
		s.busy, s.err = false, msg.err
		if msg.err == nil {
			sc := msg.sc
			s.saved = &sc
		}
		return s, nil
	case spinner.TickMsg:
		return s, spinWhile(s.busy, &s.spin, msg)
	case tea.KeyMsg:
		return s.key(msg)
	}
	if s.focus == fieldValues {
		var cmd tea.Cmd
		s.values, cmd = s.values.Update(msg)
		return s, cmd
	}
	return s, nil
}

func (s *mappingScreen) key(msg tea.KeyMsg) (screen, tea.Cmd) {
	k := s.c.keys
	switch {
	case s.busy:
		return s, nil
	case s.saved != nil:
		if key.Matches(msg, k.Done) {
			return s, back
		}
		return s, nil
	case key.Matches(msg, k.SaveForm):
		return s, s.save()
	case key.Matches(msg, k.PrevField):
		s.move(s.focus - 1)
		return s, nil
	case key.Matches(msg, k.NextField):
		if s.focus == fieldValues {
			// The last field: enter adds the mapping, if it is valid.
			return s, s.save()
		}
		s.move(s.focus + 1)
		return s, nil
	case s.focus != fieldValues && key.Matches(msg, k.Option):
		step := 1
		if msg.String() == "left" {
			step = -1
		}
		n := len(mappingFields())
		switch s.focus {
		case fieldHere:
			s.here = (s.here + step + n) % n
		case fieldThere:
			s.there = (s.there + step + n) % n
		case fieldDirection:
			s.incoming = !s.incoming
		}
		s.fieldErr = nil
		return s, nil
	case s.focus == fieldValues:
		var cmd tea.Cmd
		s.values, cmd = s.values.Update(msg)
		s.fieldErr, s.err = nil, nil
		return s, cmd
	}
	return s, nil
}

// move puts the focus on field f; leaving the value map needs it valid.
func (s *mappingScreen) move(f mappingField) {
	if f < 0 || f >= fieldCount {
		return
	}
	if s.focus == fieldValues && f != fieldValues {
		if _, err := s.mapping(); err != nil {
			s.fieldErr = err
			return
		}
	}
	s.focus = f
	if f == fieldValues {
		s.values.Focus()
	} else {
		s.values.Blur()
	}
}

// save adds the mapping to the draft, read afresh, and saves it.
func (s *mappingScreen) save() tea.Cmd {
	m, err := s.mapping()
	if err != nil {
		s.fieldErr = err
		s.move(fieldValues)
		return nil
	}
	fn, file := m.function()
	s.busy, s.err, s.file = true, nil, file
	node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		sc, err := node.Scripts(ctx, id)
		if err != nil {
			return mappingSavedMsg{err: fmt.Errorf("reading the draft: %w", err)}
		}
		out, in := sc.DraftOutgoing, sc.DraftIncoming
		if m.incoming {
			in, err = appendToFunction(in, fn, m.code())
		} else {
			out, err = appendToFunction(out, fn, m.code())
		}
		if err != nil {
			return mappingSavedMsg{err: err}
		}
		saved, err := node.SaveDraft(ctx, id, adminapi.DraftRequest{Outgoing: out, Incoming: in})
		if err != nil {
			return mappingSavedMsg{err: fmt.Errorf("saving the draft: %w", err)}
		}
		return mappingSavedMsg{sc: saved}
	})
}

func (s *mappingScreen) View() string {
	st := s.c.styles
	var b strings.Builder
	b.WriteString(ansi.Truncate("Add a mapping to the draft of "+s.conn.Name, s.width, "…") + "\n\n")
	fs := mappingFields()
	dir := "this side → other side (the outgoing script)"
	if s.incoming {
		dir = "other side → this side (the incoming script)"
	}
	row := func(f mappingField, label, value string) {
		l := "  " + pad(label, 20)
		if f == s.focus && s.saved == nil {
			l = st.Selected.Render("› " + pad(label, 20))
			if f != fieldValues {
				value = st.Selected.Render("‹ " + value + " ›")
			}
		} else if f != fieldValues {
			value = "  " + value
		}
		b.WriteString(l + value + "\n")
	}
	row(fieldHere, "This side's field", fs[s.here])
	row(fieldDirection, "Direction", dir)
	row(fieldThere, "Other side's field", fs[s.there])
	row(fieldValues, "Value map", s.values.View())
	b.WriteString(st.Faint.Render(pad("", 22)+"from=to pairs, commas between; *=value for the rest") + "\n")
	if s.fieldErr != nil {
		b.WriteString(s.c.errorLine(s.fieldErr) + "\n")
	}
	if m, err := s.mapping(); err == nil {
		_, file := m.function()
		b.WriteString("\n" + st.Faint.Render("It adds to the end of "+file+"'s "+strings.TrimSuffix(file, ".star")+" function:") + "\n")
		h := highlighter{st: st}
		for _, l := range m.code() {
			b.WriteString(ansi.Truncate("    "+h.line(l), s.width, "…") + "\n")
		}
	}
	switch {
	case s.saved != nil:
		msg := "✓ Added to the draft's " + s.file + ". t tests it, p publishes it (on the Rules tab)."
		style := st.OK
		if n := len(s.saved.DraftErrors); n > 0 {
			msg, style = fmt.Sprintf("Added to the draft's %s, which has %d %s to fix (e on the Rules tab).", s.file, n, plural(n, "error", "errors")), st.Warn
		}
		b.WriteString("\n" + style.Render(ansiWrap(msg, s.width)))
	case s.busy:
		b.WriteString("\n" + s.spin.View() + " Adding it to the draft…")
	case s.err != nil:
		b.WriteString("\n" + s.c.errorLine(s.err))
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *mappingScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	switch {
	case s.saved != nil:
		return []key.Binding{k.Done}
	case s.focus == fieldValues:
		return []key.Binding{k.MappingGo, k.PrevField}
	}
	return []key.Binding{k.Option, k.NextField, k.PrevField, k.SaveForm}
}

func (s *mappingScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Option, k.NextField, k.PrevField}, {k.SaveForm}}
}
