package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap holds every key binding of the console. Screens pick theirs from
// it for their help line, so what the help says is what the keys do.
type keyMap struct {
	Quit       key.Binding
	ForceQuit  key.Binding
	Back       key.Binding
	Help       key.Binding
	SwitchNode key.Binding
	About      key.Binding

	Up     key.Binding
	Down   key.Binding
	Left   key.Binding
	Right  key.Binding
	Enter  key.Binding
	Next   key.Binding
	Select key.Binding
	Toggle key.Binding

	Initiate   key.Binding
	Accept     key.Binding
	Open       key.Binding
	Refresh    key.Binding
	Suggestion key.Binding
	NoURL      key.Binding
	Copy       key.Binding
	Done       key.Binding
	// CancelInvitation is esc on the invitation screen: it cancels the
	// invitation just made, and goes back.
	CancelInvitation key.Binding

	Exalate    key.Binding
	Bulk       key.Binding
	ExalateOne key.Binding
	Trigger    key.Binding
	Deactivate key.Binding
	Delete     key.Binding
	// NewCode and CancelInvite are the Pending connection's c and x.
	NewCode      key.Binding
	CancelInvite key.Binding
	Export       key.Binding
	Confirm      key.Binding
	Cancel       key.Binding

	InitiateGo key.Binding
	Previous   key.Binding
	Verify     key.Binding
	ConfirmGo  key.Binding
	FillToken  key.Binding

	Tabs           key.Binding
	ActivateConn   key.Binding
	DeactivateConn key.Binding
	OpenSync       key.Binding

	History   key.Binding
	Unexalate key.Binding
	Link      key.Binding
	LinkGo    key.Binding
	Winner    key.Binding
	// Stages is ? on the sync status screen, which explains the stages
	// there rather than opening the full help.
	Stages key.Binding

	// Errors and Queue open the failing syncs and the sync queue (of the
	// node from the connections list, of one connection from its page).
	Errors    key.Binding
	Queue     key.Binding
	FullError key.Binding
	RetryOne  key.Binding
	RetryAll  key.Binding
	Resolve   key.Binding
	ResolveGo key.Binding
	FollowOne key.Binding

	// Script mode: the Rules tab's keys and its screens'.
	Upgrade    key.Binding
	Scroll     key.Binding
	PageUp     key.Binding
	PageDown   key.Binding
	EditDraft  key.Binding
	TestRun    key.Binding
	Publish    key.Binding
	Compare    key.Binding
	AddMapping key.Binding
	Direction  key.Binding
	RunTest    key.Binding
	FromTo     key.Binding
	Versions   key.Binding
	Option     key.Binding
	SaveForm   key.Binding
	MappingGo  key.Binding
	NextField  key.Binding
	PrevField  key.Binding
	OpenScript key.Binding
}

func newKeyMap() *keyMap {
	return &keyMap{
		Quit:       key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Back:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		SwitchNode: key.NewBinding(key.WithKeys("ctrl+t"), key.WithHelp("ctrl+t", "switch node")),
		About:      key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "about this demo")),

		Up:     key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓", "down")),
		Left:   key.NewBinding(key.WithKeys("left", "shift+tab"), key.WithHelp("←", "previous tab")),
		Right:  key.NewBinding(key.WithKeys("right", "tab"), key.WithHelp("→", "next tab")),
		Enter:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next")),
		Next:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next")),
		Select: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "select")),
		Toggle: key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "toggle")),

		Initiate:   key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "initiate connection")),
		Accept:     key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "accept invitation")),
		Open:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Refresh:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		Suggestion: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "use suggestion")),
		NoURL:      key.NewBinding(key.WithKeys("ctrl+o"), key.WithHelp("ctrl+o", "I don't have a URL")),
		Copy:       key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy invitation code")),
		Done:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "done")),

		CancelInvitation: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel invitation")),

		Exalate:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "exalate")),
		Bulk:       key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "bulk exalate")),
		ExalateOne: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sync one item")),
		Trigger:    key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "trigger on/off")),
		Deactivate: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "deactivate/activate")),
		Delete:     key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "delete")),

		NewCode:      key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "show the code again")),
		CancelInvite: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "cancel invitation")),
		Export:       key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "export all")),
		Confirm:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "confirm")),
		Cancel:       key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "cancel")),

		InitiateGo: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "initiate")),
		Previous:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "previous")),
		Verify:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "verify")),
		ConfirmGo:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
		FillToken:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "fill in the demo's token")),

		// Tabs is Left and Right in one entry, for short help lines.
		Tabs:           key.NewBinding(key.WithKeys("left", "right", "tab", "shift+tab"), key.WithHelp("←/→", "tabs")),
		ActivateConn:   key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "activate")),
		DeactivateConn: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "deactivate")),
		OpenSync:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open newest sync")),

		History:   key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "item history")),
		Unexalate: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "unexalate")),
		Link:      key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "link to an item")),
		LinkGo:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "link")),
		Winner:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "whose fields win")),
		Stages:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "what the stages mean")),

		Errors:    key.NewBinding(key.WithKeys("E"), key.WithHelp("E", "errors")),
		Queue:     key.NewBinding(key.WithKeys("Q"), key.WithHelp("Q", "sync queue")),
		FullError: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "error")),
		RetryOne:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		RetryAll:  key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "retry all")),
		Resolve:   key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "resolve")),
		ResolveGo: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "resolve")),
		FollowOne: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "follow the sync")),

		Upgrade:    key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "upgrade")),
		Scroll:     key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll")),
		PageUp:     key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:   key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		EditDraft:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit")),
		TestRun:    key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "test run")),
		Publish:    key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "publish")),
		Compare:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "compare")),
		AddMapping: key.NewBinding(key.WithKeys("+"), key.WithHelp("+", "add mapping")),
		Direction:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "outgoing/incoming")),
		RunTest:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
		FromTo:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "from/to")),
		Versions:   key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "version")),
		Option:     key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "change")),
		SaveForm:   key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "add to the draft")),
		MappingGo:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "add to the draft")),
		NextField:  key.NewBinding(key.WithKeys("tab", "enter"), key.WithHelp("tab", "next field")),
		PrevField:  key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous field")),
		OpenScript: key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open script")),
	}
}
