package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/internal/trackers"
	"github.com/tandem-sync/tandem/store/pgtest"
)

// Several `tandem serve` replicas on one PostgreSQL database are one node
// (issue 18): these tests start replicas of a node on a database of
// their own (pgtest: skipped without TANDEM_TEST_DATABASE), each with its
// own data dir and listener.

// onDatabase puts a node on the database url instead of a SQLite file in
// its data dir. Give it after the options that set n.config.
func onDatabase(url string) func(*testNode) {
	return func(n *testNode) {
		prev := n.config
		n.config = func(c *engine.Config) {
			if prev != nil {
				prev(c)
			}
			c.Database = url
		}
	}
}

// replicaOf starts another replica of a's node: a's tracker sandbox and
// public URL, the database url, a data dir of its own; it listens on a's
// address when a is stopped (a replica taking over on the same host and
// port), on one of its own otherwise.
func replicaOf(t *testing.T, a *testNode, name, url string, opts ...func(*testNode)) *testNode {
	t.Helper()
	r := &testNode{dir: t.TempDir(), clock: a.clock, sb: a.sb, asanaURL: a.asanaURL}
	if a.srv == nil {
		r.url = a.url
	}
	public := a.url
	opts = append(opts, onDatabase(url), func(n *testNode) {
		prev := n.config
		n.config = func(c *engine.Config) {
			prev(c)
			c.URL = public // one node, one URL (behind a load balancer)
		}
	})
	return r.begin(t, name, opts)
}

// TestReplicasStartingAtOnceShareOneNodeKey: two replicas opening a
// fresh database at the same moment agree on one node key, kept in the
// database (neither writes node.key to its data dir), so a secret one
// seals the other opens.
func TestReplicasStartingAtOnceShareOneNodeKey(t *testing.T) {
	url := pgtest.URL(t)
	sb, err := fakeKind().Sandbox("127.0.0.1:0", trackers.SandboxSpec{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	dirs := []string{t.TempDir(), t.TempDir()}
	nodes := make([]*engine.Node, len(dirs))
	errs := make([]error, len(dirs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, dir := range dirs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			<-start
			nodes[i], errs[i] = engine.Open(ctx, engine.Config{DataDir: dir, Database: url, Name: "Acme",
				URL: "http://127.0.0.1:1", Tracker: sb.Tracker, Poll: -1, AdminToken: "tdm_admin_replicas_test"})
		})
	}
	close(start)
	wg.Wait()
	for i, n := range nodes {
		if n != nil {
			t.Cleanup(func() { n.Close() })
		}
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
	}
	if !engine.SameNodeKeyForTest(nodes[0], nodes[1]) || !engine.SameNodeKeyForTest(nodes[1], nodes[0]) {
		t.Fatal("the replicas seal with different node keys")
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "node.key")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a replica on PostgreSQL wrote node.key to its data dir (stat: %v)", err)
		}
	}
}

// TestReplicaTakesOverTheConnections: a replica started with a data dir
// of its own, once the first is gone, syncs on the connections the first
// made: it opens their keys, kept sealed with the node key, which it
// finds in the database.
func TestReplicaTakesOverTheConnections(t *testing.T) {
	url := pgtest.URL(t)
	a := startNode(t, "Acme", &clock{}, onDatabase(url))
	b := startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	a.stop()
	a2 := replicaOf(t, a, "Acme", url)
	ids, err := a2.et().List(ctx, connA.LocalProject)
	if err != nil || len(ids) == 0 {
		t.Fatalf("the Company project's tasks: %v, %v", ids, err)
	}
	src, err := a2.et().Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a2, src.URL)
	if _, err := b.et().Get(ctx, done.RemoteKey); err != nil {
		t.Errorf("the twin on Globex: %v", err)
	}
}

// TestSQLiteKeepsItsNodeKeyFile: on SQLite the node key stays in node.key
// beside the database, none in it, and a data dir from before the key
// could live in the database (schema 12: no node_key table) opens with
// its key and its connections as they were.
func TestSQLiteKeepsItsNodeKeyFile(t *testing.T) {
	a, _, connA, _ := connected(t)
	ctx := ctxFor(t)
	keyFile := filepath.Join(a.dir, "node.key")
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatalf("the SQLite node's node.key: %v", err)
	}
	if n := dbCount(t, a, `SELECT COUNT(*) FROM node_key`); n != 0 {
		t.Errorf("%d node keys in the SQLite database, want none (the key stays in its file)", n)
	}
	connKey, err := engine.ConnectionKeyForTest(ctx, a.Node, connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Back to the layout of schema 12.
	db := a.Store().DB()
	for _, q := range []string{`DROP TABLE node_key`, `DROP TABLE webhook_pending`, `DROP TABLE bulk_items`, `DROP TABLE bulks`, `DELETE FROM schema_migrations WHERE version >= 13`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	a.stop()
	a.start(t, "Acme")
	if again, err := os.ReadFile(keyFile); err != nil || string(again) != string(key) {
		t.Fatalf("node.key after reopening the old layout: changed %v, err %v", string(again) != string(key), err)
	}
	if got, err := engine.ConnectionKeyForTest(ctx, a.Node, connA.ID); err != nil || string(got) != string(connKey) {
		t.Fatalf("the connection key after reopening: same %v, err %v", string(got) == string(connKey), err)
	}
	if n := dbCount(t, a, `SELECT COUNT(*) FROM node_key`); n != 0 {
		t.Errorf("%d node keys in the migrated SQLite database, want none", n)
	}
}

// countingChanges counts a node's reads of what changed in its tracker:
// the work of change detection.
type countingChanges struct {
	*asana.Tracker
	n *atomic.Int64
}

func (c countingChanges) Changes(ctx context.Context, project, cursor string) (engine.Changes, error) {
	c.n.Add(1)
	return c.Tracker.Changes(ctx, project, cursor)
}

// countChanges has a node count its reads of what changed into n.
func countChanges(n *atomic.Int64) func(*testNode) {
	return func(t *testNode) {
		t.wrap = func(tr *asana.Tracker) engine.Tracker { return countingChanges{tr, n} }
	}
}

// TestOneReplicaDetects: of two replicas of a node, one detects changes,
// the other not at all; when the one detecting stops, the other takes
// over and syncs the next change.
func TestOneReplicaDetects(t *testing.T) {
	url := pgtest.URL(t)
	var firstReads, secondReads atomic.Int64
	a := startNode(t, "Acme", &clock{}, countChanges(&firstReads), onDatabase(url))
	b := startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	a2 := replicaOf(t, a, "Acme", url, countChanges(&secondReads))
	from := firstReads.Load()
	eventually(t, "20 rounds of change detection on the first replica", func() bool { return firstReads.Load() >= from+20 })
	if n := secondReads.Load(); n != 0 {
		t.Fatalf("the second replica read the tracker's changes %d times while the first detected", n)
	}
	if !a.Leads() || a2.Leads() {
		t.Fatalf("the first replica leads: %v, the second: %v; want the first only", a.Leads(), a2.Leads())
	}

	a.stop()
	if _, err := a2.SetTrigger(ctx, connA.ID, true); err != nil {
		t.Fatal(err)
	}
	made, err := a2.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: "Made after the leader stopped"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second replica to sync the new task", func() bool {
		return dbCount(t, a2, `SELECT COUNT(*) FROM sync_events WHERE direction = 'out' AND entity_id = ?`, made.ID) > 0
	})
	if secondReads.Load() == 0 {
		t.Error("the new task synced, but the second replica never read the changes")
	}
	if !a2.Leads() {
		t.Error("the second replica detects but does not say it leads")
	}
}

// named is the database URL with an application_name, so a test can find
// one replica's sessions in pg_stat_activity.
func named(t *testing.T, url, name string) string {
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestDetectionMovesWhenTheLeadersSessionDies: the database ends every
// session of the replica detecting changes, as it does when that process
// is killed or cut off; the other replica takes the lead, and the first,
// its lead gone, detects no more.
func TestDetectionMovesWhenTheLeadersSessionDies(t *testing.T) {
	url := pgtest.URL(t)
	var firstReads, secondReads atomic.Int64
	a := startNode(t, "Acme", &clock{}, countChanges(&firstReads), onDatabase(named(t, url, "first")))
	b := startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	if _, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"}); err != nil {
		t.Fatal(err)
	} else if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	a2 := replicaOf(t, a, "Acme", named(t, url, "second"), countChanges(&secondReads))
	from := firstReads.Load()
	eventually(t, "rounds of change detection on the first replica", func() bool { return firstReads.Load() >= from+5 })

	db := a2.Store().DB()
	eventually(t, "the second replica to take the lead", func() bool {
		if secondReads.Load() > 0 {
			return true
		}
		// The first may take the lead back before the second tries: cut
		// it off again.
		if _, err := db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = 'first'`); err != nil {
			t.Fatal(err)
		}
		return false
	})
	// A round the first had started may finish; then it reads no more.
	mark := secondReads.Load()
	eventually(t, "rounds on the second replica", func() bool { return secondReads.Load() >= mark+5 })
	firstNow, mark := firstReads.Load(), secondReads.Load()
	eventually(t, "more rounds on the second replica", func() bool { return secondReads.Load() >= mark+20 })
	if n := firstReads.Load() - firstNow; n != 0 {
		t.Errorf("the first replica read the changes %d times after the second took the lead", n)
	}
}

// replicaTestJob is a job no worker of the node knows: one the test marks
// running, as a replica at work on it does.
type replicaTestJob struct{}

func (replicaTestJob) Kind() string { return "replica_test_job" }

// TestSecondReplicaLeavesTheFirstsRunningJobs: a replica starting on the
// database does not take the jobs another replica is running for ones a
// killed run left behind, as the start-up requeue of a SQLite node does:
// the job stays running, to River's rescue should its replica die.
func TestSecondReplicaLeavesTheFirstsRunningJobs(t *testing.T) {
	url := pgtest.URL(t)
	a := startNode(t, "Acme", &clock{}, onDatabase(url))
	ctx := ctxFor(t)
	inserter, err := a.Store().NewRiverClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	var jobID int64
	err = a.Store().InTx(ctx, func(tx *sql.Tx) error {
		res, err := inserter.InsertTx(ctx, tx, replicaTestJob{}, nil)
		if err != nil {
			return err
		}
		jobID = res.Job.ID
		// Running, as a replica's fetch leaves it; committed so, no
		// worker ever sees it available.
		_, err = tx.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1,
			attempted_at = now(), attempted_by = ARRAY[?] WHERE id = ?`, engine.RiverClientIDForTest(a.Node), jobID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	replicaOf(t, a, "Acme", url)
	var state string
	if err := a.Store().DB().QueryRowContext(ctx, `SELECT state FROM river_job WHERE id = ?`, jobID).Scan(&state); err != nil {
		t.Fatal(err)
	}
	if state != "running" {
		t.Errorf("the first replica's running job is %s after the second started, want running", state)
	}
}

// TestFollowerKnowsTheLeadersNewWebhook: a delivery for a webhook the
// leader established after another replica started reaches that replica
// (behind a load balancer, any may get it): the replica finds the token
// in the database and checks the signature, where answering 410 Gone to
// an unknown token would have the tracker delete a live webhook.
func TestFollowerKnowsTheLeadersNewWebhook(t *testing.T) {
	url := pgtest.URL(t)
	hooked := func(n *testNode) {
		n.config = func(c *engine.Config) {
			c.Poll, c.PollMax, c.Webhooks, c.HookPollMax = testPoll, testPollMax, true, testHookPollMax
		}
	}
	a := startNode(t, "Acme", &clock{}, hooked, onDatabase(url))
	a2 := replicaOf(t, a, "Acme", url, hooked)
	b := startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	connA, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	waitHooked(t, a, connA.LocalProject)
	if n := a2.Hooks().Alive; n != 0 {
		t.Fatalf("the follower keeps %d webhooks, want none (the leader keeps them)", n)
	}
	var token string
	if err := a2.Store().DB().QueryRowContext(ctx, `SELECT token FROM webhooks`).Scan(&token); err != nil {
		t.Fatal(err)
	}
	events := `{"events":[{"action":"changed","resource":{"gid":"1","resource_type":"task"}}]}`
	for _, tc := range []struct {
		token, signature string
		want             int
	}{
		{token, sandbox.Sign("not the secret", []byte(events)), http.StatusUnauthorized},
		{"made-up", sandbox.Sign("not the secret", []byte(events)), http.StatusGone},
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, a2.url+engine.PathHooks+tc.token, strings.NewReader(events))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Hook-Signature", tc.signature)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("a forged delivery on the follower for token %q: %d, want %d", tc.token, res.StatusCode, tc.want)
		}
	}
	if n := a2.Hooks().Refused; n != 1 {
		t.Errorf("the follower counted %d refused signatures, want 1", n)
	}
}

// TestLeaderRequeuesAStoppedReplicasJobs: a job left running by a replica
// that is gone (its session ended) runs again within a few ticks, made
// available by the leader; a live replica's running job is left alone,
// until that replica stops.
func TestLeaderRequeuesAStoppedReplicasJobs(t *testing.T) {
	url := pgtest.URL(t)
	a := startNode(t, "Acme", &clock{}, onDatabase(url))
	a2 := replicaOf(t, a, "Acme", url)
	ctx := ctxFor(t)
	inserter, err := a.Store().NewRiverClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	running := func(by string) int64 {
		var id int64
		err := a.Store().InTx(ctx, func(tx *sql.Tx) error {
			res, err := inserter.InsertTx(ctx, tx, replicaTestJob{}, nil)
			if err != nil {
				return err
			}
			id = res.Job.ID
			_, err = tx.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1,
				attempted_at = now(), attempted_by = ARRAY[?] WHERE id = ?`, by, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	stillRunning := func(id int64, by string) bool {
		return dbCount(t, a, `SELECT COUNT(*) FROM river_job WHERE id = ? AND state = 'running'
			AND attempted_by[array_upper(attempted_by, 1)] = ?`, id, by) == 1
	}
	second := engine.RiverClientIDForTest(a2.Node)
	dead := running("a-replica-gone")
	live := running(second)
	eventually(t, "the leader to requeue the gone replica's job", func() bool { return !stillRunning(dead, "a-replica-gone") })
	if !stillRunning(live, second) {
		t.Fatal("the leader requeued the job a live replica is running")
	}
	a2.stop()
	eventually(t, "the leader to requeue the stopped replica's job", func() bool { return !stillRunning(live, second) })
}
