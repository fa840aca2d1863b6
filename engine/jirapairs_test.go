package engine_test

// The pair tests of what only Jira does: faults on its emulator, a create
// whose answer is lost while its search lags. They start the Jira node from
// its Kind like every pair (pairOf) and reach Jira's own emulator and
// tracker through jiraOf.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jirasandbox "github.com/tandem-sync/tandem/connectors/jira/sandbox"
	"github.com/tandem-sync/tandem/engine"
)

// TestTrackerPairsUnderFaults: Asana and Jira both answer a fifth of the
// requests with a 500, a 503 or a cut connection, while a Bulk Exalate
// sends tasks with comments and files to Jira and users on both sides
// rename and comment. Everything arrives once: no duplicate issues (a
// create cut after Jira made the issue is adopted, not repeated), no
// duplicate comments, and nothing is echoed once the faults stop.
func TestTrackerPairsUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("tracker faults: a minute of retries under the race detector; the plain run covers it")
	}
	jira := pairOf(t, "jira")
	a, b, connA, connB := connectedPair(t, jira.start, jira.project, func(n *testNode) {
		// The faults the sandbox picks are the same on every run.
		n.sandboxOptions = append(n.sandboxOptions, jirasandbox.WithRandSeed(int64(len("Globex"))))
	})
	jsb, jtracker := jiraOf(t, b)
	// This sandbox's search doesn't lag: a retried create that was cut
	// need not wait Jira's ten seconds before looking for its issue.
	jtracker.SetSearchLag(time.Second)
	// Faults make for many retries: more than ctxFor's 30 s on a busy
	// machine.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var ids []string
	for i := range 8 {
		e, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: fmt.Sprintf("fault-task %d", i),
			Description: fmt.Sprintf("<body>Task <strong>%d</strong> of the fault run.</body>", i)})
		if err != nil {
			t.Fatal(err)
		}
		userComment(t, a.et(), e.ID, fmt.Sprintf("first words on %d", i))
		if i%3 == 0 {
			attach(t, a, e.ID, fmt.Sprintf("notes-%d.txt", i), bytes.Repeat([]byte{byte('a' + i)}, 4096))
		}
		ids = append(ids, e.ID)
	}

	a.sb.SetFaultRate(0.2)
	jsb.SetFaultRate(0.2)
	bulkDone(t, a, connA.ID)
	twins := twinsOf(t, a, connA.ID, ids)
	if len(twins) != len(ids) {
		t.Fatalf("%d of %d tasks have a twin after the bulk sync", len(twins), len(ids))
	}
	// Users on both sides, through the same faults (retrying as people
	// do): renames on Jira, comments on both.
	for i, id := range ids[:4] {
		name := fmt.Sprintf("fault-task %d, renamed on Jira", i)
		for attempt := 0; ; attempt++ {
			if _, err := b.et().Update(ctx, twins[id], engine.EntityUpdate{Summary: &name}); err == nil {
				break
			} else if attempt == 20 {
				t.Fatalf("renaming on Jira: %v", err)
			}
		}
		userComment(t, b.et(), twins[id], fmt.Sprintf("jira says %d", i))
		userComment(t, a.et(), id, fmt.Sprintf("asana says %d", i))
	}
	within(t, 60*time.Second, "the edits on both sides", func() bool {
		for i, id := range ids[:4] {
			onA, errA := a.et().Get(ctx, id)
			onB, errB := b.et().Get(ctx, twins[id])
			if errA != nil || errB != nil || onA.Summary != fmt.Sprintf("fault-task %d, renamed on Jira", i) ||
				commentsWith(onA, fmt.Sprintf("jira says %d", i)) != 1 || commentsWith(onB, fmt.Sprintf("asana says %d", i)) != 1 {
				return false
			}
		}
		return true
	})

	a.sb.SetFaultRate(0)
	jsb.SetFaultRate(0)
	settledWithoutEcho(t, a, b)
	byStatus, cut := b.sbAnswers.snapshot()
	t.Logf("Jira answered %d × 500, %d × 503 and cut %d connections", byStatus[500], byStatus[503], cut)
	if byStatus[500]+byStatus[503]+cut == 0 {
		t.Error("the Jira sandbox injected no faults: the test tested nothing")
	}
	issues, err := b.et().List(ctx, connB.LocalProject)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		onA, onB := read(t, a, id), read(t, b, twins[id])
		if n := countSummaries(t, b, issues, onA.Summary); n != 1 {
			t.Errorf("%q is on Jira %d times", onA.Summary, n)
		}
		if onA.Summary != onB.Summary || onA.Description != onB.Description ||
			len(onA.Comments) != len(onB.Comments) || len(onA.Attachments) != len(onB.Attachments) {
			t.Errorf("%s and %s differ: %q/%q, %d/%d comments, %d/%d files", onA.Key, onB.Key, onA.Summary, onB.Summary,
				len(onA.Comments), len(onB.Comments), len(onA.Attachments), len(onB.Attachments))
		}
	}
}

// cutCreate lets the first issue create reach Jira and then loses its
// answer, as a connection cut after the request was sent does: the
// client can't know the issue's id.
type cutCreate struct {
	next http.RoundTripper
	done atomic.Bool
}

func (c *cutCreate) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/rest/api/3/issue") && c.done.CompareAndSwap(false, true) {
		resp.Body.Close()
		return nil, errors.New("connection reset by peer (after the request was sent)")
	}
	return resp, err
}

// TestJiraCreateCutBeforeItsAnswer: Jira made the issue but the answer was
// lost, and Jira's search doesn't show the new issue for a while. The
// retry waits for the search instead of creating a second issue, then
// adopts the first.
func TestJiraCreateCutBeforeItsAnswer(t *testing.T) {
	jira := pairOf(t, "jira")
	a, b, connA, _ := connectedPair(t, jira.start, jira.project, func(n *testNode) {
		n.sandboxOptions = append(n.sandboxOptions, jirasandbox.WithSearchLag(2*time.Second))
		n.trackerClient = &http.Client{Transport: &cutCreate{next: http.DefaultTransport}}
	})
	_, jtracker := jiraOf(t, b)
	jtracker.SetSearchLag(3 * time.Second)
	src, err := a.et().Create(ctxFor(t), engine.NewEntity{Project: connA.LocalProject, Summary: "cut before its answer"})
	if err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a, src.URL)
	// The demo seed has KAN-1 to KAN-6: the cut create made KAN-7, and a
	// second create would have made KAN-8. (Searching would not tell:
	// the search still lags.)
	if done.RemoteKey != "KAN-7" || read(t, b, "KAN-7").Summary != src.Summary {
		t.Errorf("the twin is %s, want KAN-7, the issue the cut create made", done.RemoteKey)
	}
	if _, err := b.et().Get(ctxFor(t), "KAN-8"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a second issue was made for one task: KAN-8 (%v)", err)
	}
	if !strings.Contains(b.log.String(), "adopting the twin an interrupted create made") {
		t.Error("the log doesn't say the cut create's issue was adopted")
	}
}
