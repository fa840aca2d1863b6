package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jirasandbox "github.com/tandem-sync/tandem/connectors/jira/sandbox"
	"github.com/tandem-sync/tandem/engine"
)

// endpointCounter counts a tracker client's requests by method and path
// template ("GET /issue/{id}/comment"), as they leave for the sandbox.
type endpointCounter struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

// jiraIDs are the path segments that name an item: numeric ids and keys.
var jiraIDs = regexp.MustCompile(`^([0-9]+|[A-Z][A-Z0-9]+-[0-9]+)$`)

func (c *endpointCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/rest/api/3"), "/")
	for i, s := range segs {
		if jiraIDs.MatchString(s) {
			segs[i] = "{id}"
		}
	}
	name := r.Method + " " + strings.Join(segs, "/")
	if name == "POST /search/jql" && r.GetBody != nil {
		// Change detection's polls (updated >= …) apart from listings,
		// from a copy of the body.
		rc, err := r.GetBody()
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		var q struct {
			JQL string `json:"jql"`
		}
		if json.Unmarshal(body, &q) == nil && strings.Contains(q.JQL, "updated >=") {
			name += " (updated since)"
		}
	}
	c.mu.Lock()
	c.n[name]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

// snapshot copies the counts so far.
func (c *endpointCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// since is what was counted after before.
func (c *endpointCounter) since(before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range c.snapshot() {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// TestJiraBulkCallsPerEndpoint counts the Jira calls of a Bulk Exalate
// from Jira (issue 17, the minimum calls per item), by endpoint, against
// the sandbox over loopback: the search listing carries every issue's
// fields, comments and attachments, so no issue is read by itself (no
// GET /issue/{id}) and no comment list is fetched; what is left per issue
// is the download of its file.
func TestJiraBulkCallsPerEndpoint(t *testing.T) {
	const issues, comments = 20, 3
	calls := &endpointCounter{next: http.DefaultTransport, n: map[string]int{}}
	jira := pairOf(t, "jira")
	a, b, _, connB := connectedPair(t, jira.start, jira.project, func(n *testNode) {
		n.trackerClient = &http.Client{Transport: calls}
		// Only this test's issues, so the counts divide by them.
		n.sandboxOptions = append(n.sandboxOptions, jirasandbox.WithSeed("empty"))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := range issues {
		e, err := b.et().Create(ctx, engine.NewEntity{Project: connB.LocalProject, Summary: fmt.Sprintf("bulk issue %d", i),
			Description: fmt.Sprintf("<body>Issue <strong>%d</strong> of the bulk.</body>", i)})
		if err != nil {
			t.Fatal(err)
		}
		for j := range comments {
			userComment(t, b.et(), e.ID, fmt.Sprintf("comment %d on %d", j, i))
		}
		attach(t, b, e.ID, fmt.Sprintf("notes-%d.txt", i), bytes.Repeat([]byte{byte('a' + i%26)}, 1024))
	}
	// Two rounds of change detection after the last write: the second began
	// after the first had ended, so it has passed the new issues (which no
	// sync covers yet) before the bulk starts; no round reads them then.
	checked := func() time.Time {
		_, at, _ := b.Store().DetectCursor(ctx, connB.ID)
		return at
	}
	for range 2 {
		before := checked()
		eventually(t, "a round of change detection on Globex", func() bool { return checked().After(before) })
	}
	listed, err := b.et().List(ctx, connB.LocalProject)
	if err != nil {
		t.Fatal(err)
	}

	before := calls.snapshot()
	bulkDone(t, b, connB.ID)
	got := calls.since(before)
	t.Logf("Globex's Jira calls during a bulk of %d issues: %v", len(listed), got)
	if len(listed) != issues {
		t.Fatalf("%d issues listed, want the %d made", len(listed), issues)
	}
	// The source's API calls per issue, change detection's polls (per
	// poll, not per issue) and the file host's redirects left out.
	reads := 0
	for k, n := range got {
		if !strings.HasSuffix(k, "(updated since)") && !strings.HasPrefix(k, "GET /media/") {
			reads += n
		}
	}
	t.Logf("source calls per issue: %.2f (%d for %d issues)", float64(reads)/issues, reads, issues)
	if n := got["GET /issue/{id}"]; n != 0 {
		t.Errorf("the bulk read %d issues one by one (GET /issue/{id}); the search listing carries their fields", n)
	}
	if n := got["GET /issue/{id}/comment"]; n != 0 {
		t.Errorf("the bulk listed the comments of %d issues; the search listing carries them all", n)
	}
	if n := got["GET /attachment/content/{id}"]; n != issues {
		t.Errorf("%d downloads, want one per file (%d)", n, issues)
	}
	if n := got["POST /search/jql"]; n != 2 {
		t.Errorf("%d listings, want 2 (the bulk's and the one at its end, a page each)", n)
	}
	twins := twinsOf(t, b, connB.ID, listed)
	if len(twins) != len(listed) {
		t.Fatalf("%d of %d issues have a twin after the bulk", len(twins), len(listed))
	}
	// What arrived is what Get reads on Jira: the listing's fields,
	// comments and files are the issue's.
	for _, id := range listed {
		onB := read(t, b, id)
		var onA engine.Entity
		within(t, 30*time.Second, "the twin of "+onB.Key+" on Asana", func() bool {
			var err error
			onA, err = a.et().Get(ctx, twins[id])
			return err == nil && len(onA.Comments) == len(onB.Comments) && len(onA.Attachments) == len(onB.Attachments)
		})
		if onA.Summary != onB.Summary {
			t.Errorf("%s: %q on Jira, %q on Asana", onB.Key, onB.Summary, onA.Summary)
		}
	}
}
