package jiratest

import (
	"testing"

	"github.com/tandem-sync/tandem/connectors/internal/oapitest"
)

// TestSpecCopyMatchesShared keeps the repository's copy of the document
// equal to the one the project's shared folder holds.
func TestSpecCopyMatchesShared(t *testing.T) {
	oapitest.CheckCopy(t, specPath, "jira/openapi-subset.json")
}
