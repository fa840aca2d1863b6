package jira

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// Change detection polls JQL, which compares dates to the minute, in the
// account's time zone. Each round asks for
//
//	project = "X" AND updated >= "<last − overlap>" ORDER BY updated ASC
//
// where last is the newest update seen so far (Jira's clock, not ours), and
// leaves out what it already reported: an (issue id, updated in ms) pair
// seen in the overlap window. The overlap covers the minute rounding and
// the lag of Jira's search index.
//
// The cursor is text: "j1:<last, Unix ms>:<id>@<updated ms>,…", the seen
// pairs limited to the overlap window and to maxSeen. Jira can't report
// deleted issues this way; the engine learns of them when Get fails.
const (
	overlap     = 2 * time.Minute
	maxSeen     = 2000
	cursorV1    = "j1"
	jqlDateTime = "2006-01-02 15:04"
)

// cursor is the state kept between rounds.
type cursor struct {
	last time.Time
	seen map[string]int64 // issue id → updated, Unix ms
}

func (c cursor) String() string {
	type pair struct {
		id string
		ms int64
	}
	ps := make([]pair, 0, len(c.seen))
	for id, ms := range c.seen {
		ps = append(ps, pair{id, ms})
	}
	// Newest first, so the bound keeps what the next round may see again.
	slices.SortFunc(ps, func(a, b pair) int {
		return cmp.Or(cmp.Compare(b.ms, a.ms), strings.Compare(a.id, b.id))
	})
	if len(ps) > maxSeen {
		ps = ps[:maxSeen]
	}
	var b strings.Builder
	b.WriteString(cursorV1 + ":" + strconv.FormatInt(c.last.UnixMilli(), 10) + ":")
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.id + "@" + strconv.FormatInt(p.ms, 10))
	}
	return b.String()
}

// parseCursor reads a cursor; ok is false for anything it did not write.
func parseCursor(s string) (c cursor, ok bool) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[0] != cursorV1 {
		return c, false
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || ms <= 0 {
		return c, false
	}
	c = cursor{last: time.UnixMilli(ms), seen: map[string]int64{}}
	if parts[2] == "" {
		return c, true
	}
	for _, p := range strings.Split(parts[2], ",") {
		id, v, found := strings.Cut(p, "@")
		n, err := strconv.ParseInt(v, 10, 64)
		if !found || !isIssueID(id) || err != nil {
			return cursor{}, false
		}
		c.seen[id] = n
	}
	return c, true
}

// jqlString quotes s for JQL, escaping quotes and backslashes.
func jqlString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// jqlSince is `updated >= "<t>"` in the account's time zone, rounded down
// to the minute as JQL reads it.
func (t *Tracker) jqlSince(ctx context.Context, since time.Time) (string, error) {
	loc, err := t.c.Location(ctx)
	if err != nil {
		return "", err
	}
	return "updated >= " + jqlString(since.In(loc).Format(jqlDateTime)), nil
}

// Changes reports the issues of a project updated since cursor, each once,
// oldest change first. An empty or unreadable cursor gives Reset with a
// cursor starting at Jira's present time (its serverTime: this node's
// clock may differ by more than the overlap), and no search: the engine
// reconciles with ChangedSince.
func (t *Tracker) Changes(ctx context.Context, project, cur string) (tracker.Changes, error) {
	c, ok := parseCursor(cur)
	if !ok {
		// The location is read now so that a bad token shows here.
		if _, err := t.c.Location(ctx); err != nil {
			return tracker.Changes{}, fmt.Errorf("jira: reading the changes in project %s: %w", project, err)
		}
		info, err := t.c.ServerInfo(ctx)
		if err != nil {
			return tracker.Changes{}, fmt.Errorf("jira: reading the changes in project %s: %w", project, err)
		}
		now := info.ServerTime.Time
		if now.IsZero() {
			now = time.Now()
		}
		start := cursor{last: now.Truncate(time.Millisecond), seen: map[string]int64{}}
		return tracker.Changes{Reset: true, Cursor: start.String()}, nil
	}
	since, err := t.jqlSince(ctx, c.last.Add(-overlap))
	if err != nil {
		return tracker.Changes{}, fmt.Errorf("jira: reading the changes in project %s: %w", project, err)
	}
	jql := "project = " + jqlString(project) + " AND " + since + " ORDER BY updated ASC"
	issues, err := t.c.Search(ctx, Search{JQL: jql, Fields: []string{"updated"}})
	if err != nil {
		return tracker.Changes{}, fmt.Errorf("jira: reading the changes in project %s: %w", project, err)
	}
	var ids []string
	listed := map[string]bool{}
	for _, is := range issues {
		id, ms := is.ID.String(), is.Fields.Updated.UnixMilli()
		if is.Fields.Updated.After(c.last) {
			c.last = is.Fields.Updated.Time
		}
		if prev, ok := c.seen[id]; ok && prev >= ms {
			continue
		}
		c.seen[id] = ms
		if !listed[id] {
			listed[id] = true
			ids = append(ids, id)
		}
	}
	// Keep only what the next round's window can return again.
	floor := c.last.Add(-overlap - time.Minute).UnixMilli()
	for id, ms := range c.seen {
		if ms < floor {
			delete(c.seen, id)
		}
	}
	return tracker.Changes{IDs: ids, Cursor: c.String()}, nil
}

// ChangedSince lists the ids of a project's issues updated at or after
// since: a JQL search to the minute, then the exact filter.
func (t *Tracker) ChangedSince(ctx context.Context, project string, since time.Time) ([]string, error) {
	issues, err := t.updatedSince(ctx, project, since, []string{"updated"})
	if err != nil {
		return nil, fmt.Errorf("jira: listing the issues of project %s changed since %s: %w", project, since.Format(time.RFC3339), err)
	}
	ids := make([]string, len(issues))
	for i, is := range issues {
		ids[i] = is.ID.String()
	}
	return ids, nil
}

// FindBySummary lists the issues of a project updated at or after since
// whose summary is summary. It reads every issue updated since then with
// its summary and compares exactly, rather than narrowing with
// `summary ~ "…"`: Jira's text search drops stop words and reads Lucene
// syntax, so it can miss the very issue a retried create looks for, and the
// window (since a create attempt) is short.
func (t *Tracker) FindBySummary(ctx context.Context, project, summary string, since time.Time) ([]string, error) {
	issues, err := t.updatedSince(ctx, project, since, []string{"summary", "updated"})
	if err != nil {
		return nil, fmt.Errorf("jira: looking for %q in project %s: %w", summary, project, err)
	}
	var ids []string
	summary = jiraSummary(summary) // as Create stored it
	for _, is := range issues {
		if is.Fields.Summary == summary {
			ids = append(ids, is.ID.String())
		}
	}
	return ids, nil
}

// updatedSince searches a project's issues updated at or after since.
func (t *Tracker) updatedSince(ctx context.Context, project string, since time.Time, fields []string) ([]Issue, error) {
	cond, err := t.jqlSince(ctx, since)
	if err != nil {
		return nil, err
	}
	issues, err := t.c.Search(ctx, Search{JQL: "project = " + jqlString(project) + " AND " + cond + " ORDER BY updated ASC", Fields: fields})
	if err != nil {
		return nil, err
	}
	since = since.Truncate(time.Millisecond)
	return slices.DeleteFunc(issues, func(is Issue) bool { return is.Fields.Updated.Before(since) }), nil
}

// List returns the ids of a project's issues, oldest first.
func (t *Tracker) List(ctx context.Context, project string) ([]string, error) {
	issues, err := t.c.Search(ctx, Search{JQL: "project = " + jqlString(project) + " ORDER BY created ASC", Fields: []string{"id"}})
	if err != nil {
		return nil, fmt.Errorf("jira: listing the issues of project %s: %w", project, err)
	}
	ids := make([]string, len(issues))
	for i, is := range issues {
		ids[i] = is.ID.String()
	}
	return ids, nil
}

// RecentItems lists a project's issues most recently updated first, up to
// limit, from one JQL search (ORDER BY updated DESC) with summary and
// updated: one request for up to 100 issues. Key is the issue key.
func (t *Tracker) RecentItems(ctx context.Context, project string, limit int) ([]tracker.Item, error) {
	if limit <= 0 {
		limit = 10
	}
	issues, err := t.c.Search(ctx, Search{JQL: "project = " + jqlString(project) + " ORDER BY updated DESC",
		Fields: []string{"summary", "updated"}, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("jira: listing the recent issues of project %s: %w", project, err)
	}
	items := make([]tracker.Item, len(issues))
	for i, is := range issues {
		items[i] = tracker.Item{ID: is.ID.String(), Key: is.Key, Summary: is.Fields.Summary,
			URL: t.browseURL(is.Key), ModifiedAt: is.Fields.Updated.Time}
	}
	return items, nil
}
