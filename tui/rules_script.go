package tui

import (
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// scriptPane is the Rules tab of a connection in Script mode: this side's
// draft scripts, numbered and coloured, in a viewport under a line saying
// which version is in force and how the draft stands, with its compile
// errors by line. e edits the draft in $EDITOR, x exports the scripts;
// t, p, c and + open their own screens (testrun.go, publish.go,
// compare.go, mapping.go).
type scriptPane struct {
	c    *common
	conn adminapi.Connection

	sc  *adminapi.Scripts
	err error
	// mark is a line to show (an error's, from the Errors screen or the
	// sync status), until the scripts are read again.
	mark *scriptLoc
	// rows are the viewport's rows of each script's first line, to
	// scroll to a line.
	rows map[string]int

	vp      viewport.Model
	width   int
	height  int
	busy    string
	done    string
	failure error
}

type (
	// scriptsMsg is the scripts as read, saved or upgraded; done says
	// what was done, for the status line.
	scriptsMsg struct {
		sc   adminapi.Scripts
		err  error
		done string
	}
	// editedMsg comes when the editor exits, with the files it had and
	// what was in them before.
	editedMsg struct {
		dir     string
		out, in string
		err     error
	}
	scriptsExportedMsg struct {
		dir string
		err error
	}
)

func newScriptPane(c *common, conn adminapi.Connection) *scriptPane {
	return &scriptPane{c: c, conn: conn, vp: viewport.New(78, 8), width: 78, height: 14}
}

// at shows loc once the scripts are read.
func (p *scriptPane) at(loc scriptLoc) *scriptPane {
	p.mark = &loc
	return p
}

// load reads the scripts.
func (p *scriptPane) load() tea.Cmd {
	node, ctx, id := p.c.node, p.c.ctx, p.conn.ID
	return func() tea.Msg {
		sc, err := node.Scripts(ctx, id)
		return scriptsMsg{sc: sc, err: err}
	}
}

// loading says the first read is still out.
func (p *scriptPane) loading() bool { return p.sc == nil && p.err == nil }

// setSize fits the pane into w×h, the tab's room.
func (p *scriptPane) setSize(w, h int) {
	if w != p.width || h != p.height {
		p.width, p.height = w, h
		p.layout()
	}
}

func (p *scriptPane) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case scriptsMsg:
		p.busy = ""
		if msg.err != nil {
			if p.sc == nil {
				p.err = msg.err
			} else {
				p.failure = msg.err
			}
			return nil
		}
		sc := msg.sc
		p.sc, p.err, p.done = &sc, nil, msg.done
		p.layout()
	case editedMsg:
		return p.edited(msg)
	case scriptsExportedMsg:
		p.busy, p.failure = "", msg.err
		if msg.err == nil {
			p.done = "✓ Exported to " + msg.dir
		}
	}
	return nil
}

// key handles the tab's own keys; handled is false for the page's.
func (p *scriptPane) key(msg tea.KeyMsg) (cmd tea.Cmd, handled bool) {
	k := p.c.keys
	switch {
	case scroll(&p.vp, k, msg):
	case p.busy != "" || p.sc == nil:
		// The keys below wait for the scripts, and for the last change.
		return nil, key.Matches(msg, k.EditDraft, k.TestRun, k.Publish, k.Compare, k.AddMapping, k.Export)
	case key.Matches(msg, k.EditDraft):
		return p.edit(), true
	case key.Matches(msg, k.Export):
		return p.export(), true
	case key.Matches(msg, k.TestRun):
		return push(newTestRunScreen(p.c, p.conn)), true
	case key.Matches(msg, k.Publish):
		return push(newPublishScreen(p.c, p.conn)), true
	case key.Matches(msg, k.Compare):
		return push(newCompareScreen(p.c, p.conn, p.sc.Published, adminapi.DraftVersion)), true
	case key.Matches(msg, k.AddMapping):
		return push(newMappingScreen(p.c, p.conn)), true
	default:
		return nil, false
	}
	return nil, true
}

// scroll moves a viewport on ↑/↓ and page up/down; false for other keys.
func scroll(vp *viewport.Model, k *keyMap, msg tea.KeyMsg) bool {
	switch {
	case key.Matches(msg, k.Up):
		vp.LineUp(1)
	case key.Matches(msg, k.Down):
		vp.LineDown(1)
	case key.Matches(msg, k.PageUp):
		vp.PageUp()
	case key.Matches(msg, k.PageDown):
		vp.PageDown()
	default:
		return false
	}
	return true
}

// runProcessMsg asks the router to run a program on the terminal (the
// editor), the console paused meanwhile; done's message comes back to the
// session that asked.
type runProcessMsg struct {
	cmd  *osexec.Cmd
	done func(error) tea.Msg
}

// editor is the command line of the user's editor: $EDITOR, then $VISUAL,
// then vi.
func editor() []string {
	for _, v := range []string{"EDITOR", "VISUAL"} {
		if f := strings.Fields(os.Getenv(v)); len(f) > 0 {
			return f
		}
	}
	return []string{"vi"}
}

// edit writes the draft's two scripts to a new directory and opens them
// in the editor; edited reads them back.
func (p *scriptPane) edit() tea.Cmd {
	p.busy, p.done, p.failure = "Editing the draft in "+editor()[0], "", nil
	out, in := p.sc.DraftOutgoing, p.sc.DraftIncoming
	return func() tea.Msg {
		dir, err := os.MkdirTemp("", "tandem-rules-")
		if err != nil {
			return editedMsg{err: fmt.Errorf("making a directory for the editor: %w", err)}
		}
		files := []string{filepath.Join(dir, outgoingFile), filepath.Join(dir, incomingFile)}
		for i, src := range []string{out, in} {
			if err := os.WriteFile(files[i], []byte(src), 0o600); err != nil {
				os.RemoveAll(dir)
				return editedMsg{err: fmt.Errorf("writing the draft for the editor: %w", err)}
			}
		}
		args := editor()
		cmd := osexec.Command(args[0], append(args[1:], files...)...)
		return runProcessMsg{cmd: cmd, done: func(err error) tea.Msg { return editedMsg{dir: dir, out: out, in: in, err: err} }}
	}
}

// edited saves what the editor left as the draft, unless it is what was
// there; the draft's errors come back with it.
func (p *scriptPane) edited(msg editedMsg) tea.Cmd {
	if msg.dir == "" {
		p.busy, p.failure = "", msg.err
		return nil
	}
	p.busy = "Saving the draft"
	node, ctx, id, cur := p.c.node, p.c.ctx, p.conn.ID, *p.sc
	return func() tea.Msg {
		defer os.RemoveAll(msg.dir)
		if msg.err != nil {
			return scriptsMsg{sc: cur, done: "", err: fmt.Errorf("the editor (%s) failed: %w; the draft is unchanged", editor()[0], msg.err)}
		}
		read := func(name string) (string, error) {
			b, err := os.ReadFile(filepath.Join(msg.dir, name))
			if errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("the editor removed %s; the draft is unchanged", name)
			}
			return string(b), err
		}
		out, err := read(outgoingFile)
		if err != nil {
			return scriptsMsg{err: err}
		}
		in, err := read(incomingFile)
		if err != nil {
			return scriptsMsg{err: err}
		}
		if out == msg.out && in == msg.in {
			return scriptsMsg{sc: cur, done: "No change: the draft is as it was."}
		}
		sc, err := node.SaveDraft(ctx, id, adminapi.DraftRequest{Outgoing: out, Incoming: in})
		if err != nil {
			return scriptsMsg{err: fmt.Errorf("saving the draft: %w", err)}
		}
		return scriptsMsg{sc: sc, done: draftSaved(sc)}
	}
}

// draftSaved says how a saved draft stands.
func draftSaved(sc adminapi.Scripts) string {
	switch n := len(sc.DraftErrors); {
	case n > 0:
		return fmt.Sprintf("Draft saved, with %d %s to fix before it can be published.", n, plural(n, "error", "errors"))
	case sc.DraftDiffers:
		return "✓ Draft saved. t tests it, p publishes it."
	}
	return "✓ Draft saved: it is the version in force again."
}

// export writes the version in force as outgoing.star and incoming.star,
// and a draft that differs under draft/, into a directory next to the
// invitation codes, read afresh from the node.
func (p *scriptPane) export() tea.Cmd {
	p.busy, p.done, p.failure = "Exporting the scripts", "", nil
	dir := p.c.codeDir
	if dir == "" {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "rules-"+fileName(p.conn.Name))
	node, ctx, id := p.c.node, p.c.ctx, p.conn.ID
	return func() tea.Msg {
		sc, err := node.Scripts(ctx, id)
		if err != nil {
			return scriptsExportedMsg{err: fmt.Errorf("reading the scripts to export: %w", err)}
		}
		write := func(d, out, in string) error {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(d, outgoingFile), []byte(out), 0o644); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(d, incomingFile), []byte(in), 0o644)
		}
		err = write(dir, sc.Outgoing, sc.Incoming)
		if err == nil && sc.DraftDiffers {
			err = write(filepath.Join(dir, "draft"), sc.DraftOutgoing, sc.DraftIncoming)
		}
		if err != nil {
			return scriptsExportedMsg{err: fmt.Errorf("exporting the scripts to %s: %w", dir, err)}
		}
		return scriptsExportedMsg{dir: dir}
	}
}

// errorLines are the draft's errors as the pane lists them: at most two,
// then how many more.
func (p *scriptPane) errorLines() []string {
	if p.sc == nil {
		return nil
	}
	errs := p.sc.DraftErrors
	var out []string
	for i, e := range errs {
		if i == 2 {
			out = append(out, p.c.styles.Error.Render(fmt.Sprintf("  … and %d more (e opens the draft)", len(errs)-2)))
			break
		}
		text := e
		if loc, ok := findScriptLoc(e); ok {
			text = loc.String() + "  " + loc.Msg
		}
		out = append(out, p.c.styles.Error.Render(ansi.Truncate("✗ "+text, p.width, "…")))
	}
	return out
}

// layout sizes the viewport to what the header, the errors and the
// status line leave, and fills it.
func (p *scriptPane) layout() {
	h := p.height - 1 - len(p.errorLines()) - 1
	p.vp.Width, p.vp.Height = p.width, max(h, 3)
	if p.sc == nil {
		return
	}
	lines, rows := p.scriptLines()
	p.rows = rows
	p.vp.SetContent(strings.Join(lines, "\n"))
	if p.mark != nil {
		if row, ok := rows[p.mark.File]; ok {
			p.vp.SetYOffset(row + max(p.mark.Line-1, 0) - p.vp.Height/3)
		}
	}
}

// scriptLines are the two scripts of the draft, each under its name, with
// line numbers; a line an error names is marked ✗, the line asked for ›.
func (p *scriptPane) scriptLines() (lines []string, rows map[string]int) {
	st := p.c.styles
	sc := p.sc
	which := "draft"
	if !sc.DraftDiffers {
		which = "version " + itoa(sc.Published)
	}
	bad := map[string]map[int]bool{}
	for _, e := range sc.DraftErrors {
		if loc, ok := findScriptLoc(e); ok && loc.Line > 0 {
			if bad[loc.File] == nil {
				bad[loc.File] = map[int]bool{}
			}
			bad[loc.File][loc.Line] = true
		}
	}
	rows = map[string]int{}
	for _, s := range []struct{ name, src string }{{outgoingFile, sc.DraftOutgoing}, {incomingFile, sc.DraftIncoming}} {
		title := "── " + s.name + " · " + which + " "
		lines = append(lines, st.Header.Render(title+strings.Repeat("─", max(p.width-ansi.StringWidth(title), 0))))
		rows[s.name] = len(lines)
		src := strings.Split(strings.TrimRight(s.src, "\n"), "\n")
		w := max(len(itoa(len(src))), 3)
		h := highlighter{st: st}
		for i, l := range src {
			n := i + 1
			gutter := st.LineNo.Render(fmt.Sprintf(" %*d ", w, n))
			switch {
			case p.mark != nil && p.mark.File == s.name && p.mark.Line == n:
				gutter = st.Selected.Render(fmt.Sprintf("›%*d ", w, n))
			case bad[s.name][n]:
				gutter = st.Error.Render(fmt.Sprintf("✗%*d ", w, n))
			}
			lines = append(lines, ansi.Truncate(gutter+" "+h.line(expandTabs(l)), p.width, "…"))
		}
	}
	return lines, rows
}

// header says which version is in force and how the draft stands.
func (p *scriptPane) header() string {
	st := p.c.styles
	sc := p.sc
	head := st.Subtitle.Render("Script mode") + st.Faint.Render(" · ") + "version " + itoa(sc.Published) + " in force" + st.Faint.Render(" · ")
	switch n := len(sc.DraftErrors); {
	case n > 0:
		head += st.Error.Render(fmt.Sprintf("the draft has %d %s", n, plural(n, "error", "errors")))
	case sc.DraftDiffers:
		head += st.Warn.Render("the draft differs") + st.Faint.Render(" (c compares, p publishes)")
	default:
		head += st.Faint.Render("the draft is the same")
	}
	return ansi.Truncate(head, p.width, "…")
}

// view draws the pane; spin is the page's spinner.
func (p *scriptPane) view(spin string) string {
	st := p.c.styles
	switch {
	case p.err != nil:
		return p.c.errorLine(fmt.Errorf("reading the scripts: %w", p.err)) + "\n" + st.Faint.Render("Press r to try again.")
	case p.sc == nil:
		return spin + " Loading the scripts…"
	}
	parts := []string{p.header(), p.vp.View()}
	parts = append(parts, p.errorLines()...)
	switch {
	case p.busy != "":
		parts = append(parts, spin+" "+p.busy+"…")
	case p.failure != nil:
		parts = append(parts, p.c.errorLine(p.failure))
	case p.done != "":
		style := st.OK
		if strings.HasPrefix(p.done, "Draft saved, with") {
			style = st.Warn
		}
		parts = append(parts, style.Render(ansi.Truncate(p.done, p.width, "…")))
	}
	return strings.Join(parts, "\n")
}

// keys are the tab's keys, for the help line.
func (p *scriptPane) keys() []key.Binding {
	k := p.c.keys
	return []key.Binding{k.EditDraft, k.TestRun, k.Publish, k.Compare, k.AddMapping, k.Export, k.Scroll}
}
