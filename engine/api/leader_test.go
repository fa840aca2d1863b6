package api_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine/api"
	"github.com/tandem-sync/tandem/internal/demo"
)

// /metrics says which replica leads change detection: a node on SQLite,
// the one process, once its detector has ticked; a node without change
// detection, none. (Replicas on PostgreSQL: TestOneReplicaDetects.)
func TestMetricsSayWhoLeads(t *testing.T) {
	for _, tc := range []struct {
		name string
		poll time.Duration
		want int
	}{
		{"detecting", 20 * time.Millisecond, 1},
		{"no detection", -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := demo.Start(t.Context(), demo.Spec{Name: "Acme", DataDir: t.TempDir(), Poll: tc.poll})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { n.Close() })
			srv := httptest.NewServer(api.New(n.Node, nil))
			t.Cleanup(srv.Close)
			if tc.want == 0 {
				if got := metric(t, srv.URL, "tandem_leader"); got != 0 {
					t.Fatalf("tandem_leader %d without change detection, want 0", got)
				}
				return
			}
			// The detector takes the lead on its first tick: poll for it.
			deadline := time.After(10 * time.Second)
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for metric(t, srv.URL, "tandem_leader") != 1 {
				select {
				case <-deadline:
					t.Fatal("tandem_leader never became 1 on a node detecting changes")
				case <-tick.C:
				}
			}
		})
	}
}
