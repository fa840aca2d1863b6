package sandbox

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxLabel is Jira's limit on one label's length.
const maxLabel = 255

// readField reads one of the fields beyond the Basic ones (assignee,
// priority, duedate, labels) of a create or edit into in, and returns
// Jira's message for a value it refuses, or "". null clears each. Callers
// hold the store lock.
func (s *Sandbox) readField(in *issueInput, name string, raw json.RawMessage) string {
	null := string(bytes.TrimSpace(raw)) == "null"
	switch name {
	case "assignee":
		in.hasAssignee = true
		if null {
			return ""
		}
		var ref struct {
			AccountID *string `json:"accountId"`
		}
		if json.Unmarshal(raw, &ref) != nil || ref.AccountID == nil {
			return "Specify a valid value for assignee"
		}
		if in.assignee = s.st.user(*ref.AccountID); in.assignee == nil {
			return "User '" + *ref.AccountID + "' cannot be assigned issues."
		}
	case "priority":
		in.hasPriority = true
		if null {
			return ""
		}
		id, pname, ok := reference(raw)
		if ok {
			in.priority = findPriority(s.st.priorities, id, pname)
		}
		if in.priority == nil {
			return "The priority selected is invalid."
		}
	case "duedate":
		in.hasDuedate = true
		if null {
			return ""
		}
		v, ok := rawString(raw)
		if !ok {
			return "Operation value must be a string"
		}
		if v == "" {
			return ""
		}
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return "Error parsing date string: " + v
		}
		in.duedate = v
	case "labels":
		in.hasLabels = true
		if null {
			return ""
		}
		var labels []string
		if json.Unmarshal(raw, &labels) != nil {
			return "Operation value must be a string array"
		}
		for _, l := range labels {
			switch {
			case l == "":
				return "The label can't be empty."
			case strings.ContainsFunc(l, unicode.IsSpace):
				return "The label '" + l + "' contains spaces which is invalid."
			case utf8.RuneCountInString(l) > maxLabel:
				return "The label '" + l + "' exceeds the maximum length for a single label of 255 characters."
			}
		}
		slices.Sort(labels)
		in.labels = slices.Compact(labels)
	}
	return ""
}

// apply writes the fields beyond the Basic ones that in sets into st and
// says whether anything changed.
func (in *issueInput) apply(st *issueState) bool {
	changed := false
	if in.hasAssignee && in.assignee != st.assignee {
		st.assignee, changed = in.assignee, true
	}
	if in.hasPriority && in.priority != st.priority {
		st.priority, changed = in.priority, true
	}
	if in.hasDuedate && in.duedate != st.duedate {
		st.duedate, changed = in.duedate, true
	}
	if in.hasLabels && !slices.Equal(in.labels, st.labels) {
		st.labels, changed = slices.Clone(in.labels), true
	}
	return changed
}
