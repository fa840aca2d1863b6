package tui

import "github.com/charmbracelet/lipgloss"

// Styles are the console's styles, built once per renderer. Colours are
// adaptive (light and dark terminals); the renderer's colour profile
// honours NO_COLOR, and tests pin it to plain ASCII.
type Styles struct {
	App       lipgloss.Style
	Title     lipgloss.Style
	Subtitle  lipgloss.Style
	Faint     lipgloss.Style
	Error     lipgloss.Style
	OK        lipgloss.Style
	Warn      lipgloss.Style
	Accent    lipgloss.Style
	Selected  lipgloss.Style
	Box       lipgloss.Style
	CodeBox   lipgloss.Style
	Header    lipgloss.Style
	StatusBar lipgloss.Style
	StatusKey lipgloss.Style
	Tab       lipgloss.Style
	ActiveTab lipgloss.Style
	Help      lipgloss.Style

	// The colours of a script (Script mode's Rules tab) and of a diff.
	Keyword  lipgloss.Style
	String   lipgloss.Style
	Comment  lipgloss.Style
	LineNo   lipgloss.Style
	DiffAdd  lipgloss.Style
	DiffDel  lipgloss.Style
	DiffHunk lipgloss.Style
}

// NewStyles builds the styles for a renderer (lipgloss.DefaultRenderer()
// in a terminal).
func NewStyles(r *lipgloss.Renderer) *Styles {
	var (
		accent = lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#A78BFA"}
		faint  = lipgloss.AdaptiveColor{Light: "#6B7280", Dark: "#9CA3AF"}
		red    = lipgloss.AdaptiveColor{Light: "#B91C1C", Dark: "#F87171"}
		green  = lipgloss.AdaptiveColor{Light: "#15803D", Dark: "#4ADE80"}
		yellow = lipgloss.AdaptiveColor{Light: "#A16207", Dark: "#FACC15"}
		barBg  = lipgloss.AdaptiveColor{Light: "#E5E7EB", Dark: "#374151"}
		barFg  = lipgloss.AdaptiveColor{Light: "#111827", Dark: "#F9FAFB"}
	)
	return &Styles{
		App:       r.NewStyle().Padding(0, 1),
		Title:     r.NewStyle().Bold(true).Foreground(accent),
		Subtitle:  r.NewStyle().Bold(true),
		Faint:     r.NewStyle().Foreground(faint),
		Error:     r.NewStyle().Foreground(red),
		OK:        r.NewStyle().Foreground(green),
		Warn:      r.NewStyle().Foreground(yellow),
		Accent:    r.NewStyle().Foreground(accent),
		Selected:  r.NewStyle().Bold(true).Foreground(accent),
		Box:       r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1),
		CodeBox:   r.NewStyle().Border(lipgloss.NormalBorder(), true, false).BorderForeground(accent),
		Header:    r.NewStyle().Bold(true).Foreground(faint),
		StatusBar: r.NewStyle().Background(barBg).Foreground(barFg),
		StatusKey: r.NewStyle().Background(accent).Foreground(lipgloss.AdaptiveColor{Light: "#FFFFFF", Dark: "#111827"}).Bold(true),
		Tab:       r.NewStyle().Foreground(faint).Padding(0, 1),
		ActiveTab: r.NewStyle().Bold(true).Foreground(accent).Underline(true).Padding(0, 1),
		Help:      r.NewStyle().Foreground(faint),

		Keyword:  r.NewStyle().Bold(true).Foreground(accent),
		String:   r.NewStyle().Foreground(green),
		Comment:  r.NewStyle().Italic(true).Foreground(faint),
		LineNo:   r.NewStyle().Foreground(faint),
		DiffAdd:  r.NewStyle().Foreground(green),
		DiffDel:  r.NewStyle().Foreground(red),
		DiffHunk: r.NewStyle().Foreground(accent),
	}
}
