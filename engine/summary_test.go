package engine_test

import (
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

// TestSummariesWithControlCharactersConverge: Jira stores a summary with
// its control characters as spaces, runs of spaces as one, and no spaces
// at either end; Asana keeps it as typed. The sync normalises a summary
// the same way on both sides, so the twins end with the same summary, on
// a first sync and on an edit, and nothing echoes.
func TestSummariesWithControlCharactersConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile summaries over every pair: content, not concurrency, and slow under the race detector; the plain run covers it")
	}
	forEachPair(t, pairSummariesConverge)
}

func pairSummariesConverge(t *testing.T, p trackerPair) {
	const (
		hostile = "Hostile\tname \x07bell\x1b[2J clear\r\n "
		edited  = " Edited\x1b]52;c;cHduZWQ=\x07 \u0085again\t\t"
	)
	a, b, connA, _ := connectedPair(t, p.start, p.project)
	ctx := ctxFor(t)
	src, err := a.et().Create(ctx, engine.NewEntity{Project: connA.LocalProject, Summary: hostile})
	if err != nil {
		t.Fatal(err)
	}
	done := exalate(t, a, src.ID)
	const want = "Hostile name bell [2J clear"
	if here, there := read(t, a, src.ID).Summary, read(t, b, done.RemoteKey).Summary; here != want || there != want {
		t.Errorf("after the first sync: %q here, %q there; want both %q", here, there, want)
	}
	settledWithoutEcho(t, a, b)

	// An edit with control characters, found by change detection.
	summary := edited
	if _, err := a.et().Update(ctx, src.ID, engine.EntityUpdate{Summary: &summary}); err != nil {
		t.Fatal(err)
	}
	const wantEdited = "Edited ]52;c;cHduZWQ= again"
	within(t, 30*time.Second, "the edit to reach the twin", func() bool {
		return read(t, b, done.RemoteKey).Summary == wantEdited
	})
	settledWithoutEcho(t, a, b)
	if here, there := read(t, a, src.ID).Summary, read(t, b, done.RemoteKey).Summary; here != wantEdited || there != wantEdited {
		t.Errorf("after the edit: %q here, %q there; want both %q", here, there, wantEdited)
	}
}

// TestNormalizeSummary: a summary with a control character is made what
// Jira stores; one without is left exactly as typed, double spaces and
// all, so an item is rewritten only when its twins could never agree.
func TestNormalizeSummary(t *testing.T) {
	for in, want := range map[string]string{
		"Plain":                    "Plain",
		"  two  spaces  ":          "  two  spaces  ",
		"tab\there":                "tab here",
		"bell\x07 and  ESC\x1b[2J": "bell and ESC [2J",
		"line\r\nbreak ":           "line break",
		"C1\u009b31m":              "C1 31m",
		"\x1b":                     "",
	} {
		if got := engine.NormalizeSummary(in); got != want {
			t.Errorf("NormalizeSummary(%q) = %q, want %q", in, got, want)
		}
	}
}
