package jira

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzIssue decodes arbitrary GET /issue answers and maps what decodes
// onto an entity: nothing may panic, and what is mapped keeps the issue's
// identity. The seed corpus is in testdata/fuzz/FuzzIssue.
func FuzzIssue(f *testing.F) {
	f.Add([]byte(`{"id":"10004","key":"KAN-5","fields":{"summary":"s","description":{"version":1,"type":"doc","content":[]},"comment":{"comments":[],"total":0}}}`))
	c, err := New(Config{BaseURL: "https://acme.atlassian.net", Email: "a@b.c", Token: "t"})
	if err != nil {
		f.Fatal(err)
	}
	tr := NewTracker(c, "")
	f.Fuzz(func(t *testing.T, data []byte) {
		var is Issue
		if err := json.Unmarshal(data, &is); err != nil {
			return
		}
		e := tr.entityOf(is)
		if e.ID != is.ID.String() || e.Key != is.Key || e.Summary != is.Fields.Summary {
			t.Fatalf("entity %+v does not match issue %+v", e, is)
		}
		if e.Description != "" && !strings.HasPrefix(e.Description, "<body>") {
			t.Fatalf("description %q is not rich text", e.Description)
		}
		for _, cm := range is.Fields.Comment.Comments {
			out := tr.commentOf(e.ID, cm)
			if !strings.HasPrefix(out.ID, e.ID+"/") {
				t.Fatalf("comment id %q does not name issue %q", out.ID, e.ID)
			}
		}
		for _, a := range is.Fields.Attachment {
			if attachmentOf(a).ID != a.ID.String() {
				t.Fatalf("attachment %+v", a)
			}
		}
	})
}
