package jira

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/apiclient"
)

func TestDecodeError(t *testing.T) {
	body := `{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{},"status":404}`
	e := decodeError("GET", "/issue/KAN-9", 404, http.Header{}, []byte(body))
	if !errors.Is(e, ErrNotFound) || errors.Is(e, ErrUnauthorized) || len(e.Messages) != 1 ||
		!strings.Contains(e.Error(), "does not exist") || !strings.Contains(e.Error(), "/issue/KAN-9") {
		t.Errorf("404: %#v %q", e, e.Error())
	}
	e = decodeError("POST", "/issue", 400, http.Header{}, []byte(`{"errorMessages":[],"errors":{"summary":"You must specify a summary of the issue.","issuetype":"Specify a valid issue type"}}`))
	if !errors.Is(e, ErrInvalidRequest) || len(e.Fields) != 2 || e.Error() != "jira: POST /issue: 400 issuetype: Specify a valid issue type; summary: You must specify a summary of the issue." {
		t.Errorf("400 with fields: %q", e.Error())
	}
	e = decodeError("GET", "/myself", 429, http.Header{"Retry-After": {"7"}}, []byte("<html>\n  slow   down\n</html>"))
	if !errors.Is(e, ErrRateLimited) || e.RetryAfter != 7*time.Second || e.Messages[0] != "<html> slow down </html>" {
		t.Errorf("429 from a proxy: %#v", e)
	}
	e = decodeError("GET", "/myself", 401, http.Header{}, nil)
	if !errors.Is(e, ErrUnauthorized) || !strings.Contains(e.Error(), "Unauthorized") {
		t.Errorf("401 without a body: %q", e.Error())
	}
	for status, want := range map[int]error{409: ErrConflict, 413: ErrTooLarge, 422: ErrInvalidRequest, 403: ErrForbidden, 502: ErrServer} {
		if e := decodeError("PUT", "/x", status, http.Header{}, nil); !errors.Is(e, want) {
			t.Errorf("%d does not match %v", status, want)
		}
	}
	if e := (&Error{Status: 500, OutcomeUnknown: true}); !errors.Is(e, ErrOutcomeUnknown) || !errors.Is(e, ErrServer) {
		t.Errorf("an unknown outcome: %v", e)
	}
}

func TestParseRetryAfter(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 0, "3": 3 * time.Second, "-1": 0, "soon": 0, "0": 0} {
		if got := apiclient.ParseRetryAfter(http.Header{"Retry-After": {v}}); got != want {
			t.Errorf("Retry-After %q = %v, want %v", v, got, want)
		}
	}
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	if got := apiclient.ParseRetryAfter(http.Header{"Retry-After": {date}}); got < 58*time.Minute {
		t.Errorf("Retry-After as a date = %v", got)
	}
}

func TestDecodeIssueShapes(t *testing.T) {
	// The comment field as Jira sends it (an object) and as the spec's
	// example shows it (an array); ids as strings and numbers.
	for _, comment := range []string{
		`{"comments":[{"id":"1","body":null,"created":"2021-01-17T12:34:00.000+0000","updated":"2021-01-17T12:34:00.000+0000"}],"maxResults":1,"total":3,"startAt":0}`,
		`[{"id":1,"created":"2021-01-17T12:34:00.000+0000","updated":"2021-01-17T12:35:00.000+0530"}]`,
	} {
		body := fmt.Sprintf(`{"id":"10004","key":"KAN-5","fields":{"summary":"s","updated":"2021-01-17T12:34:00.123+0100","comment":%s,"attachment":[{"id":10000,"filename":"a.txt","size":3}]}}`, comment)
		var is Issue
		if err := json.Unmarshal([]byte(body), &is); err != nil {
			t.Fatalf("%s: %v", comment, err)
		}
		if is.ID != "10004" || len(is.Fields.Comment.Comments) != 1 || is.Fields.Comment.Comments[0].ID != "1" ||
			is.Fields.Attachment[0].ID != "10000" || is.Fields.Updated.UnixMilli()%1000 != 123 {
			t.Errorf("%s: %+v", comment, is)
		}
	}
	var tm Time
	if err := json.Unmarshal([]byte(`"17 Jan 2021"`), &tm); err == nil {
		t.Error("a date in another layout was accepted")
	}
	if b, _ := json.Marshal(Time{time.Date(2021, 1, 17, 12, 34, 0, 0, time.UTC)}); string(b) != `"2021-01-17T12:34:00.000+0000"` {
		t.Errorf("Time marshals as %s", b)
	}
}

func TestIssueRefs(t *testing.T) {
	for s, want := range map[string]bool{"KAN-1": true, "K2_X-19": true, "kan-1": false, "1KAN-1": false, "KAN-01x": false, "KAN-0": false, "KAN--1": false, "-1": false} {
		if got := isIssueKey(s); got != want {
			t.Errorf("isIssueKey(%q) = %v", s, got)
		}
	}
	if err := checkIssue("10004/comment"); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("checkIssue of a path: %v", err)
	}
}

func TestJQLString(t *testing.T) {
	if got := jqlString(`say "hi" \ bye`); got != `"say \"hi\" \\ bye"` {
		t.Errorf("jqlString = %s", got)
	}
}

func TestCursorRoundTripAndBound(t *testing.T) {
	last := time.UnixMilli(1_700_000_000_123)
	c := cursor{last: last, seen: map[string]int64{"10004": last.UnixMilli(), "10005": last.UnixMilli() - 1}}
	got, ok := parseCursor(c.String())
	if !ok || !got.last.Equal(last) || len(got.seen) != 2 || got.seen["10005"] != last.UnixMilli()-1 {
		t.Errorf("round trip of %q: %+v %v", c.String(), got, ok)
	}
	for _, bad := range []string{"", "j1", "j2:1:", "j1:x:", "j1:0:", "j1:5:10004", "j1:5:abc@1", "j1:5:1@x"} {
		if _, ok := parseCursor(bad); ok {
			t.Errorf("parseCursor(%q) accepted", bad)
		}
	}
	big := cursor{last: last, seen: map[string]int64{}}
	for i := range maxSeen + 500 {
		big.seen[fmt.Sprint(10000+i)] = last.UnixMilli() - int64(i)
	}
	back, ok := parseCursor(big.String())
	if !ok || len(back.seen) != maxSeen || back.seen["10000"] == 0 {
		t.Errorf("a cursor over the bound keeps %d (want %d, the newest)", len(back.seen), maxSeen)
	}
}

func TestReconcileIssuesBounded(t *testing.T) {
	c, err := New(Config{BaseURL: "https://acme.atlassian.net", Email: "a@b.c", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	c.wrote("KAN-1") // a key: reconcileIssues takes ids only
	for i := range 70 {
		c.wrote(fmt.Sprint(10000 + i))
	}
	c.writeMu.Lock()
	c.written[1] = time.Now().Add(-2 * time.Minute)
	c.writeMu.Unlock()
	ids := c.recentWrites()
	if len(ids) != maxReconcile || ids[0] != 10069 {
		t.Errorf("recentWrites = %d ids starting %v, want the newest %d", len(ids), ids[:1], maxReconcile)
	}
	for _, id := range ids {
		if id == 1 {
			t.Error("a write older than a minute is still reconciled")
		}
	}
}
