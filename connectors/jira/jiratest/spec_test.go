package jiratest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestSpecCopyMatchesShared keeps the repository's copy of the document
// equal to the one the project's shared folder holds, whenever that folder
// is beside the checkout (it is for developers and CI).
func TestSpecCopyMatchesShared(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ours, err := os.ReadFile(filepath.Join(root, specPath))
	if err != nil {
		t.Fatal(err)
	}
	shared, err := os.ReadFile(filepath.Join(root, "..", "shared", "jira", "openapi-subset.json"))
	if errors.Is(err, os.ErrNotExist) {
		t.Log("no ../shared/jira beside the checkout; nothing to compare")
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, shared) {
		t.Errorf("%s differs from ../shared/jira/openapi-subset.json: copy the shared one over it", specPath)
	}
}
