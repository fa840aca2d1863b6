package jira_test

import (
	"testing"

	"github.com/tandem-sync/tandem/connectors/jira"
)

// TestShareRateHalvesTheBudget: a tracker told that two replicas share its
// account has its client's limiter spend half the rate with half the
// burst; the requests in flight, the client's own bound and not Jira's
// per token, stay. Told one again, the whole budget.
func TestShareRateHalvesTheBudget(t *testing.T) {
	c, err := jira.New(jira.Config{BaseURL: "http://127.0.0.1:1", Email: "a@example.com", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	tr := jira.NewTracker(c, "")
	whole := c.Budget()
	if whole.PerMinute != jira.DefaultRequestsPerMinute || whole.Burst != 15 {
		t.Fatalf("the default budget is %+v, want %d a minute with a burst of 15", whole, jira.DefaultRequestsPerMinute)
	}
	if got := tr.ShareRate(2); got != whole.PerMinute/2 {
		t.Errorf("ShareRate(2) = %v a minute, want %v", got, whole.PerMinute/2)
	}
	want := jira.Budget{Parts: 2, PerMinute: 150, Burst: 7, Reads: jira.MaxConcurrentReads, Writes: jira.MaxConcurrentWrites}
	if half := c.Budget(); half != want {
		t.Errorf("the client's budget shared by 2 is %+v, want %+v", half, want)
	}
	if got := tr.ShareRate(1); got != whole.PerMinute || c.Budget() != whole {
		t.Errorf("ShareRate(1) = %v, budget %+v, want the whole %+v", got, c.Budget(), whole)
	}
}
