package tui

import (
	"testing"

	"github.com/tandem-sync/tandem/internal/trackers"
)

// onTracker makes the console's own node a node of the tracker kind
// named kind, with that kind's words, as its Info would say.
func onTracker(t *testing.T, c *common, kind string) {
	t.Helper()
	k, ok := trackers.Find(kind)
	if !ok {
		t.Fatalf("no tracker kind %q", kind)
	}
	c.self.Tracker, c.self.Vocabulary = kind, k.Vocabulary
}
