package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/remote"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

// TestFollowBulkOfMoreThanListed: a Bulk Exalate that started more syncs
// than the node lists (adminapi.BulkEventsListed) says how many it started,
// follows the listed ones, and does not call them all.
func TestFollowBulkOfMoreThanListed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"not yet"}`, http.StatusNotFound) // the status read before the stream
	}))
	defer srv.Close()
	c, err := remote.New(srv.URL, "tdm_admin_x")
	if err != nil {
		t.Fatal(err)
	}
	listed := engine.StageEvent{ConnectionID: "c1", EventID: "e1", Direction: "out", Stage: engine.StageSending, LocalKey: "101"}
	events := make(chan engine.StageEvent, 1)
	done := listed
	done.Stage, done.RemoteKey = engine.StageSynchronized, "201"
	events <- done
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wt := watch{idle: 5 * time.Second, progress: newProgressLine(&out)}
	err = followBulk(ctx, &out, c, events, engine.BulkStarted{Started: 25000, Events: []engine.StageEvent{listed}}, wt)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Bulk Exalate: 25000 items; following the first 1 here", "[1/1] 101 → 201", "The 1 items followed are Synchronized; 24999 more go on by themselves."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "All ") {
		t.Errorf("says all are Synchronized:\n%s", out.String())
	}
}

// TestFollowBulkAcrossACutStream: when the node closes the event stream
// mid-bulk (behind a load balancer, the replica serving it was stopped),
// exalate opens it again, reads the status of what moved meanwhile, and
// follows to the end, instead of failing with the syncs still going.
func TestFollowBulkAcrossACutStream(t *testing.T) {
	one := engine.StageEvent{ConnectionID: "c1", EventID: "e1", Direction: "out", Stage: engine.StageSending, LocalKey: "101"}
	two := engine.StageEvent{ConnectionID: "c1", EventID: "e2", Direction: "out", Stage: engine.StageSending, LocalKey: "102"}
	oneDone, twoDone := one, two
	oneDone.Stage, oneDone.RemoteKey = engine.StageSynchronized, "201"
	twoDone.Stage, twoDone.RemoteKey = engine.StageSynchronized, "202"
	var subscribes atomic.Int32
	cutOver := make(chan struct{}) // the first stream is closed: e1 is done
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case adminapi.PathEvents:
			subscribes.Add(1)
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			data, _ := json.Marshal(twoDone)
			fmt.Fprintf(w, "data: %s\n\n", data)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		case adminapi.SyncPath("c1", "e1"):
			select {
			case <-cutOver:
				_ = json.NewEncoder(w).Encode(engine.EventStatus{StageEvent: oneDone})
			default:
				http.Error(w, `{"error":"not yet"}`, http.StatusNotFound)
			}
		default:
			http.Error(w, `{"error":"not yet"}`, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	c, err := remote.New(srv.URL, "tdm_admin_x")
	if err != nil {
		t.Fatal(err)
	}
	// The first stream: nothing, then cut (closed) with e1 done meanwhile.
	first := make(chan engine.StageEvent)
	close(cutOver)
	close(first)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wt := watch{idle: 5 * time.Second, progress: newProgressLine(&out)}
	err = followBulk(ctx, &out, c, first, engine.BulkStarted{Started: 2, Events: []engine.StageEvent{one, two}}, wt)
	if err != nil {
		t.Fatalf("followBulk: %v\n%s", err, out.String())
	}
	for _, want := range []string{"following again", "101 → 201", "102 → 202", "All 2 items Synchronized."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if n := subscribes.Load(); n != 1 {
		t.Errorf("subscribed again %d times, want 1", n)
	}
}

// TestBulkExalateFromTheCommandLine: `tandem exalate --all` against a
// `tandem serve` queues the bulk, waits for every item's sync and follows
// each to Synchronized; with --wait=false it only queues it, in one line.
func TestBulkExalateFromTheCommandLine(t *testing.T) {
	// A paid plan's rate: the free plan's would make this a 25 s test.
	acmeAsana, acme, acmeToken, globex, globexToken := serveTwo(t, "--poll", "100ms", "--asana-rate-limit", "1500")
	if out, err := run(t, "connect", "--node", acme, "--admin-token", acmeToken, "--to", globex, "--dest-token", globexToken,
		"--dest-project", "Test", "--project", "Company"); err != nil {
		t.Fatalf("connect: %v\n%s", err, out)
	}
	tasks := seededTasks(t, acmeAsana)
	out, _ := run(t, "connections", "--json", "--node", acme, "--admin-token", acmeToken)
	var cs []engine.Connection
	if err := json.Unmarshal([]byte(out), &cs); err != nil || len(cs) != 1 {
		t.Fatalf("connections: %v %s", err, out)
	}
	out, err := run(t, "exalate", "--all", "--connection", cs[0].Name, "--node", acme, "--admin-token", acmeToken)
	if err != nil {
		t.Fatalf("exalate --all: %v\n%s", err, out)
	}
	if !strings.Contains(out, fmt.Sprintf("Bulk Exalate: %d items\n", len(tasks))) ||
		!strings.Contains(out, fmt.Sprintf("All %d items Synchronized.", len(tasks))) ||
		strings.Count(out, fmt.Sprintf("/%d] ", len(tasks))) != len(tasks) {
		t.Errorf("exalate --all of %d tasks:\n%s", len(tasks), out)
	}
	out, err = run(t, "exalate", "--all", "--wait=false", "--connection", cs[0].ID, "--node", acme, "--admin-token", acmeToken)
	if err != nil || !strings.HasPrefix(out, "Bulk Exalate queued (") || strings.Count(out, "\n") != 1 {
		t.Errorf("exalate --all --wait=false: %v\n%s", err, out)
	}
}

// TestWaitListedGivesUpWhenIdle: waiting for a Bulk Exalate's listing
// shows each failed try's error once and how many items it started, and
// stops waiting after --idle-timeout with no item started, saying the
// bulk goes on.
func TestWaitListedGivesUpWhenIdle(t *testing.T) {
	var reads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := adminapi.Bulk{ID: "b1", ConnectionID: "c1", Listing: true, Started: 3}
		if reads.Add(1) > 2 {
			b.Error = "listing Company: asana: 503 Service Unavailable; trying again"
		}
		json.NewEncoder(w).Encode(b)
	}))
	defer srv.Close()
	c, err := remote.New(srv.URL, "tdm_admin_x")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	wt := watch{idle: 400 * time.Millisecond, progress: newProgressLine(&out)}
	_, err = waitListed(context.Background(), &out, c, engine.Bulk{ID: "b1", ConnectionID: "c1", Listing: true}, wt)
	if err == nil || !strings.Contains(err.Error(), "no item started for 400ms (--idle-timeout)") ||
		!strings.Contains(err.Error(), "with 3 items started") || !strings.Contains(err.Error(), "goes on in the background") {
		t.Errorf("the wait's end: %v", err)
	}
	if got := out.String(); strings.Count(got, "503 Service Unavailable") != 1 || !strings.Contains(got, "Bulk Exalate: 3 items started") {
		t.Errorf("what the wait showed:\n%s", got)
	}
}
