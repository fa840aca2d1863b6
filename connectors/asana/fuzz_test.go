package asana_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana"
)

// The seed corpus lives in testdata/fuzz/FuzzResponses/ so that plain
// `go test` replays it; `go test -fuzz=FuzzResponses` grows it.

// fuzzStatuses are the answers' status codes, picked by index: successes,
// the errors Asana documents, and the ones the client retries (retries are
// off and backoff is a nanosecond, so they cost nothing).
var fuzzStatuses = []int{200, 201, 400, 401, 402, 403, 404, 412, 429, 500, 503, 204}

// fuzzCalls are the client calls the tracker makes, by index.
var fuzzCalls = []string{"task", "project tasks", "comments", "attachments", "events", "create task", "story task"}

// maxRequests is more requests than any one call should make of an
// answer that never changes (a list: its page, then the same page again).
const maxRequests = 2

// sameAnswer answers every request with one status and body, and counts
// the requests. Past maxRequests it fails them, so a call that loops ends.
type sameAnswer struct {
	status   int
	body     []byte
	requests int
}

func (a *sameAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	a.requests++
	if a.requests > maxRequests {
		return nil, errors.New("too many requests")
	}
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: a.status, Status: http.StatusText(a.status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)), Request: r}, nil
}

// dataOf is an answer's data member decoded as encoding/json would, or
// nil when the body is not an object with a data member that isn't null.
func dataOf(body []byte) json.RawMessage {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Data) == 0 || string(env.Data) == "null" {
		return nil
	}
	return env.Data
}

// sameJSON fails unless got encodes as want does; an empty list is an
// empty list, nil or not.
func sameJSON(t *testing.T, what string, body []byte, got, want any) {
	t.Helper()
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(want)
	if string(g) == "null" {
		g = []byte("[]")
	}
	if string(w) == "null" {
		w = []byte("[]")
	}
	if err1 != nil || err2 != nil || !bytes.Equal(g, w) {
		t.Fatalf("%s: the client made %s of %q, the answer says %s (%v %v)", what, g, body, w, err1, err2)
	}
}

// FuzzResponses feeds the client arbitrary answers to the calls the
// tracker makes. No answer may panic it or make it loop; an error status
// is an *Error matching its sentinel; and a success is only ever what the
// answer really holds: an answer without data, or with an object that has
// no gid, is an error, never a zero value that would pass for a task.
func FuzzResponses(f *testing.F) {
	f.Add(uint8(0), uint8(0), []byte(`{"data":{"gid":"1","resource_type":"task","name":"A"}}`))
	f.Fuzz(func(t *testing.T, call, status uint8, body []byte) {
		ans := &sameAnswer{status: fuzzStatuses[int(status)%len(fuzzStatuses)], body: body}
		c, err := asana.New(asana.Config{BaseURL: "http://asana.invalid/api/1.0", Token: "t", RequestsPerMinute: -1,
			MaxRetries: -1, BackoffBase: 1, BackoffMax: 1, HTTPClient: &http.Client{Transport: ans}})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		what := fuzzCalls[int(call)%len(fuzzCalls)]
		ok2xx := ans.status/100 == 2

		var (
			got  any   // what the call returned
			want any   // what the answer holds, decoded independently
			cerr error // the call's error
		)
		data := dataOf(body)
		switch what {
		case "task", "create task":
			var task asana.Task
			if what == "task" {
				task, cerr = c.Task(ctx, "1")
			} else {
				task, cerr = c.CreateTask(ctx, asana.NewTask{Project: "2", Name: "n"})
			}
			var w asana.Task
			if cerr == nil && (data == nil || json.Unmarshal(data, &w) != nil || w.GID == "") {
				t.Fatalf("%s: %d %q gave %+v, but holds no task", what, ans.status, body, task)
			}
			got, want = task, w
		case "project tasks", "comments", "attachments":
			var (
				items any
				w     any
			)
			switch what {
			case "project tasks":
				items, cerr = c.ProjectTasks(ctx, "2", asana.TaskQuery{})
				w = new([]asana.Task)
			case "comments":
				items, cerr = c.Comments(ctx, "1")
				w = new([]asana.Story)
			default:
				items, cerr = c.Attachments(ctx, "1")
				w = new([]asana.Attachment)
			}
			if cerr != nil {
				break
			}
			var page struct {
				Data     []struct{ GID string }
				NextPage *struct{ Offset string } `json:"next_page"`
			}
			if data == nil || json.Unmarshal(data, w) != nil || json.Unmarshal(body, &page) != nil ||
				slices.ContainsFunc(page.Data, func(o struct{ GID string }) bool { return o.GID == "" }) {
				t.Fatalf("%s: %d %q gave %+v, but holds no list of objects with gids", what, ans.status, body, items)
			}
			if page.NextPage != nil && page.NextPage.Offset != "" {
				t.Fatalf("%s: %d %q gave %+v, but the next page repeats this one", what, ans.status, body, items)
			}
			if stories, ok := w.(*[]asana.Story); ok {
				*stories = slices.DeleteFunc(*stories, func(s asana.Story) bool { return s.Type != asana.StoryTypeComment })
			}
			got, want = items, w
		case "events":
			var p asana.EventPage
			p, cerr = c.Events(ctx, "2", "token")
			if cerr != nil {
				break
			}
			var w struct {
				Data    *[]asana.Event
				Sync    string
				HasMore bool `json:"has_more"`
			}
			if json.Unmarshal(body, &w) != nil || w.Sync == "" || p.Sync != w.Sync {
				t.Fatalf("events: %d %q gave %+v, but holds no sync token", ans.status, body, p)
			}
			switch {
			case ans.status == http.StatusPreconditionFailed:
				if !p.Reset || p.Events != nil || p.HasMore {
					t.Fatalf("events: 412 %q gave %+v, want only a reset with the new token", body, p)
				}
			case !ok2xx || p.Reset || w.Data == nil:
				t.Fatalf("events: %d %q gave %+v", ans.status, body, p)
			default:
				got, want = p, asana.EventPage{Events: *w.Data, Sync: w.Sync, HasMore: w.HasMore}
			}
		case "story task":
			var id string
			id, cerr = c.StoryTask(ctx, "3")
			var w struct{ Target *asana.Ref }
			if cerr == nil && (data == nil || json.Unmarshal(data, &w) != nil || w.Target == nil || w.Target.GID != id || id == "") {
				t.Fatalf("story task: %d %q gave task %q", ans.status, body, id)
			}
		}

		if ans.requests > maxRequests {
			t.Fatalf("%s: %d requests for one call to an answer that never changes: %d %q", what, ans.requests, ans.status, body)
		}
		if cerr == nil {
			if !ok2xx && !(what == "events" && ans.status == http.StatusPreconditionFailed) {
				t.Fatalf("%s: %d %q was taken for a success", what, ans.status, body)
			}
			if got != nil {
				sameJSON(t, what, body, got, want)
			}
			return
		}
		var e *asana.Error
		switch {
		case ok2xx:
			if errors.As(cerr, &e) {
				t.Fatalf("%s: %d %q gave an Asana error answer: %v", what, ans.status, body, cerr)
			}
		case !errors.As(cerr, &e) || e.Status != ans.status:
			t.Fatalf("%s: %d %q gave %v, not an Asana error with that status", what, ans.status, body, cerr)
		default:
			sentinels := map[int]error{400: asana.ErrInvalidRequest, 401: asana.ErrUnauthorized, 402: asana.ErrPaymentRequired,
				403: asana.ErrForbidden, 404: asana.ErrNotFound, 429: asana.ErrRateLimited, 500: asana.ErrServer, 503: asana.ErrServer}
			if s, ok := sentinels[ans.status]; ok && !errors.Is(cerr, s) {
				t.Fatalf("%s: %d gave %v, which does not match %v", what, ans.status, cerr, s)
			}
			if unknown := what == "create task" && ans.status == 500; unknown != errors.Is(cerr, asana.ErrOutcomeUnknown) {
				t.Fatalf("%s: %d gave %v; outcome unknown should be %v", what, ans.status, cerr, unknown)
			}
		}
	})
}
