package asana_test

import (
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana"
)

// TestShareRateHalvesTheBudget: a tracker told that two replicas share its
// token has its client's limiter spend half the rate with half the burst,
// and hold half the concurrent reads and writes (Asana's limits are per
// token); told one again, the whole budget.
func TestShareRateHalvesTheBudget(t *testing.T) {
	c, err := asana.New(asana.Config{BaseURL: "http://127.0.0.1:1/api/1.0", Token: "t", RequestsPerMinute: asana.PaidPlanPerMinute})
	if err != nil {
		t.Fatal(err)
	}
	tr := asana.NewTracker(c, "")
	whole := c.Budget()
	if whole.PerMinute != 1425 || whole.Burst != 75 || whole.Reads != asana.MaxConcurrentReads || whole.Writes != asana.MaxConcurrentWrites {
		t.Fatalf("the paid plan's budget is %+v, want 1425 a minute (95%%), a burst of 75, 50 reads and 15 writes", whole)
	}
	if got := tr.ShareRate(2); got != whole.PerMinute/2 {
		t.Errorf("ShareRate(2) = %v a minute, want %v", got, whole.PerMinute/2)
	}
	half := c.Budget()
	want := asana.Budget{Parts: 2, PerMinute: 712.5, Burst: 37, Reads: 25, Writes: 7}
	if half != want {
		t.Errorf("the client's budget shared by 2 is %+v, want %+v", half, want)
	}
	if got := tr.ShareRate(1); got != whole.PerMinute || c.Budget() != whole {
		t.Errorf("ShareRate(1) = %v, budget %+v, want the whole %+v", got, c.Budget(), whole)
	}
}
