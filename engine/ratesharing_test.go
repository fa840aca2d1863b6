package engine_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/store/pgtest"
)

// countReplicasEvery has a node count its live replicas every d.
func countReplicasEvery(d time.Duration) func(*testNode) {
	return func(n *testNode) {
		prev := n.config
		n.config = func(c *engine.Config) {
			if prev != nil {
				prev(c)
			}
			c.ReplicaCheck = d
		}
	}
}

// withBudget gives a node's Asana client a budget of rpm requests a
// minute (95% of it spent).
func withBudget(rpm int) func(*testNode) { return func(n *testNode) { n.rpm = rpm } }

// TestReplicasShareTheTrackerBudget: two replicas of a node on PostgreSQL
// each tell their tracker that two share its token, so each Asana client
// spends half the budget and holds half the concurrent requests Asana
// allows a token, and each says so once in its log; when one stops, the
// other takes the whole budget back within a few counts.
func TestReplicasShareTheTrackerBudget(t *testing.T) {
	url := pgtest.URL(t)
	const tick = 20 * time.Millisecond
	// A budget far above what the test asks for: 57,000 a minute, a
	// burst of 3,000.
	opts := []func(*testNode){withBudget(60_000), onDatabase(url), countReplicasEvery(tick)}
	a := startNode(t, "Acme", &clock{}, opts...)
	whole := asana.Budget{Parts: 1, PerMinute: 57_000, Burst: 3000, Reads: asana.MaxConcurrentReads, Writes: asana.MaxConcurrentWrites}
	if got := a.client.Budget(); got != whole {
		t.Fatalf("one replica alone: its client's budget is %+v, want the whole %+v", got, whole)
	}
	b := replicaOf(t, a, "Acme", url, opts...)
	half := asana.Budget{Parts: 2, PerMinute: 28_500, Burst: 1500, Reads: asana.MaxConcurrentReads / 2, Writes: asana.MaxConcurrentWrites / 2}
	// b counted both when it started, a within a tick or two.
	if got := b.client.Budget(); got != half {
		t.Errorf("the replica started second: its client's budget is %+v, want %+v", got, half)
	}
	eventually(t, "the first replica to share the budget", func() bool { return a.client.Budget() == half })
	for _, n := range []*testNode{a, b} {
		if got := gauge(t, n.url, "tandem_replicas"); got != "2" {
			t.Errorf("tandem_replicas %s on /metrics, want 2", got)
		}
	}
	for _, n := range []*testNode{a, b} {
		if got := strings.Count(n.log.String(), "tracker budget shared among 2 replicas: 28500 requests/min each"); got != 1 {
			t.Errorf("%d log lines say the budget is shared among 2, want 1:\n%s", got, n.log.String())
		}
	}

	b.stop() // its hold's session is closed by the time stop returns
	stopped := time.Now()
	eventually(t, "the replica left to take the whole budget back", func() bool { return a.client.Budget() == whole })
	if took := time.Since(stopped); took > 100*tick {
		t.Errorf("the replica left took %v to take the whole budget back, over 100 counts of %v", took, tick)
	}
	if got := gauge(t, a.url, "tandem_replicas"); got != "1" {
		t.Errorf("tandem_replicas %s on /metrics after the other stopped, want 1", got)
	}
	if !strings.Contains(a.log.String(), "tracker budget no longer shared, one replica live: 57000 requests/min") {
		t.Errorf("the replica left did not log that it has the whole budget:\n%s", a.log.String())
	}
}

// gauge reads an unlabelled metric's value from a node's /metrics; "" if
// it is not there.
func gauge(t *testing.T, nodeURL, name string) string {
	t.Helper()
	resp, err := http.Get(nodeURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			return v
		}
	}
	return ""
}
