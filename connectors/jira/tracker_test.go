package jira_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/jira"
	"github.com/tandem-sync/tandem/connectors/jira/sandbox"
	"github.com/tandem-sync/tandem/engine/tracker"
)

func TestTrackerCheckAndProjects(t *testing.T) {
	e := start(t, nil, sandbox.WithSite("Acme"))
	tr, acct := e.tracker(t)
	if tr.Kind() != "jira" {
		t.Errorf("Kind = %q", tr.Kind())
	}
	if acct.User == "" || acct.Space != "Acme" {
		t.Errorf("account = %+v, want a user and the site's title Acme", acct)
	}
	ps, err := tr.Projects(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []tracker.Project{{ID: "KAN", Name: "Kanban"}, {ID: "OPS", Name: "Operations"}}
	for _, p := range want {
		if !slices.Contains(ps, p) {
			t.Errorf("projects %v lack %v", ps, p)
		}
	}
}

func TestTrackerBadCredentials(t *testing.T) {
	e := start(t, func(c *jira.Config) { c.Token = "wrong" })
	_, err := jira.NewTracker(e.client, "").Check(ctx(t))
	if !errors.Is(err, jira.ErrUnauthorized) || !strings.Contains(err.Error(), "API token") {
		t.Fatalf("Check with a wrong token: %v, want ErrUnauthorized saying what to check", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the error shows the token: %v", err)
	}
}

func TestTrackerGet(t *testing.T) {
	e := start(t, nil)
	tr, _ := e.tracker(t)
	seeded := e.issueNamed(t, "KAN", "Login button unresponsive on Safari 17")

	before := e.client.Stats()
	got, err := tr.Get(ctx(t), seeded.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if d := e.client.Stats().Sub(before); d.Total() != 1 || d.ByEndpoint["GET /issue/{id}"] != 1 {
		t.Errorf("Get cost %+v, want one GET /issue", d)
	}
	if got.ID != seeded.ID.String() || got.Key != seeded.Key || !strings.HasPrefix(got.Key, "KAN-") ||
		got.URL != e.srv.URL+"/browse/"+got.Key || got.Project != "KAN" || got.Type != "Bug" ||
		got.Summary != "Login button unresponsive on Safari 17" || got.ModifiedAt.IsZero() {
		t.Errorf("entity = %+v", got)
	}
	for _, want := range []string{"<body>", "<h2>Steps to reproduce</h2>", "<ol>", "<em>Log in</em>"} {
		if !strings.Contains(got.Description, want) {
			t.Errorf("description %q lacks %q", got.Description, want)
		}
	}
	if len(got.Comments) != 1 || got.Comments[0].Author == "" || got.Comments[0].CreatedAt.IsZero() ||
		!strings.Contains(got.Comments[0].Body, "Reproduced on macOS") || got.Comments[0].Edited ||
		!strings.HasPrefix(got.Comments[0].ID, got.ID+"/") {
		t.Errorf("comments = %+v", got.Comments)
	}
	if len(got.Attachments) != 1 || got.Attachments[0].Name != "safari-console.txt" || got.Attachments[0].Size == 0 {
		t.Errorf("attachments = %+v", got.Attachments)
	}

	byKey, err := tr.Get(ctx(t), got.Key)
	if err != nil || byKey.ID != got.ID {
		t.Errorf("Get by key: %+v %v", byKey, err)
	}
	none, err := tr.Get(ctx(t), e.issueNamed(t, "KAN", "Reduce cold start time of the API gateway").Key)
	if err != nil || none.Description != "" || none.Comments == nil || none.Attachments == nil || len(none.Comments)+len(none.Attachments) != 0 {
		t.Errorf("an issue with nothing: %+v %v", none, err)
	}
}

func TestTrackerGetMissingIssue(t *testing.T) {
	e := start(t, nil)
	tr, _ := e.tracker(t)
	for _, id := range []string{"99999", "KAN-999"} {
		got, err := tr.Get(ctx(t), id)
		if !errors.Is(err, tracker.ErrNotFound) || !errors.Is(err, jira.ErrNotFound) || !strings.Contains(err.Error(), id) {
			t.Errorf("Get(%s): err = %v, want tracker.ErrNotFound naming it", id, err)
		}
		if got.ID != id || !got.Deleted {
			t.Errorf("Get(%s) = %+v, want it marked deleted", id, got)
		}
	}
	if _, err := tr.Get(ctx(t), "../myself"); !errors.Is(err, jira.ErrInvalidRequest) {
		t.Errorf("Get of a path: %v, want ErrInvalidRequest before any request", err)
	}
}

func TestTrackerParseRef(t *testing.T) {
	tr := jira.NewTracker(nil, "")
	for ref, want := range map[string]string{
		"10004":    "10004",
		" KAN-19 ": "KAN-19",
		"kan-19":   "KAN-19",
		"https://acme.atlassian.net/browse/KAN-19":                                            "KAN-19",
		"https://acme.atlassian.net/browse/kan-19?focusedCommentId=1":                         "KAN-19",
		"https://acme.atlassian.net/jira/software/projects/KAN/boards/1?selectedIssue=KAN-19": "KAN-19",
		"http://127.0.0.1:8080/browse/OPS_2-7":                                                "OPS_2-7",
		"https://acme.atlassian.net/jira/software/c/projects/KAN/issues/KAN-19":               "KAN-19",
	} {
		got, err := tr.ParseRef(ref)
		if err != nil || got != want {
			t.Errorf("ParseRef(%q) = %q, %v; want %q", ref, got, err, want)
		}
	}
	for _, ref := range []string{"", "0", "KAN", "KAN-", "-19", "KAN-0", "19-KAN", "https://acme.atlassian.net/browse/",
		"https://acme.atlassian.net/jira/software/projects/KAN/boards/1", "ftp://x/browse/KAN-1", "KAN-1/../x"} {
		if got, err := tr.ParseRef(ref); !errors.Is(err, tracker.ErrBadRequest) || !strings.Contains(err.Error(), "KAN-19") {
			t.Errorf("ParseRef(%q) = %q, %v; want ErrBadRequest showing an example", ref, got, err)
		}
	}
}

func TestTrackerTypes(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	types, def, err := tr.Types(c, "KAN")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Task", "Bug", "Story", "Improvement", "Epic"}; !slices.Equal(types, want) || def != "Task" {
		t.Errorf("Types(KAN) = %v, %q; want %v, Task", types, def, want)
	}
	before := e.client.Stats()
	if _, _, err := tr.Types(c, "KAN"); err != nil || e.client.Stats().Sub(before).Total() != 0 {
		t.Errorf("Types again: %v, %+v calls; want it cached", err, e.client.Stats().Sub(before))
	}
	bugs := jira.NewTracker(e.client, "Bug")
	if _, def, err := bugs.Types(c, "OPS"); err != nil || def != "Bug" {
		t.Errorf("with default Bug: %q %v", def, err)
	}
	stories := jira.NewTracker(e.client, "Story")
	if _, def, err := stories.Types(c, "OPS"); err != nil || def != "Task" {
		t.Errorf("with default Story on a project without it: %q %v, want Task", def, err)
	}
	if _, _, err := tr.Types(c, "NOPE"); !errors.Is(err, jira.ErrNotFound) {
		t.Errorf("Types of a missing project: %v", err)
	}
}

func TestTrackerCreateThenGet(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	desc := "<body><h1>Plan</h1><ul><li>one <strong>bold</strong></li><li><a href=\"https://example.com/x\">link</a></li></ul>" +
		"<h2>Sub</h2><pre>code()</pre></body>"
	made, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Type: "Bug", Summary: "Made by tandem", Description: desc})
	if err != nil {
		t.Fatal(err)
	}
	if made.ID == "" || made.Key == "" || made.URL != e.srv.URL+"/browse/"+made.Key || made.Project != "KAN" ||
		made.Type != "Bug" || made.Comments == nil || made.Attachments == nil || made.ModifiedAt.IsZero() {
		t.Errorf("Create = %+v", made)
	}
	got, err := tr.Get(c, made.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary != made.Summary || got.Type != "Bug" || got.Key != made.Key || got.Description != made.Description {
		t.Errorf("Get after Create:\n got %+v\nmade %+v", got, made)
	}
	for _, want := range []string{"<h1>Plan</h1>", "<strong>bold</strong>", `<a href="https://example.com/x">link</a>`, "<pre>code()</pre>"} {
		if !strings.Contains(got.Description, want) {
			t.Errorf("description %q lacks %q", got.Description, want)
		}
	}

	// No type, and a type the project lacks, give the default.
	for _, typ := range []string{"", "Story"} {
		made, err := tr.Create(c, tracker.NewEntity{Project: "OPS", Type: typ, Summary: "typed " + typ})
		if err != nil || made.Type != "Task" || made.Description != "" {
			t.Errorf("Create with type %q: %+v %v", typ, made, err)
		}
	}
	if _, err := tr.Create(c, tracker.NewEntity{Project: "NOPE", Summary: "x"}); !errors.Is(err, jira.ErrNotFound) {
		t.Errorf("Create in a missing project: %v", err)
	}
}

func TestTrackerUpdate(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	made, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "before", Description: "<body>old</body>"})
	if err != nil {
		t.Fatal(err)
	}
	summary, typ, desc := "after", "Story", "<body>new <em>text</em></body>"
	got, err := tr.Update(c, made.ID, tracker.EntityUpdate{Summary: &summary, Type: &typ, Description: &desc})
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary != "after" || got.Type != "Story" || got.Description != desc || got.Comments != nil || got.Attachments != nil ||
		got.ModifiedAt.Before(made.ModifiedAt.Add(-1e9)) || got.Key != made.Key {
		t.Errorf("Update = %+v", got)
	}
	none, def := "", ""
	got, err = tr.Update(c, made.Key, tracker.EntityUpdate{Description: &none, Type: &def})
	if err != nil || got.Description != "" || got.Type != "Task" || got.Summary != "after" {
		t.Errorf("clearing the description, default type: %+v %v", got, err)
	}
	if _, err := tr.Update(c, "99999", tracker.EntityUpdate{Summary: &summary}); !errors.Is(err, tracker.ErrNotFound) {
		t.Errorf("Update of a missing issue: %v", err)
	}
}

// Summaries Jira would refuse or store differently (Asana allows them) are
// made into what Jira stores, and Create and Update return that form, so
// the engine records what a later Get reads; FindBySummary finds them by
// the name asked for.
func TestTrackerSummariesAsJiraStoresThem(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	long := strings.Repeat("ünïcode ", 40)
	for _, tc := range []struct{ asked, want string }{
		{"  padded\t ", "padded"},
		{"", "(no summary)"},
		{"two\nlines", "two lines"},
		{long, string([]rune(strings.TrimSpace(long))[:254]) + "…"},
	} {
		made, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: tc.asked})
		if err != nil {
			t.Fatalf("Create %q: %v", tc.asked, err)
		}
		got, err := tr.Get(c, made.ID)
		if err != nil {
			t.Fatal(err)
		}
		if made.Summary != tc.want || got.Summary != tc.want {
			t.Errorf("Create %q: returned %q, reads back %q, want %q", tc.asked, made.Summary, got.Summary, tc.want)
		}
		found, err := tr.FindBySummary(c, "KAN", tc.asked, made.ModifiedAt.Add(-time.Minute))
		if err != nil || !slices.Contains(found, made.ID) {
			t.Errorf("FindBySummary %q: %v %v, want %s", tc.asked, found, err, made.ID)
		}
		updated, err := tr.Update(c, made.ID, tracker.EntityUpdate{Summary: &tc.asked})
		if err != nil || updated.Summary != tc.want {
			t.Errorf("Update to %q: %q %v, want %q", tc.asked, updated.Summary, err, tc.want)
		}
	}
}

// A type change Jira refuses (an Epic can't become a Task by an edit)
// leaves the type as it was and applies the rest of the update.
func TestTrackerUpdateKeepsARefusedType(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	epic, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Type: "Epic", Summary: "Q3 launch"})
	if err != nil {
		t.Fatal(err)
	}
	summary, typ := "Q3 launch (moved)", "Task"
	got, err := tr.Update(c, epic.ID, tracker.EntityUpdate{Summary: &summary, Type: &typ})
	if err != nil || got.Summary != summary || got.Type != "Epic" {
		t.Errorf("Update with a refused type: %+v %v, want the new summary and type Epic", got, err)
	}
}

func TestTrackerComments(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	made, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "talk"})
	if err != nil {
		t.Fatal(err)
	}
	body := "<body>Hello <strong>there</strong>, see <a href=\"https://example.com\">this</a></body>"
	cm, err := tr.AddComment(c, made.ID, body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cm.ID, made.ID+"/") || cm.Body != body || cm.Author == "" || cm.Edited || cm.CreatedAt.IsZero() {
		t.Errorf("AddComment = %+v", cm)
	}
	edited, err := tr.EditComment(c, cm.ID, "<body>changed</body>")
	if err != nil {
		t.Fatal(err)
	}
	if edited.ID != cm.ID || edited.Body != "<body>changed</body>" {
		t.Errorf("EditComment = %+v", edited)
	}
	got, err := tr.Get(c, made.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Comments) != 1 || got.Comments[0].ID != cm.ID || got.Comments[0].Body != "<body>changed</body>" {
		t.Errorf("comments after the edit: %+v", got.Comments)
	}
	for _, bad := range []string{"123", "KAN-1/", "/5", "KAN-1/x"} {
		if _, err := tr.EditComment(c, bad, "<body>x</body>"); !errors.Is(err, tracker.ErrBadRequest) {
			t.Errorf("EditComment(%q): %v, want ErrBadRequest", bad, err)
		}
	}
	if _, err := tr.AddComment(c, "99999", "<body>x</body>"); !errors.Is(err, tracker.ErrNotFound) {
		t.Errorf("AddComment on a missing issue: %v", err)
	}
}

func TestTrackerListAndRecentItems(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	tr, _ := e.tracker(t)
	ids, err := tr.List(c, "OPS")
	if err != nil || len(ids) != 3 {
		t.Fatalf("List(OPS) = %v, %v; want the 3 seeded issues", ids, err)
	}
	items, err := tr.RecentItems(c, "KAN", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[0].Summary != "Update the privacy policy page" {
		t.Fatalf("RecentItems = %+v; want the 3 latest, newest first", items)
	}
	for i, it := range items {
		if it.ID == "" || it.URL != e.srv.URL+"/browse/"+it.Key || it.ModifiedAt.IsZero() ||
			i > 0 && it.ModifiedAt.After(items[i-1].ModifiedAt) {
			t.Errorf("item %d = %+v", i, it)
		}
	}
	all, err := tr.RecentItems(c, "KAN", 0)
	if err != nil || len(all) != 6 {
		t.Errorf("RecentItems(KAN, 0) = %d items, %v; want all 6 (default 10)", len(all), err)
	}
}

// TestTrackerEmptyComment: Jira refuses a comment with nothing to show
// (400 "Comment body can not be empty!"), so a sync that sent one as it is
// would fail on every try; the tracker writes the EmptyComment placeholder
// instead, on add and on edit, and reports the comment as Jira has it.
func TestTrackerEmptyComment(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	made, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "quiet"})
	if err != nil {
		t.Fatal(err)
	}
	blanks := []string{"", "<body></body>", "<body> \n </body>", "<body><br/></body>", "<body>\n\n</body>", "   "}
	var ids []string
	for _, body := range blanks {
		cm, err := tr.AddComment(c, made.ID, body)
		if err != nil {
			t.Fatalf("AddComment(%q): %v", body, err)
		}
		if cm.Body != jira.EmptyComment {
			t.Errorf("AddComment(%q) = %q, want the placeholder %q", body, cm.Body, jira.EmptyComment)
		}
		ids = append(ids, cm.ID)
	}
	written, err := tr.AddComment(c, made.ID, "<body>words</body>")
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range blanks[:2] {
		edited, err := tr.EditComment(c, written.ID, body)
		if err != nil || edited.ID != written.ID || edited.Body != jira.EmptyComment {
			t.Errorf("EditComment(%q) = %+v, %v; want the placeholder", body, edited, err)
		}
	}
	got, err := tr.Get(c, made.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Comments) != len(blanks)+1 {
		t.Fatalf("comments = %+v", got.Comments)
	}
	for i, cm := range got.Comments {
		if cm.Body != jira.EmptyComment || (i < len(ids) && cm.ID != ids[i]) {
			t.Errorf("comment %d = %+v, want the placeholder", i, cm)
		}
	}
	// A comment with content other than text is not blank: it goes as is.
	rule, err := tr.AddComment(c, made.ID, "<body><hr/></body>")
	if err != nil || rule.Body == jira.EmptyComment {
		t.Errorf("AddComment(a rule) = %+v, %v; want the rule kept", rule, err)
	}
}

// TestTrackerNeverCallsRemovedSearch: Jira Cloud answers the old
// /rest/api/3/search with 410 Gone; every way the tracker reads and
// watches a project goes through /search/jql instead.
func TestTrackerNeverCallsRemovedSearch(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	e := start(t, func(cfg *jira.Config) {
		cfg.HTTPClient = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			paths = append(paths, r.Method+" "+r.URL.Path)
			mu.Unlock()
			return http.DefaultTransport.RoundTrip(r)
		})}
	})
	c := ctx(t)
	tr, _ := e.tracker(t)
	first, err := tr.Changes(c, "KAN", "")
	if err != nil {
		t.Fatal(err)
	}
	made, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "watched"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Changes(c, "KAN", first.Cursor); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.ChangedSince(c, "KAN", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.FindBySummary(c, "KAN", "watched", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.List(c, "KAN"); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.RecentItems(c, "KAN", 5); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Get(c, made.ID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	searched := false
	for _, p := range paths {
		if strings.HasSuffix(p, "/rest/api/3/search") || strings.Contains(p, "/rest/api/3/search?") {
			t.Errorf("the tracker called the removed search: %s", p)
		}
		searched = searched || strings.HasSuffix(p, "/rest/api/3/search/jql")
	}
	if !searched {
		t.Errorf("no call to /search/jql among %v: the test exercised no search", paths)
	}
}
