package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/remote"
	"github.com/tandem-sync/tandem/engine"
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
