package engine

import (
	"testing"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/store"
)

// TestContractWords: the statuses the store keeps are the words
// the admin API contract tells its clients, so a console reading
// adminapi.StatusActive sees what the engine wrote.
func TestContractWords(t *testing.T) {
	for _, w := range [][2]string{
		{store.StatusPending, adminapi.StatusPending},
		{store.StatusActive, adminapi.StatusActive},
		{store.StatusDeactivated, adminapi.StatusDeactivated},
		{store.StatusError, adminapi.StatusError},
	} {
		if w[0] != w[1] {
			t.Errorf("the store says %q where the admin API contract says %q", w[0], w[1])
		}
	}
}
