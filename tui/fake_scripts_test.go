package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aymanbagabas/go-udiff"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/engine/script"
)

// fakeScripts are one connection's scripts on the fake node: its
// published versions (the first is version 1) and its draft, checked by
// the real compiler as the node checks them.
type fakeScripts struct {
	versions []fakeVersion
	draftOut string
	draftIn  string
	// testRun answers TestRun; nil answers a canned outgoing run.
	testRun func(r adminapi.TestRunRequest) (adminapi.TestRun, error)
}

type fakeVersion struct {
	out, in string
	note    string
}

// withScripts puts connection id (one of f.connections) in Script mode,
// with Basic's scripts published as version 1 and a draft of out and in
// ("" for Basic's).
func (f *fakeNode) withScripts(id, out, in string) *fakeScripts {
	basic := script.BasicScripts()
	if out == "" {
		out = basic.Outgoing
	}
	if in == "" {
		in = basic.Incoming
	}
	for i := range f.connections {
		if f.connections[i].ID == id {
			f.connections[i].Mode = engine.ModeScript
		}
	}
	if f.scripts == nil {
		f.scripts = map[string]*fakeScripts{}
	}
	sc := &fakeScripts{versions: []fakeVersion{{basic.Outgoing, basic.Incoming, "upgraded from Basic"}}, draftOut: out, draftIn: in}
	f.scripts[id] = sc
	return sc
}

// scriptsOf finds a Script mode connection's scripts, refusing others as
// the node does.
func (f *fakeNode) scriptsOf(connID string) (*fakeScripts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sc := f.scripts[connID]; sc != nil {
		return sc, nil
	}
	return nil, fmt.Errorf("%w: connection %s is in Basic mode on this side; upgrade it to Script mode first", engine.ErrBadRequest, connID)
}

// view is the scripts as the node answers them.
func (sc *fakeScripts) view(connID string) adminapi.Scripts {
	pub := sc.versions[len(sc.versions)-1]
	out := adminapi.Scripts{ConnectionID: connID, Mode: engine.ModeScript, Published: len(sc.versions), PublishedAt: testNow.Add(-2 * time.Minute),
		Outgoing: pub.out, Incoming: pub.in, DraftOutgoing: sc.draftOut, DraftIncoming: sc.draftIn, DraftAt: testNow.Add(-2 * time.Minute)}
	out.DraftDiffers = sc.draftOut != pub.out || sc.draftIn != pub.in
	for _, s := range []struct{ name, src string }{{"outgoing.star", sc.draftOut}, {"incoming.star", sc.draftIn}} {
		if _, err := script.Compile(s.name, s.src); err != nil {
			out.DraftErrors = append(out.DraftErrors, err.Error())
		}
	}
	return out
}

// version is one version's scripts (DraftVersion: the draft).
func (sc *fakeScripts) version(v int) (out, in string, err error) {
	switch {
	case v == adminapi.DraftVersion:
		return sc.draftOut, sc.draftIn, nil
	case v < 1 || v > len(sc.versions):
		return "", "", fmt.Errorf("%w: no version %d of the scripts", engine.ErrNotFound, v)
	}
	return sc.versions[v-1].out, sc.versions[v-1].in, nil
}

func (f *fakeNode) Upgrade(_ context.Context, connID string) (adminapi.Scripts, error) {
	f.record("Upgrade " + connID)
	if f.scripts[connID] != nil {
		return adminapi.Scripts{}, fmt.Errorf("%w: connection %s is already in Script mode on this side", engine.ErrBadRequest, connID)
	}
	if !slices.ContainsFunc(f.connections, func(c engine.Connection) bool { return c.ID == connID }) {
		return adminapi.Scripts{}, engine.ErrNotFound
	}
	return f.withScripts(connID, "", "").view(connID), nil
}

func (f *fakeNode) Scripts(_ context.Context, connID string) (adminapi.Scripts, error) {
	f.record("Scripts " + connID)
	sc, err := f.scriptsOf(connID)
	if err != nil {
		return adminapi.Scripts{}, err
	}
	return sc.view(connID), nil
}

func (f *fakeNode) SaveDraft(_ context.Context, connID string, r adminapi.DraftRequest) (adminapi.Scripts, error) {
	f.record("SaveDraft " + connID)
	sc, err := f.scriptsOf(connID)
	if err != nil {
		return adminapi.Scripts{}, err
	}
	if strings.TrimSpace(r.Outgoing) == "" || strings.TrimSpace(r.Incoming) == "" {
		return adminapi.Scripts{}, fmt.Errorf("%w: both scripts are needed: the outgoing one and the incoming one", engine.ErrBadRequest)
	}
	sc.draftOut, sc.draftIn = r.Outgoing, r.Incoming
	return sc.view(connID), nil
}

func (f *fakeNode) Publish(_ context.Context, connID string, r adminapi.PublishRequest) (adminapi.ScriptVersion, error) {
	f.record("Publish " + connID)
	sc, err := f.scriptsOf(connID)
	if err != nil {
		return adminapi.ScriptVersion{}, err
	}
	v := sc.view(connID)
	switch {
	case len(v.DraftErrors) > 0:
		return adminapi.ScriptVersion{}, fmt.Errorf("%w: the draft can't be published: %s", engine.ErrBadRequest, strings.Join(v.DraftErrors, "; "))
	case !v.DraftDiffers:
		return adminapi.ScriptVersion{}, fmt.Errorf("%w: the draft is version %d already; edit it first", engine.ErrBadRequest, v.Published)
	}
	sc.versions = append(sc.versions, fakeVersion{sc.draftOut, sc.draftIn, r.Note})
	return adminapi.ScriptVersion{Version: len(sc.versions), At: testNow, Note: r.Note}, nil
}

func (f *fakeNode) ScriptVersions(_ context.Context, connID string) ([]adminapi.ScriptVersion, error) {
	f.record("ScriptVersions " + connID)
	sc, err := f.scriptsOf(connID)
	if err != nil {
		return nil, err
	}
	var out []adminapi.ScriptVersion
	for i := len(sc.versions) - 1; i >= 0; i-- {
		out = append(out, adminapi.ScriptVersion{Version: i + 1, At: testNow.Add(-2 * time.Minute), Note: sc.versions[i].note})
	}
	return out, nil
}

func (f *fakeNode) CompareScripts(_ context.Context, connID string, from, to int) (adminapi.ScriptDiff, error) {
	f.record(fmt.Sprintf("CompareScripts %s %d %d", connID, from, to))
	sc, err := f.scriptsOf(connID)
	if err != nil {
		return adminapi.ScriptDiff{}, err
	}
	aOut, aIn, err := sc.version(from)
	if err != nil {
		return adminapi.ScriptDiff{}, err
	}
	bOut, bIn, err := sc.version(to)
	if err != nil {
		return adminapi.ScriptDiff{}, err
	}
	name := func(v int, file string) string {
		if v == adminapi.DraftVersion {
			return "draft/" + file
		}
		return fmt.Sprintf("v%d/%s", v, file)
	}
	return adminapi.ScriptDiff{From: from, To: to,
		Outgoing: udiff.Unified(name(from, "outgoing.star"), name(to, "outgoing.star"), aOut, bOut),
		Incoming: udiff.Unified(name(from, "incoming.star"), name(to, "incoming.star"), aIn, bIn)}, nil
}

func (f *fakeNode) TestRun(_ context.Context, connID string, r adminapi.TestRunRequest) (adminapi.TestRun, error) {
	f.record("TestRun " + connID + " " + r.Direction + " " + r.Ref)
	sc, err := f.scriptsOf(connID)
	if err != nil {
		return adminapi.TestRun{}, err
	}
	if sc.testRun != nil {
		return sc.testRun(r)
	}
	return adminapi.TestRun{Direction: r.Direction, Version: r.Version, Item: r.Ref,
		Replica: "{\n  \"summary\": \"Launch webinar\",\n  \"status\": \"Done\"\n}", Log: "sent " + r.Ref + "\n"}, nil
}
