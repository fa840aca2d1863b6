package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine"
)

// TestExalateFollowsProgressAndGivesUpWhenIdle: a task with many comments
// goes to a node whose tracker answers slowly, so its apply takes several
// times exalate's --idle-timeout; the progress reports keep exalate waiting
// and show as lines counting up to every comment. Then, with the
// connection deactivated on the other side (the sync waits there, nothing
// moves), exalate gives up after --idle-timeout, and an explicit
// --timeout is a limit in all; both say the sync goes on and how to check
// it. (Deactivated on this side, the sync is held here, and exalate says
// so at once: TestExalateOnPendingSaysWhatItWaitsFor's case.)
func TestExalateFollowsProgressAndGivesUpWhenIdle(t *testing.T) {
	const comments = 100
	acmeAsana := startSandbox(t, "Acme")
	slow, err := sandbox.New(sandbox.WithWorkspace("Globex"), sandbox.WithToken("Globex-pat"), sandbox.WithLatency(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(slow)
	t.Cleanup(srv.Close)
	acme, acmeToken := startServe(t, "--name", "Acme", "--data", t.TempDir(), "--asana-url", acmeAsana, "--asana-token", "Acme-pat", "--poll", "100ms", "--asana-rate-limit", "100000")
	globex, globexToken := startServe(t, "--name", "Globex", "--data", t.TempDir(), "--asana-url", srv.URL+"/api/1.0", "--asana-token", "Globex-pat",
		"--poll", "100ms", "--asana-rate-limit", "100000", "--progress-every", "1ms")
	if out, err := run(t, "connect", "--node", acme, "--admin-token", acmeToken, "--to", globex, "--dest-token", globexToken,
		"--dest-project", "Test", "--project", "Company"); err != nil {
		t.Fatalf("connect: %v\n%s", err, out)
	}
	client, err := asana.New(asana.Config{BaseURL: acmeAsana, Token: "Acme-pat", RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tracker := asana.NewTracker(client, "")
	if _, err := tracker.Check(ctx); err != nil {
		t.Fatal(err)
	}
	projects, err := tracker.Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var company string
	for _, p := range projects {
		if p.Name == "Company" {
			company = p.ID
		}
	}
	task, err := tracker.Create(ctx, engine.NewEntity{Project: company, Summary: "A long thread"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range comments {
		if _, err := tracker.AddComment(ctx, task.ID, fmt.Sprintf("<body>Comment %d</body>", i+1)); err != nil {
			t.Fatal(err)
		}
	}

	// At 20 ms a request the apply takes two seconds or more: past the
	// idle timeout, unless progress keeps exalate waiting.
	began := time.Now()
	out, err := run(t, "exalate", task.ID, "--node", acme, "--admin-token", acmeToken, "--idle-timeout", "1s")
	if err != nil {
		t.Fatalf("exalate of %d comments with progress: %v\n%s", comments, err, out)
	}
	if took := time.Since(began); took < time.Second {
		t.Fatalf("the sync took %v, under the idle timeout: the test shows nothing", took)
	}
	waiting := strings.Index(out, "✓ Waiting for remote")
	finalizing := strings.Index(out, "✓ Finalizing")
	line := regexp.MustCompile(`(?m)^  … Waiting for remote +comments (\d+) of (\d+)$`)
	found := line.FindAllStringSubmatchIndex(out, -1)
	if len(found) == 0 || waiting < 0 || finalizing < 0 {
		t.Fatalf("no progress lines between Waiting for remote and Finalizing:\n%s", out)
	}
	// Not on a terminal: a line a tenth of the way, at most.
	if len(found) > 11 {
		t.Errorf("%d progress lines, want at most one a tenth of the way:\n%s", len(found), out)
	}
	last := -1
	for _, m := range found {
		done, _ := strconv.Atoi(out[m[2]:m[3]])
		if total := out[m[4]:m[5]]; total != strconv.Itoa(comments) || done <= last || m[0] < waiting || m[0] > finalizing {
			t.Errorf("progress line %q out of order or of the wrong total in:\n%s", out[m[0]:m[1]], out)
		}
		last = done
	}
	if last != comments {
		t.Errorf("the last progress line counts %d, want %d of %d:\n%s", last, comments, comments, out)
	}
	if strings.ContainsRune(out, '\x1b') || strings.ContainsRune(out, '\r') {
		t.Errorf("exalate wrote control characters to a non-terminal:\n%q", out)
	}

	// Nothing moves while the other side has the connection deactivated:
	// the sync is sent and waits there, and exalate gives up.
	out, _ = run(t, "connections", "--json", "--node", globex, "--admin-token", globexToken)
	id := regexp.MustCompile(`"id": "([^"]+)"`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no connection id in:\n%s", out)
	}
	if out, err := run(t, "connections", "deactivate", id[1], "--node", globex, "--admin-token", globexToken); err != nil {
		t.Fatalf("deactivate: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		flags []string
		why   string
	}{
		{[]string{"--idle-timeout", "300ms"}, "no progress for 300ms (--idle-timeout)"},
		{[]string{"--timeout", "300ms", "--idle-timeout", "1h"}, "--timeout 300ms reached"},
	} {
		began := time.Now()
		out, err := run(t, append([]string{"exalate", task.ID, "--node", acme, "--admin-token", acmeToken}, tt.flags...)...)
		if err == nil {
			t.Fatalf("exalate %v on a deactivated connection succeeded:\n%s", tt.flags, out)
		}
		msg := err.Error()
		for _, want := range []string{tt.why, "goes on in the background", "tandem status " + task.ID} {
			if !strings.Contains(msg, want) {
				t.Errorf("exalate %v: %q, want it to say %q", tt.flags, msg, want)
			}
		}
		if strings.Contains(msg, "\n") || strings.Contains(msg, "context deadline exceeded") {
			t.Errorf("exalate %v: %q, want one plain line", tt.flags, msg)
		}
		if took := time.Since(began); took > 10*time.Second {
			t.Errorf("exalate %v gave up after %v", tt.flags, took)
		}
	}
}

// TestProgressLine: on a terminal progress rewrites one line in place
// (a carriage return, spaces over a longer line, no escape sequence) and
// ends it before anything else is printed; elsewhere it prints a line a
// tenth of the way, and between tenths only after a quiet spell.
func TestProgressLine(t *testing.T) {
	var tty strings.Builder
	l := &progressLine{w: &tty, tty: true, now: time.Now, last: map[string]printedProgress{}}
	l.show("Waiting for remote", engine.Progress{What: engine.ProgressComments, Done: 120, Total: 5000})
	l.show("Waiting for remote", engine.Progress{What: engine.ProgressComments, Done: 9, Total: 10})
	l.end()
	l.end()
	want := "\r  … Waiting for remote  comments 120 of 5000" +
		"\r  … Waiting for remote  comments 9 of 10" + strings.Repeat(" ", 4) + "\n"
	if tty.String() != want {
		t.Errorf("on a terminal:\n%q\nwant\n%q", tty.String(), want)
	}

	var log strings.Builder
	now := time.Unix(0, 0)
	l = &progressLine{w: &log, now: func() time.Time { return now }, last: map[string]printedProgress{}}
	steps := []struct {
		after time.Duration
		done  int
	}{
		{0, 1},               // the first: printed
		{time.Second, 120},   // same tenth, soon after: not
		{time.Second, 499},   // still the first tenth: not
		{time.Second, 500},   // a tenth: printed
		{progressQuiet, 501}, // a quiet spell: printed
		{progressQuiet, 501}, // no change: not
		{time.Second, 5000},  // the end: printed
	}
	for _, s := range steps {
		now = now.Add(s.after)
		l.show("Waiting for remote", engine.Progress{What: engine.ProgressComments, Done: s.done, Total: 5000})
	}
	l.end()
	var got []string
	for line := range strings.Lines(log.String()) {
		got = append(got, strings.Fields(line)[5])
	}
	if want := []string{"1", "500", "501", "5000"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("not on a terminal, lines at %v, want %v:\n%s", got, want, log.String())
	}
}

// TestRepeatedProgressIsNoProgress: only a report that gets further than
// any before it keeps exalate waiting; a count restarted by a retry, or
// the same report again, does not.
func TestRepeatedProgressIsNoProgress(t *testing.T) {
	f := furthest{}
	for i, tc := range []struct {
		event, what string
		done        int
		want        bool
	}{
		{"e1", engine.ProgressComments, 0, true},
		{"e1", engine.ProgressComments, 10, true},
		{"e1", engine.ProgressComments, 10, false}, // the same report again
		{"e1", engine.ProgressComments, 3, false},  // restarted by a retry
		{"e1", engine.ProgressComments, 11, true},
		{"e1", engine.ProgressAttachments, 0, true}, // another kind
		{"e2", engine.ProgressComments, 1, true},    // another sync
	} {
		if got := f.advanced(tc.event, engine.Progress{What: tc.what, Done: tc.done, Total: 20}); got != tc.want {
			t.Errorf("%d: %s %s %d: advanced %v, want %v", i, tc.event, tc.what, tc.done, got, tc.want)
		}
	}
}
