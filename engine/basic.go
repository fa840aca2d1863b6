package engine

import (
	"context"
	"html"
	"strings"
	"unicode"

	"github.com/tandem-sync/tandem/store"
)

// The fields the Basic rules sync besides comments and attachments.
const (
	FieldType        = "type"
	FieldSummary     = "summary"
	FieldDescription = "description"
)

// Basic is Basic mode (DESIGN.md §3): type, summary, description,
// comments and attachments, each mapped to itself. A type the destination
// lacks becomes its default type and is kept for the way back; a summary
// is normalised on both sides; a description that loses to a newer edit is
// kept as a comment; a synced comment shows its author and origin.
type Basic struct{}

var _ Rules = Basic{}

// Rows implements Rules.
func (Basic) Rows() []Rule {
	return []Rule{
		{Order: 1, ThisSide: "Type", OtherSide: "Type", Note: "mirrored; a type the destination lacks becomes its default type"},
		{Order: 2, ThisSide: "Summary", OtherSide: "Summary"},
		{Order: 3, ThisSide: "Description", OtherSide: "Description", Note: "rich text"},
		{Order: 4, ThisSide: "Comments", OtherSide: "Comments", Note: "each mapped once, author shown"},
		{Order: 5, ThisSide: "Attachments", OtherSide: "Attachments", Note: "bytes copied, up to the tracker's limit"},
	}
}

// Fields implements Rules.
func (Basic) Fields() []string { return []string{FieldType, FieldSummary, FieldDescription} }

// Value implements Rules.
func (Basic) Value(e Entity, f string) string {
	switch f {
	case FieldType:
		return e.Type
	case FieldSummary:
		return e.Summary
	case FieldDescription:
		return e.Description
	}
	return ""
}

// Sent implements Rules.
func (Basic) Sent(r ReplicaEntity, f string) string {
	switch f {
	case FieldType:
		return r.Type
	case FieldSummary:
		return r.Summary
	case FieldDescription:
		return r.Description
	}
	return ""
}

// Outgoing implements Rules: the summary goes normalised (and the local
// item gets it too), and a type the other side had and this side could not
// hold goes back as it was, while no one here changed the default it
// became.
func (Basic) Outgoing(_ context.Context, e Entity, twin *store.Twin) (Outgoing, error) {
	out := Outgoing{Item: e}
	if s := NormalizeSummary(e.Summary); s != e.Summary {
		out.Item.Summary = s
		out.Local = &EntityUpdate{Summary: &s}
	}
	out.Source = ReplicaEntity{Type: e.Type, Summary: out.Item.Summary, Description: e.Description}
	if twin != nil && twin.RemoteType != "" && fieldFP(*twin, FieldType) == fingerprint(e.Type) {
		out.Source.Type = twin.RemoteType
	}
	return out, nil
}

// Incoming implements Rules: each field is mirrored (the type through
// MapType, the summary normalised), and a description of this side that a
// newer one replaces is kept as a comment, never silently lost.
func (Basic) Incoming(_ context.Context, in Incoming) (Applied, error) {
	var ch Applied
	for _, f := range in.Fields {
		switch f {
		case FieldType:
			typ, kept, err := in.MapType(in.Source.Type)
			if err != nil {
				return Applied{}, err
			}
			ch.Update.Type, ch.RemoteType = &typ, kept
		case FieldSummary:
			summary := NormalizeSummary(in.Source.Summary)
			ch.Update.Summary = &summary
		case FieldDescription:
			description := in.Source.Description
			ch.Update.Description = &description
		}
	}
	if mine, ok := in.Overwritten[FieldDescription]; ok && mine != "" && mine != in.Source.Description {
		ch.Comments = append(ch.Comments, keptDescription(mine, in.Origin))
	}
	return ch, nil
}

// Comment implements Rules: the author and the origin go in front of a
// synced comment, so readers on this side see who wrote it and where.
func (Basic) Comment(c ReplicaComment, origin string) string {
	prefix := "<strong>" + html.EscapeString(c.Author) + "</strong> (" + html.EscapeString(origin) + "): "
	if inner, ok := strings.CutPrefix(c.Body, "<body>"); ok {
		return "<body>" + prefix + inner
	}
	return "<body>" + prefix + html.EscapeString(c.Body) + "</body>"
}

// KeepsRemote implements Rules: the type is kept.
func (Basic) KeepsRemote(f string) bool { return f == FieldType }

// Refused implements Rules: a tracker may refuse a type change (Jira won't
// turn an Epic into a Task by an edit); the source's type is kept, shown,
// never retried.
func (Basic) Refused(asked EntityUpdate, got Entity, src ReplicaEntity) (string, bool) {
	if asked.Type != nil && got.Type != *asked.Type {
		return src.Type, true
	}
	return "", false
}

// keptDescription is the comment that keeps a description a newer edit
// from the other side replaced.
func keptDescription(lost, origin string) string {
	inner := strings.TrimSuffix(strings.TrimPrefix(lost, "<body>"), "</body>")
	return "<body><em>This description was replaced by a newer edit from " + html.EscapeString(origin) +
		". It read:</em>\n" + inner + "</body>"
}

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
