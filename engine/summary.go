package engine

import (
	"context"
	"strings"
	"unicode"
)

// NormalizeSummary is a summary as the sync carries and stores it on both
// sides. One with a control character (C0, DEL, C1: a tab, a line break,
// ESC, BEL) has each of them made a space, every run of white space one
// space, and none at either end: what Jira does to a summary (see
// connectors/jira's jiraSummary), while Asana keeps one as typed.
// Normalising on both sides makes twins end with the same summary instead
// of differing for good, and keeps a summary from carrying terminal escape
// sequences to the other side. A summary without one is left exactly as
// typed: the source item is rewritten only when it has to be.
func NormalizeSummary(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// normalizeLocalSummary gives an item of this side the normalised summary
// its sync just carried to the other side, so both sides store the same
// string. It runs once the sync is stored, under the caller's read lock:
// a change detection that sees the new summary finds it in the sync on its
// way (or, later, in the twin's fingerprint) and sends nothing. A failure
// is logged, not fatal: the item keeps its summary as typed, and nothing
// echoes.
func (n *Node) normalizeLocalSummary(ctx context.Context, e Entity, summary string) {
	et, err := n.entities()
	if err != nil {
		return
	}
	if _, err := et.Update(ctx, e.ID, EntityUpdate{Summary: &summary}); err != nil {
		n.log.Warn("giving an item the summary its sync carried", "item", e.Key, "err", err)
	}
}
