package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// choice is one line of a picker.
type choice struct {
	ID    string
	Label string
	// Note is shown faint after the label.
	Note string
}

// picker is a filterable list: typing narrows it, ↑/↓ move, enter picks.
type picker struct {
	c        *common
	filter   textinput.Model
	all      []choice
	shown    []choice
	cursor   int
	height   int
	noFilter bool
	// missed is set when enter found nothing to pick, so the view says why
	// instead of doing nothing; typing clears it.
	missed bool
}

func newPicker(c *common, placeholder string) picker {
	ti := c.textInput(placeholder, 256)
	ti.Prompt = "Filter: "
	ti.PromptStyle = c.styles.Faint
	return picker{c: c, filter: ti, height: 8}
}

// SetChoices replaces the list, keeping the filter.
func (p *picker) SetChoices(cs []choice) {
	p.all = cs
	p.apply()
}

func (p *picker) apply() {
	f := strings.ToLower(strings.TrimSpace(p.filter.Value()))
	p.shown = p.shown[:0]
	for _, c := range p.all {
		if f == "" || strings.Contains(strings.ToLower(c.Label), f) || strings.Contains(strings.ToLower(c.Note), f) {
			p.shown = append(p.shown, c)
		}
	}
	p.cursor = min(p.cursor, max(len(p.shown)-1, 0))
}

// Selected is the choice under the cursor.
func (p *picker) Selected() (choice, bool) {
	if len(p.shown) == 0 {
		return choice{}, false
	}
	return p.shown[p.cursor], true
}

// Pick is the choice under the cursor for enter; when there is none, the
// picker says so on its next view.
func (p *picker) Pick() (choice, bool) {
	ch, ok := p.Selected()
	p.missed = !ok
	return ch, ok
}

// SelectLabel moves the cursor to the choice with this label
// (case-insensitively), if shown.
func (p *picker) SelectLabel(label string) {
	for i, c := range p.shown {
		if label != "" && strings.EqualFold(c.Label, label) {
			p.cursor = i
		}
	}
}

// Update handles movement and typing; enter is left to the screen.
func (p *picker) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, p.c.keys.Up):
			p.cursor = max(p.cursor-1, 0)
			return nil
		case key.Matches(k, p.c.keys.Down):
			p.cursor = min(p.cursor+1, max(len(p.shown)-1, 0))
			return nil
		}
	}
	if p.noFilter {
		return nil
	}
	var cmd tea.Cmd
	p.filter, cmd = p.filter.Update(msg)
	p.missed = false
	p.apply()
	return cmd
}

// View shows the filter and a window of the list around the cursor.
func (p *picker) View() string {
	var b strings.Builder
	if !p.noFilter {
		b.WriteString(p.filter.View())
		b.WriteString("\n")
	}
	if len(p.shown) == 0 {
		switch {
		case len(p.all) == 0:
			b.WriteString(p.c.styles.Faint.Render("  (none)"))
		case p.missed:
			b.WriteString(p.c.errorLine(fmt.Errorf("no project matches %q: change the filter (backspace) to see the list", strings.TrimSpace(p.filter.Value()))))
		default:
			b.WriteString(p.c.styles.Faint.Render("  nothing matches the filter"))
		}
		return b.String()
	}
	h := max(p.height, 1)
	start := 0
	if p.cursor >= h {
		start = p.cursor - h + 1
	}
	end := min(start+h, len(p.shown))
	for i := start; i < end; i++ {
		c := p.shown[i]
		line := "  " + c.Label
		if i == p.cursor {
			line = p.c.styles.Selected.Render("› " + c.Label)
		}
		if c.Note != "" {
			line += p.c.styles.Faint.Render("  " + c.Note)
		}
		b.WriteString(line)
		if i < end-1 {
			b.WriteString("\n")
		}
	}
	if len(p.shown) > h {
		b.WriteString("\n" + p.c.styles.Faint.Render(strings.Repeat(" ", 2)+itoa(p.cursor+1)+"/"+itoa(len(p.shown))))
	}
	return b.String()
}
