package jira

import (
	"context"
	"fmt"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// Bulk reads (issue 17, the minimum calls per item). Jira's search returns
// any field asked for, comment and attachment included (they are not
// navigable, so they come only when named), a page of up to 100 issues per
// call: a Bulk Exalate lists a project with every field Get reads and
// needs no call per issue, unless an issue has more comments than Jira
// embeds in its comment field (comment.total beyond the comments
// returned), whose comments ReadItems then lists.

var (
	_ tracker.BulkReader     = (*Tracker)(nil)
	_ tracker.ModifiedLister = (*Tracker)(nil)
)

// ListEntities lists a project's issues, oldest first, with the fields Get
// reads (issueFieldNames) from the JQL search: one call per page of issues
// instead of one per issue, each page handed to each as it comes. An issue's Comments are set when the listing
// embedded them all, its Attachments when the listing carried the field;
// either left nil is for ReadItems to read.
//
// The search is eventually consistent: an issue written a moment ago by
// another client may be listed as it was a few seconds before. The engine
// lists again at the end of a Bulk Exalate and change detection reads
// every change it sees, so such an issue syncs again once the index
// catches up.
func (t *Tracker) ListEntities(ctx context.Context, project string, each func([]tracker.Entity) error) error {
	var theirs error // each's, returned as it is
	err := t.c.SearchPages(ctx, Search{JQL: "project = " + jqlString(project) + " ORDER BY created ASC", Fields: issueFieldNames()}, func(issues []Issue) error {
		out := make([]tracker.Entity, 0, len(issues))
		for _, is := range issues {
			e := t.entityOf(is)
			if e.Project == "" {
				e.Project = project
			}
			t.listedItems(is, &e)
			out = append(out, e)
		}
		theirs = each(out)
		return theirs
	})
	if err != nil && err != theirs {
		return fmt.Errorf("jira: listing the issues of project %s: %w", project, err)
	}
	return err
}

// listedItems sets e's Comments from an issue's comment field when it
// holds them all, and its Attachments from its attachment field when
// present. A comment field that was absent or null has no comments list
// (nil), as an attachment field absent or null has no list: neither is
// taken for "none".
func (t *Tracker) listedItems(is Issue, e *tracker.Entity) {
	if page := is.Fields.Comment; page.Comments != nil && page.complete() {
		e.Comments = make([]tracker.Comment, len(page.Comments))
		for i, cm := range page.Comments {
			e.Comments[i] = t.commentOf(is.ID.String(), cm)
		}
	}
	if atts := is.Fields.Attachment; atts != nil {
		e.Attachments = make([]tracker.Attachment, len(atts))
		for i, a := range atts {
			e.Attachments[i] = attachmentOf(a)
		}
	}
}

// ReadItems reads what the listing did not carry: nothing when e's
// Comments and Attachments are both set (ListEntities' usual case); the
// comments alone (GET /issue/{id}/comment, a page of 100 per call) when
// only they are nil; and otherwise the issue's comment and attachment
// fields in one GET, then the comments Jira did not embed. An issue
// gone since it was listed is an error matching tracker.ErrNotFound.
func (t *Tracker) ReadItems(ctx context.Context, e *tracker.Entity) error {
	if e.Attachments == nil {
		fields := []string{"attachment"}
		if e.Comments == nil {
			fields = append(fields, "comment")
		}
		is, err := t.c.issue(ctx, e.ID, fields)
		if err != nil {
			return gone(err, e.ID)
		}
		if is.Fields.Attachment == nil {
			is.Fields.Attachment = []Attachment{}
		}
		t.listedItems(is, e)
	}
	if e.Comments == nil {
		cms, err := t.c.Comments(ctx, e.ID)
		if err != nil {
			return gone(err, e.ID)
		}
		e.Comments = make([]tracker.Comment, len(cms))
		for i, cm := range cms {
			e.Comments[i] = t.commentOf(e.ID, cm)
		}
	}
	return nil
}

// ModifiedSince lists the issues of a project updated at or after since,
// each with its updated time (Entity.ModifiedAt's clock): the search
// ChangedSince makes, one call per page of issues.
func (t *Tracker) ModifiedSince(ctx context.Context, project string, since time.Time) (map[string]time.Time, error) {
	issues, err := t.updatedSince(ctx, project, since, []string{"updated"})
	if err != nil {
		return nil, fmt.Errorf("jira: listing the issues of project %s changed since %s: %w", project, since.Format(time.RFC3339), err)
	}
	out := make(map[string]time.Time, len(issues))
	for _, is := range issues {
		out[is.ID.String()] = is.Fields.Updated.Time
	}
	return out, nil
}
