package tui

import (
	"context"
	"errors"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// errNoScripts is the fake node's answer to Script mode: no screen of the
// console uses it yet.
var errNoScripts = errors.New("the fake node has no Script mode")

func (f *fakeNode) Upgrade(_ context.Context, connID string) (adminapi.Scripts, error) {
	f.record("Upgrade " + connID)
	return adminapi.Scripts{}, errNoScripts
}

func (f *fakeNode) Scripts(_ context.Context, connID string) (adminapi.Scripts, error) {
	f.record("Scripts " + connID)
	return adminapi.Scripts{}, errNoScripts
}

func (f *fakeNode) SaveDraft(_ context.Context, connID string, _ adminapi.DraftRequest) (adminapi.Scripts, error) {
	f.record("SaveDraft " + connID)
	return adminapi.Scripts{}, errNoScripts
}

func (f *fakeNode) Publish(_ context.Context, connID string, _ adminapi.PublishRequest) (adminapi.ScriptVersion, error) {
	f.record("Publish " + connID)
	return adminapi.ScriptVersion{}, errNoScripts
}

func (f *fakeNode) ScriptVersions(_ context.Context, connID string) ([]adminapi.ScriptVersion, error) {
	f.record("ScriptVersions " + connID)
	return nil, errNoScripts
}

func (f *fakeNode) CompareScripts(_ context.Context, connID string, _, _ int) (adminapi.ScriptDiff, error) {
	f.record("CompareScripts " + connID)
	return adminapi.ScriptDiff{}, errNoScripts
}

func (f *fakeNode) TestRun(_ context.Context, connID string, _ adminapi.TestRunRequest) (adminapi.TestRun, error) {
	f.record("TestRun " + connID)
	return adminapi.TestRun{}, errNoScripts
}
