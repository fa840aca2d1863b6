package jira_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/jira"
	"github.com/tandem-sync/tandem/connectors/jira/sandbox"
	"github.com/tandem-sync/tandem/engine/tracker"
)

// jqlLog records the JQL of every search a client sends.
type jqlLog struct {
	mu   sync.Mutex
	jqls []string
}

func (l *jqlLog) transport(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var s struct {
			JQL string `json:"jql"`
		}
		if json.Unmarshal(body, &s) == nil && s.JQL != "" {
			l.mu.Lock()
			l.jqls = append(l.jqls, s.JQL)
			l.mu.Unlock()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (l *jqlLog) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.jqls) == 0 {
		return ""
	}
	return l.jqls[len(l.jqls)-1]
}

func TestTrackerChanges(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)

	first, err := tr.Changes(c, "KAN", "")
	if err != nil || !first.Reset || first.Cursor == "" || len(first.IDs) != 0 {
		t.Fatalf("first Changes = %+v, %v; want Reset with a cursor", first, err)
	}
	if bad, err := tr.Changes(c, "KAN", "not a cursor"); err != nil || !bad.Reset || bad.Cursor == "" {
		t.Errorf("Changes with a foreign cursor = %+v, %v; want Reset", bad, err)
	}
	a, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Create(c, tracker.NewEntity{Project: "OPS", Summary: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	ch, err := tr.Changes(c, "KAN", first.Cursor)
	if err != nil || ch.Reset || !slices.Equal(slices.Sorted(slices.Values(ch.IDs)), []string{a.ID, b.ID}) {
		t.Fatalf("Changes after two creates = %+v, %v; want %s and %s", ch, err, a.ID, b.ID)
	}
	// Both are still in the overlap window: the cursor remembers them.
	again, err := tr.Changes(c, "KAN", ch.Cursor)
	if err != nil || len(again.IDs) != 0 {
		t.Fatalf("Changes with nothing new = %+v, %v; want no ids", again, err)
	}
	// A comment moves its issue's updated; it is reported once more.
	if _, err := tr.AddComment(c, a.ID, "<body>hi</body>"); err != nil {
		t.Fatal(err)
	}
	ch, err = tr.Changes(c, "KAN", again.Cursor)
	if err != nil || !slices.Equal(ch.IDs, []string{a.ID}) {
		t.Fatalf("Changes after a comment = %+v, %v; want [%s]", ch, err, a.ID)
	}
	s := "b2"
	if _, err := tr.Update(c, b.ID, tracker.EntityUpdate{Summary: &s}); err != nil {
		t.Fatal(err)
	}
	ch, err = tr.Changes(c, "KAN", ch.Cursor)
	if err != nil || !slices.Equal(ch.IDs, []string{b.ID}) {
		t.Fatalf("Changes after an update = %+v, %v; want [%s]", ch, err, b.ID)
	}
}

func TestTrackerChangedSinceToTheMillisecond(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	a, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "same minute"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tr.Get(c, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	at := got.ModifiedAt
	ids, err := tr.ChangedSince(c, "KAN", at)
	if err != nil || !slices.Equal(ids, []string{a.ID}) {
		t.Errorf("ChangedSince(its update) = %v, %v; want [%s]", ids, err, a.ID)
	}
	// JQL compares minutes; a time later in the same minute must not
	// match.
	ids, err = tr.ChangedSince(c, "KAN", at.Add(time.Millisecond))
	if err != nil || len(ids) != 0 {
		t.Errorf("ChangedSince(1 ms after its update) = %v, %v; want none", ids, err)
	}
	old, err := tr.ChangedSince(c, "KAN", at.Add(-time.Hour))
	if err != nil || !slices.Equal(old, []string{a.ID}) {
		t.Errorf("ChangedSince(an hour before) = %v, %v", old, err)
	}
	found, err := tr.FindBySummary(c, "KAN", "same minute", at.Add(-time.Minute))
	if err != nil || !slices.Equal(found, []string{a.ID}) {
		t.Errorf("FindBySummary = %v, %v", found, err)
	}
	// "same minute " would have been stored as "same minute" (see
	// TestTrackerSummariesAsJiraStoresThem), so it is not in this list.
	for _, other := range []string{"same", "same minutes", `same "minute"`, `back\slash`} {
		if found, err := tr.FindBySummary(c, "KAN", other, at.Add(-time.Minute)); err != nil || len(found) != 0 {
			t.Errorf("FindBySummary(%q) = %v, %v; want an exact match only", other, found, err)
		}
	}
}

var jqlDate = regexp.MustCompile(`updated >= "(\d{4}-\d\d-\d\d \d\d:\d\d)"`)

// TestTrackerChangesInTheUsersTimeZone checks that JQL dates are written
// in the account's zone, to the minute, east and west of UTC: a date
// written in UTC would be read hours off and miss changes.
func TestTrackerChangesInTheUsersTimeZone(t *testing.T) {
	for _, zone := range []string{"Asia/Kolkata", "America/Los_Angeles"} {
		t.Run(zone, func(t *testing.T) {
			var log jqlLog
			e := start(t, func(c *jira.Config) {
				c.HTTPClient = &http.Client{Transport: roundTrip(log.transport)}
			}, sandbox.WithSeed("empty"), sandbox.WithTimeZone(zone))
			c := ctx(t)
			tr, _ := e.tracker(t)
			loc, _ := time.LoadLocation(zone)

			first, err := tr.Changes(c, "KAN", "")
			if err != nil {
				t.Fatal(err)
			}
			a, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "zoned"})
			if err != nil {
				t.Fatal(err)
			}
			ch, err := tr.Changes(c, "KAN", first.Cursor)
			if err != nil || !slices.Equal(ch.IDs, []string{a.ID}) {
				t.Fatalf("Changes = %+v, %v; want [%s]", ch, err, a.ID)
			}
			m := jqlDate.FindStringSubmatch(log.last())
			if m == nil {
				t.Fatalf("JQL %q has no minute-precision date", log.last())
			}
			when, err := time.ParseInLocation("2006-01-02 15:04", m[1], loc)
			if err != nil {
				t.Fatal(err)
			}
			// The window opens two minutes before the cursor's time (now,
			// at the reset), rounded down to the minute, in zone.
			if d := time.Since(when); d < 2*time.Minute || d > 4*time.Minute {
				t.Errorf("JQL date %s in %s is %v ago, want 2 to 3 minutes", m[1], zone, d)
			}
			got, err := tr.Get(c, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			ids, err := tr.ChangedSince(c, "KAN", got.ModifiedAt.Add(-30*time.Second))
			if err != nil || !slices.Equal(ids, []string{a.ID}) {
				t.Errorf("ChangedSince = %v, %v", ids, err)
			}
			if m := jqlDate.FindStringSubmatch(log.last()); m == nil ||
				m[1] != got.ModifiedAt.Add(-30*time.Second).In(loc).Format("2006-01-02 15:04") {
				t.Errorf("ChangedSince JQL %q, want the time in %s", log.last(), zone)
			}
		})
	}
}

// TestTrackerChangesReconcilesItsOwnWrites runs against a search index
// that lags an hour: only what this client wrote (reconcileIssues) is
// found.
func TestTrackerChangesReconcilesItsOwnWrites(t *testing.T) {
	e := start(t, nil, sandbox.WithSeed("empty"), sandbox.WithSearchLag(time.Hour))
	c := ctx(t)
	tr, _ := e.tracker(t)
	first, err := tr.Changes(c, "KAN", "")
	if err != nil {
		t.Fatal(err)
	}
	mine, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.another(t).CreateIssue(c, jira.NewIssue{Project: "KAN", Type: "Task", Summary: "theirs"})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := tr.Changes(c, "KAN", first.Cursor)
	if err != nil || !slices.Equal(ch.IDs, []string{mine.ID}) {
		t.Errorf("Changes = %+v, %v; want only [%s] (not the lagging %s)", ch, err, mine.ID, other.ID)
	}
	found, err := tr.FindBySummary(c, "KAN", "mine", time.Now().Add(-time.Minute))
	if err != nil || !slices.Equal(found, []string{mine.ID}) {
		t.Errorf("FindBySummary of a create this client made: %v, %v", found, err)
	}
}

// aheadClock answers /serverInfo itself, with Jira's clock an hour ahead
// of this machine's, and passes everything else on.
type aheadClock struct{ next http.RoundTripper }

func (a aheadClock) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Path, "/serverInfo") {
		return a.next.RoundTrip(r)
	}
	body := `{"baseUrl":"http://x","serverTitle":"Acme","deploymentType":"Cloud","version":"1001.0.0","serverTime":"` +
		time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000-0700") + `"}`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// A first round starts its cursor at Jira's present, not this machine's:
// with clocks apart by more than the overlap, starting from ours would
// miss or repeat changes.
func TestTrackerChangesStartOnJirasClock(t *testing.T) {
	e := start(t, func(c *jira.Config) { c.HTTPClient = &http.Client{Transport: aheadClock{http.DefaultTransport}} })
	tr, _ := e.tracker(t)
	ch, err := tr.Changes(ctx(t), "KAN", "")
	if err != nil || !ch.Reset {
		t.Fatalf("first round: %+v, %v", ch, err)
	}
	ms, err := strconv.ParseInt(strings.Split(ch.Cursor, ":")[1], 10, 64)
	if err != nil {
		t.Fatalf("cursor %q: %v", ch.Cursor, err)
	}
	if ahead := time.UnixMilli(ms).Sub(time.Now()); ahead < 55*time.Minute || ahead > 65*time.Minute {
		t.Errorf("the cursor starts %v from this machine's clock, want about an hour ahead (Jira's)", ahead)
	}
}
