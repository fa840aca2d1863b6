package tui

import (
	"errors"
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// connectionScreen is one connection's page: its tabs (Scope, Rules,
// Statistics, Info) above its latest syncs, which follow the node's stage
// events live. Deactivating, activating and deleting ask first.
type connectionScreen struct {
	c    *common
	conn adminapi.Connection
	tab  connTab

	connErr error
	// rules are the connection's rules rows; nil until the first read
	// succeeds.
	rules    []adminapi.Rule
	rulesErr error
	// stats is nil until the first read succeeds.
	stats     *adminapi.ConnectionStats
	statsErr  error
	events    []adminapi.StageEvent
	eventsOK  bool
	eventsErr error
	recentSel int // the recent sync picked for its history (connection_history.go)
	// refreshing is true while a Stats+RecentEvents read is out; stale
	// says events arrived meanwhile, so it runs once more when it returns.
	refreshing bool
	stale      bool

	confirm confirmKind
	// busy says what is being done (SetActive, SetTrigger, Delete), "" when
	// nothing is.
	busy      string
	actionErr error

	bulk *bulkRun
	// bulkCount is how many items a Bulk Exalate would sync, read when b
	// asks; -1 when they could not be counted.
	bulkCount int

	exported  string
	exportErr error
	// script is the Rules tab of a Script mode connection; nil until the
	// connection is known to be one.
	script *scriptPane

	spin   spinner.Model
	width  int
	height int
}

// connTab is one tab of the connection page.
type connTab int

const (
	tabScope connTab = iota
	tabRules
	tabStats
	tabInfo
	tabCount
)

// String names a tab in the tab bar.
func (t connTab) String() string {
	switch t {
	case tabScope:
		return "Scope"
	case tabRules:
		return "Rules"
	case tabStats:
		return "Statistics"
	case tabInfo:
		return "Info"
	}
	return ""
}

// confirmKind is the question the page is asking, if any.
type confirmKind int

const (
	confirmNone confirmKind = iota
	confirmDeactivate
	confirmActivate
	confirmDelete
	// confirmBulk asks before a Bulk Exalate, with the number of items
	// it would sync.
	confirmBulk
	// confirmUpgrade asks before upgrading to Script mode.
	confirmUpgrade
	// confirmRenew asks before showing a Pending connection's code
	// again: the new code revokes the old one.
	confirmRenew
)

// recentLimit is how many recent syncs the page reads; the height decides
// how many of them show.
const recentLimit = 5

type (
	connLoadedMsg struct {
		conn adminapi.Connection
		err  error
	}
	connRulesMsg struct {
		rules []adminapi.Rule
		err   error
	}
	connRefreshMsg struct {
		stats     adminapi.ConnectionStats
		statsErr  error
		events    []adminapi.StageEvent
		eventsErr error
	}
	// connUpdatedMsg is the connection as SetActive or SetTrigger left it.
	connUpdatedMsg struct {
		conn adminapi.Connection
		err  error
	}
	connDeletedMsg   struct{ err error }
	rulesExportedMsg struct {
		path string
		err  error
	}
)

// newConnectionScreen opens conn's page; Init reads it afresh.
func newConnectionScreen(c *common, conn adminapi.Connection) *connectionScreen {
	s := &connectionScreen{c: c, conn: conn, spin: newSpinner(c), width: 78, height: 17}
	if s.scripted() {
		s.script = newScriptPane(c, conn)
	}
	return s
}

// atScript opens the page on its Rules tab with the scripts at loc (an
// error's line).
func (s *connectionScreen) atScript(loc scriptLoc) *connectionScreen {
	s.tab = tabRules
	if s.script == nil {
		s.script = newScriptPane(s.c, s.conn)
	}
	s.script.at(loc)
	return s
}

func (s *connectionScreen) Title() string { return "Connection" }

func (s *connectionScreen) SetSize(w, h int) { s.width, s.height = w, h }

// handlesEsc keeps esc for closing a question rather than leaving the page.
func (s *connectionScreen) handlesEsc() bool { return s.confirm != confirmNone }

func (s *connectionScreen) Init() tea.Cmd {
	return tea.Batch(s.load(), s.refresh(), s.spin.Tick)
}

// load reads the connection afresh, with its rules: its status may have
// changed since the list was read, and the rules are the node's to say
// (they depend on the connection's mode).
func (s *connectionScreen) load() tea.Cmd {
	node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
	var scripts tea.Cmd
	if s.script != nil {
		scripts = s.script.load()
	}
	return tea.Batch(scripts, func() tea.Msg {
		conn, err := node.Connection(ctx, id)
		return connLoadedMsg{conn, err}
	}, func() tea.Msg {
		rules, err := node.Rules(ctx, id)
		return connRulesMsg{rules, err}
	})
}

// refresh reads the statistics and the recent syncs, one read at a time.
func (s *connectionScreen) refresh() tea.Cmd {
	if s.refreshing {
		s.stale = true
		return nil
	}
	s.refreshing = true
	node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
	return func() tea.Msg {
		var m connRefreshMsg
		m.stats, m.statsErr = node.Stats(ctx, id)
		m.events, m.eventsErr = node.RecentEvents(ctx, id, recentLimit)
		return m
	}
}

func (s *connectionScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case connLoadedMsg:
		s.connErr = msg.err
		if msg.err == nil {
			s.conn = msg.conn
			return s, s.ensureScripts()
		}
		return s, nil
	case scriptsMsg, editedMsg, scriptsExportedMsg:
		if s.script == nil {
			return s, nil
		}
		return s, s.script.update(msg)
	case upgradedMsg:
		return s, s.upgraded(msg)
	case connRulesMsg:
		s.rulesErr = msg.err
		if msg.err == nil {
			s.rules = msg.rules
			if s.rules == nil {
				s.rules = []adminapi.Rule{}
			}
		}
		return s, nil
	case connRefreshMsg:
		s.refreshing = false
		s.statsErr, s.eventsErr = msg.statsErr, msg.eventsErr
		if msg.statsErr == nil {
			st := msg.stats
			s.stats = &st
		}
		if msg.eventsErr == nil {
			s.events, s.eventsOK = msg.events, true
		}
		if s.stale {
			s.stale = false
			return s, s.refresh()
		}
		return s, nil
	case stageMsg:
		// A progress report changes no count: nothing to read again.
		if msg.ev.ConnectionID != s.conn.ID || msg.ev.Progress != nil {
			return s, nil
		}
		if s.bulk != nil {
			s.bulk.note(msg.ev)
		}
		return s, s.refresh()
	case revealMsg:
		// What the reads returned while another page was on top went to
		// that page: they are done, and are read again.
		s.refreshing, s.stale = false, false
		cmds := []tea.Cmd{s.load(), s.refresh()}
		if s.bulk != nil && !s.bulk.finished() && !s.bulk.starting {
			// The poll chain broke too: a new one replaces it.
			s.bulk.gen++
			s.bulk.polling = false
			cmds = append(cmds, s.poll())
		}
		return s, tea.Batch(cmds...)
	case connUpdatedMsg:
		s.busy, s.actionErr = "", msg.err
		if msg.err == nil {
			s.conn = msg.conn
			return s, s.refresh()
		}
		return s, nil
	case connDeletedMsg:
		s.busy, s.actionErr = "", msg.err
		if msg.err != nil {
			return s, nil
		}
		return s, home
	case bulkCountMsg:
		s.busy, s.bulkCount = "", msg.n
		s.confirm = confirmBulk
		return s, nil
	case bulkStartedMsg, bulkPollMsg, bulkStatusMsg:
		return s, s.updateBulk(msg)
	case rulesExportedMsg:
		s.exported, s.exportErr = msg.path, msg.err
		return s, nil
	case spinner.TickMsg:
		return s, spinWhile(s.spinning(), &s.spin, msg)
	case tea.KeyMsg:
		return s.key(msg)
	}
	return s, nil
}

// spinning says whether anything the page shows is still on its way.
func (s *connectionScreen) spinning() bool {
	return s.busy != "" || (s.script != nil && (s.script.loading() || s.script.busy != "")) || (s.rules == nil && s.rulesErr == nil) || (s.stats == nil && s.statsErr == nil) || (!s.eventsOK && s.eventsErr == nil) ||
		(s.bulk != nil && s.bulk.starting)
}

func (s *connectionScreen) key(msg tea.KeyMsg) (screen, tea.Cmd) {
	k := s.c.keys
	if s.confirm != confirmNone {
		switch {
		case key.Matches(msg, k.Confirm):
			return s, s.act()
		case key.Matches(msg, k.Cancel):
			s.confirm = confirmNone
		}
		return s, nil
	}
	if s.tab == tabRules && !s.pending() {
		if cmd, handled := s.rulesKey(msg); handled {
			return s, cmd
		}
	}
	switch {
	case key.Matches(msg, k.Left):
		s.tab = (s.tab + tabCount - 1) % tabCount
	case key.Matches(msg, k.Right):
		s.tab = (s.tab + 1) % tabCount
	case key.Matches(msg, k.Refresh):
		return s, tea.Batch(s.load(), s.refresh())
	case key.Matches(msg, k.Up, k.Down):
		s.pickRecent(msg)
	case key.Matches(msg, k.History) || (s.recentSel > 0 && key.Matches(msg, k.OpenSync)):
		return s, s.openHistory()
	case key.Matches(msg, k.Errors):
		conn := s.conn
		return s, push(newErrorsScreen(s.c, &conn))
	case key.Matches(msg, k.Queue):
		conn := s.conn
		return s, push(newQueueScreen(s.c, &conn))
	case key.Matches(msg, k.OpenSync):
		// Not while a change or a Bulk Exalate is starting: its answer
		// would go to the page on top and be lost.
		if len(s.events) > 0 && s.busy == "" && (s.bulk == nil || !s.bulk.starting) {
			return s, push(newSyncScreen(s.c, s.conn, s.events[0]))
		}
	case s.busy != "":
		// One change at a time: the keys below wait for the last one.
	case s.invited() && key.Matches(msg, k.NewCode):
		s.actionErr = nil
		s.confirm = confirmRenew
	case key.Matches(msg, k.Deactivate):
		s.actionErr = nil
		switch s.conn.Status {
		case adminapi.StatusActive:
			s.confirm = confirmDeactivate
		case adminapi.StatusDeactivated, adminapi.StatusError:
			s.confirm = confirmActivate
		default:
			s.actionErr = errors.New("this connection is waiting for its invitation to be accepted; it can be deactivated once it is active")
		}
	case (s.tab != tabRules || s.pending()) && key.Matches(msg, k.Delete):
		// x exports on the Rules tab of a connection past Pending.
		s.actionErr = nil
		s.confirm = confirmDelete
	case s.tab == tabScope && !s.pending() && key.Matches(msg, k.Trigger):
		return s, s.setTrigger(!s.conn.TriggerNewTasks)
	case s.tab == tabScope && !s.pending() && key.Matches(msg, k.Bulk):
		if s.bulk != nil && !s.bulk.finished() {
			return s, nil
		}
		return s, s.countBulk()
	case s.tab == tabScope && key.Matches(msg, k.ExalateOne):
		return s, push(newExalateScreen(s.c, s.conn))
	}
	return s, nil
}

// act does what the open question asked, now that it is confirmed.
func (s *connectionScreen) act() tea.Cmd {
	what := s.confirm
	s.confirm, s.actionErr = confirmNone, nil
	node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
	switch what {
	case confirmDelete:
		s.busy = "Deleting"
		name, invited := s.conn.Name, s.invited()
		if invited {
			s.busy = "Cancelling the invitation"
		}
		return tea.Batch(s.spin.Tick, func() tea.Msg {
			if invited {
				if err := cancelInvitation(ctx, node, id); err != nil {
					return connDeletedMsg{fmt.Errorf("cancelling the invitation of %s: %w", name, err)}
				}
				return connDeletedMsg{}
			}
			if err := node.Delete(ctx, id); err != nil {
				return connDeletedMsg{fmt.Errorf("deleting %s: %w", name, err)}
			}
			return connDeletedMsg{}
		})
	case confirmBulk:
		return s.startBulk()
	case confirmUpgrade:
		return s.upgrade()
	case confirmRenew:
		return push(newRenewedInvitationScreen(s.c, s.conn))
	case confirmDeactivate, confirmActivate:
		on := what == confirmActivate
		verb := "deactivating"
		s.busy = "Deactivating"
		if on {
			s.busy, verb = "Activating", "activating"
		}
		return tea.Batch(s.spin.Tick, func() tea.Msg {
			conn, err := node.SetActive(ctx, id, on)
			if err != nil {
				return connUpdatedMsg{err: fmt.Errorf("%s the connection: %w", verb, err)}
			}
			return connUpdatedMsg{conn: conn}
		})
	}
	return nil
}

func (s *connectionScreen) setTrigger(on bool) tea.Cmd {
	s.busy, s.actionErr = "Changing the trigger", nil
	node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		conn, err := node.SetTrigger(ctx, id, on)
		if err != nil {
			return connUpdatedMsg{err: fmt.Errorf("changing the trigger: %w", err)}
		}
		return connUpdatedMsg{conn: conn}
	})
}

func (s *connectionScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	if s.confirm != confirmNone {
		return []key.Binding{k.Confirm, k.Cancel}
	}
	if s.pending() {
		// What can be done while the other side has not accepted.
		ks := []key.Binding{s.deleteKey()}
		if s.invited() {
			ks = []key.Binding{k.NewCode, k.CancelInvite}
		}
		if s.tab == tabScope {
			ks = append(ks, k.ExalateOne)
		}
		return append(ks, k.Tabs)
	}
	ks := []key.Binding{k.Tabs}
	switch s.tab {
	case tabScope:
		ks = append(ks, k.Trigger, k.Bulk)
	case tabRules:
		ks = append(ks, s.rulesHelp()...)
	default:
		ks = append(ks, s.activeKey(), k.Delete)
	}
	return ks
}

func (s *connectionScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	if s.confirm != confirmNone {
		return [][]key.Binding{{k.Confirm, k.Cancel}}
	}
	if s.pending() {
		own := []key.Binding{s.deleteKey()}
		if s.invited() {
			own = []key.Binding{k.NewCode, k.CancelInvite}
		}
		if s.tab == tabScope {
			own = append(own, k.ExalateOne)
		}
		return [][]key.Binding{{k.Left, k.Right, k.Refresh}, own, {k.OpenSync, k.History}}
	}
	// Each tab's own keys only: e does nothing off the Rules tab.
	var own []key.Binding
	switch s.tab {
	case tabScope:
		own = []key.Binding{k.Trigger, k.Bulk, k.ExalateOne}
	case tabRules:
		if s.scripted() && s.script != nil {
			// Script mode's keys take two columns: the page's fold into
			// two more, so the four fit 80 columns.
			ks := s.script.keys()
			return [][]key.Binding{{k.Tabs, k.Refresh, s.activeKey()}, ks[:4], ks[4:], {k.OpenSync, k.History, k.Errors, k.Queue}}
		}
		own = s.rulesHelp()
	}
	rows := [][]key.Binding{{k.Left, k.Right, k.Refresh}}
	for len(own) > 4 {
		rows, own = append(rows, own[:4]), own[4:]
	}
	if len(own) > 0 {
		rows = append(rows, own)
	}
	page := []key.Binding{s.activeKey(), k.Delete, k.OpenSync, k.History}
	if s.tab == tabRules {
		page = []key.Binding{s.activeKey(), k.OpenSync, k.History} // x exports here
	}
	return append(rows, page, []key.Binding{k.Errors, k.Queue})
}

// pending says the connection's invitation is not accepted yet: its page
// offers no trigger, Bulk Exalate or deactivation.
func (s *connectionScreen) pending() bool { return s.conn.Status == adminapi.StatusPending }

// invited says the connection waits for the other side to accept this
// node's invitation: its page offers the code again, and cancelling.
func (s *connectionScreen) invited() bool {
	return s.pending() && s.conn.Role == adminapi.RoleInitiator
}

// deleteKey is x as it applies to the connection: cancelling an
// invitation not accepted yet, else deleting.
func (s *connectionScreen) deleteKey() key.Binding {
	if s.invited() {
		return s.c.keys.CancelInvite
	}
	return s.c.keys.Delete
}

// activeKey is d as it applies to the connection's status.
func (s *connectionScreen) activeKey() key.Binding {
	if s.conn.Status == adminapi.StatusActive {
		return s.c.keys.DeactivateConn
	}
	return s.c.keys.ActivateConn
}
