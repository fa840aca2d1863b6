package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

// The screens the Script mode Rules tab opens: compare, publish, test run
// and add mapping, each against the fake node's scripts.

func scriptCommon(t *testing.T, f *fakeNode) (*common, engine.Connection) {
	t.Helper()
	return testCommon(t, f), f.connections[0]
}

func TestCompareScreen(t *testing.T) {
	f := scriptNode(statusOut, "")
	c, conn := scriptCommon(t, f)
	s := start(t, sized(newCompareScreen(c, conn, 1, adminapi.DraftVersion)))
	v := plain(s.View())
	for _, want := range []string{"Acme_to_Globex: v1 (in force) → ‹the draft›", "--- v1/outgoing.star", "+++ draft/outgoing.star",
		"-    replica.description = item.description"} {
		if !strings.Contains(v, want) {
			t.Errorf("the diff lacks %q:\n%s", want, v)
		}
	}
	requireFrame(t, s.View(), screenH)
	s, _ = typeKeys(t, s, strings.Repeat("<down>", 8))
	if v := plain(s.View()); !strings.Contains(v, `+    replica.status = map_value(item.completed, {True: "Done"`) {
		t.Errorf("↓ should scroll to the added line:\n%s", v)
	}
	s, _ = typeKeys(t, s, strings.Repeat("<up>", 8))

	// ← moves the draft end to v1: nothing differs.
	s, _ = typeKeys(t, s, "<left>")
	if !slices.Contains(f.called(), "CompareScripts c1 1 1") {
		t.Fatalf("← should compare v1 with v1: %v", f.called())
	}
	if v := plain(s.View()); !strings.Contains(v, "No difference") || !strings.Contains(v, "→ ‹v1 (in force)›") {
		t.Errorf("v1 against itself:\n%s", v)
	}
	// tab picks the other end, which has no older version to go to.
	n := countCalls(f.called(), "CompareScripts")
	s, _ = typeKeys(t, s, "<tab><left>")
	if countCalls(f.called(), "CompareScripts") != n {
		t.Errorf("← past the oldest version compared again: %v", f.called())
	}
	if v := plain(s.View()); !strings.Contains(v, "‹v1 (in force)› →") {
		t.Errorf("tab should pick the from end:\n%s", v)
	}
}

func TestPublishScreen(t *testing.T) {
	t.Run("asks with the diff", func(t *testing.T) {
		f := scriptNode(statusOut, "")
		c, conn := scriptCommon(t, f)
		s := start(t, sized(newPublishScreen(c, conn)))
		v := plain(s.View())
		for _, want := range []string{"+++ draft/outgoing.star", "Publish the draft as version 2? Syncs from now on run it. y/n"} {
			if !strings.Contains(v, want) {
				t.Errorf("the screen lacks %q:\n%s", want, v)
			}
		}
		requireFrame(t, s.View(), screenH)
		s, _ = typeKeys(t, s, "y")
		if countCalls(f.called(), "Publish c1") != 1 || len(f.scripts["c1"].versions) != 2 {
			t.Fatalf("y should publish: %v", f.called())
		}
		if v := plain(s.View()); !strings.Contains(v, "✓ Published version 2") {
			t.Errorf("the screen should say it published:\n%s", v)
		}
		if _, msgs := typeKeys(t, s, "<enter>"); len(msgs) != 1 || msgs[0] != (backMsg{}) {
			t.Errorf("enter after publishing should go back: %v", msgs)
		}
	})
	t.Run("refuses a draft that does not compile", func(t *testing.T) {
		f := scriptNode("", brokenIn)
		c, conn := scriptCommon(t, f)
		s := start(t, sized(newPublishScreen(c, conn)))
		s, _ = typeKeys(t, s, "y")
		if n := countCalls(f.called(), "Publish"); n != 0 {
			t.Fatalf("a draft with an error was published (%d calls)", n)
		}
		v := plain(s.View())
		for _, want := range []string{"✗ incoming.star:3  got '=', want primary expression", "✗ The draft does not compile"} {
			if !strings.Contains(v, want) {
				t.Errorf("the screen lacks %q:\n%s", want, v)
			}
		}
		requireFrame(t, s.View(), screenH)
	})
	t.Run("n goes back", func(t *testing.T) {
		f := scriptNode(statusOut, "")
		c, conn := scriptCommon(t, f)
		_, msgs := typeKeys(t, start(t, sized(newPublishScreen(c, conn))), "n")
		if len(msgs) != 1 || msgs[0] != (backMsg{}) || countCalls(f.called(), "Publish") != 0 {
			t.Errorf("n: %v, calls %v", msgs, f.called())
		}
	})
}

func TestTestRunScreen(t *testing.T) {
	f := scriptNode(statusOut, "")
	f.items = []engine.Item{{ID: "t1", Key: "1201", Summary: "Launch webinar"}, {ID: "t2", Key: "1202", Summary: "Print flyers"}}
	c, conn := scriptCommon(t, f)
	s := start(t, sized(newTestRunScreen(c, conn)))
	if v := plain(s.View()); !strings.Contains(v, "› outgoing") || !strings.Contains(v, "› Launch webinar  1201") {
		t.Errorf("the picker:\n%s", plain(s.View()))
	}
	t.Run("picking", func(t *testing.T) { requireFrame(t, s.View(), screenH) })

	s, _ = typeKeys(t, s, "<down><enter>")
	if !slices.Contains(f.called(), "TestRun c1 outgoing t2") {
		t.Fatalf("enter should run the outgoing script on t2: %v", f.called())
	}
	v := plain(s.View())
	for _, want := range []string{"The draft's outgoing script on t2 · nothing was written", "Printed", "sent t2",
		"Replica it would send", `"status": "Done"`} {
		if !strings.Contains(v, want) {
			t.Errorf("the result lacks %q:\n%s", want, v)
		}
	}
	t.Run("result", func(t *testing.T) { requireFrame(t, s.View(), screenH) })

	// esc goes back to picking; tab runs the incoming script on a typed key.
	s, _ = typeKeys(t, s, "<esc><tab>KAN-99<enter>")
	if !slices.Contains(f.called(), "TestRun c1 incoming KAN-99") {
		t.Fatalf("the incoming script on what was typed: %v", f.called())
	}

	// A script's error shows at its line.
	f.scripts["c1"].testRun = func(r adminapi.TestRunRequest) (adminapi.TestRun, error) {
		return adminapi.TestRun{Direction: r.Direction, Item: "1201", Log: "before\n",
			Error: `outgoing.star:5:20: key "Team" not in custom_fields`}, nil
	}
	s, _ = typeKeys(t, s, "<esc><tab><enter>")
	if v := plain(s.View()); !strings.Contains(v, "✗ outgoing.star:5 ") || !strings.Contains(v, `  key "Team" not in custom_fields`) || !strings.Contains(v, "before") {
		t.Errorf("the error should show at its line:\n%s", v)
	}
}

func TestMappingScreen(t *testing.T) {
	t.Run("outgoing status", func(t *testing.T) {
		f := scriptNode("", "")
		c, conn := scriptCommon(t, f)
		s := start(t, sized(newMappingScreen(c, conn)))
		s, _ = typeKeys(t, s, "<right><tab><tab><tab>true=Done, false=To Do")
		want := `replica.status = map_value(item.completed, {True: "Done", False: "To Do"})`
		if v := plain(s.View()); !strings.Contains(v, "It adds to the end of outgoing.star's outgoing function:") || !strings.Contains(v, want) {
			t.Errorf("the form should show the code it adds:\n%s", v)
		}
		requireFrame(t, s.View(), screenH)
		s, _ = typeKeys(t, s, "<enter>")
		sc := f.scripts["c1"]
		if countCalls(f.called(), "SaveDraft c1") != 1 || !strings.Contains(sc.draftOut, "    "+want+"\n") {
			t.Fatalf("the draft saved:\n%s", sc.draftOut)
		}
		if v := sc.view("c1"); len(v.DraftErrors) > 0 {
			t.Errorf("the draft with the mapping does not compile: %v\n%s", v.DraftErrors, sc.draftOut)
		}
		if v := plain(s.View()); !strings.Contains(v, "✓ Added to the draft's outgoing.star") {
			t.Errorf("the form should say it added the mapping:\n%s", v)
		}
	})
	t.Run("incoming onto completed", func(t *testing.T) {
		f := scriptNode("", "")
		c, conn := scriptCommon(t, f)
		s := start(t, sized(newMappingScreen(c, conn)))
		// status → completed without a value for the rest is refused, and
		// the form stays on the field.
		s, _ = typeKeys(t, s, "<right><tab><right><tab><tab>Done=true<tab>")
		ms := s.(*mappingScreen)
		if ms.focus != fieldValues || !strings.Contains(strings.Join(strings.Fields(plain(s.View())), " "),
			"✗ Completed takes true or false: map status's values to them, and the rest with *=false") {
			t.Fatalf("an invalid value map let the form move on:\n%s", plain(s.View()))
		}
		s, _ = typeKeys(t, s, "<enter>")
		if countCalls(f.called(), "SaveDraft") != 0 {
			t.Fatal("an invalid mapping was saved")
		}
		s, _ = typeKeys(t, s, ", *=false<enter>")
		want := "    if replica.changed(\"status\"):\n        item.completed = map_value(replica.status, {\"Done\": True}, default = False)\n"
		sc := f.scripts["c1"]
		if !strings.Contains(sc.draftIn, want) {
			t.Fatalf("the incoming draft:\n%s", sc.draftIn)
		}
		if v := sc.view("c1"); len(v.DraftErrors) > 0 {
			t.Errorf("the draft with the mapping does not compile: %v", v.DraftErrors)
		}
	})
}

func TestParseValueMap(t *testing.T) {
	for _, tc := range []struct {
		from, to, text string
		pairs          []valuePair
		def, err       string
	}{
		{"completed", "status", "true=Done, false=To Do", []valuePair{{"True", "Done"}, {"False", "To Do"}}, "", ""},
		{"completed", "status", "completed=true → Done; completed=false -> In Progress", []valuePair{{"True", "Done"}, {"False", "In Progress"}}, "", ""},
		{"status", "status", "", nil, "", ""},
		{"priority", "priority", "Highest=High, *=Medium", []valuePair{{"Highest", "High"}}, "Medium", ""},
		{"status", "completed", "Done=yes, *=no", []valuePair{{"Done", "True"}}, "False", ""},
		{"completed", "status", "", nil, "", "map it to status's values"},
		{"completed", "status", "maybe=Done", nil, "", `completed is true or false, not "maybe"`},
		{"status", "priority", "Done", nil, "", "write each pair as from=to"},
		{"status", "priority", "Done=", nil, "", "a value on each side"},
		{"status", "priority", "Done=High, Done=Low", nil, "", "Done is mapped twice"},
	} {
		m := mapping{here: tc.from, there: tc.to}
		err := parseValueMap(&m, tc.text)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s → %s %q: error %v, want %q", tc.from, tc.to, tc.text, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s → %s %q: %v", tc.from, tc.to, tc.text, err)
		case !slices.Equal(m.pairs, tc.pairs) || m.def != tc.def:
			t.Errorf("%s → %s %q: pairs %v default %q, want %v %q", tc.from, tc.to, tc.text, m.pairs, m.def, tc.pairs, tc.def)
		}
	}
}

func TestAppendToFunction(t *testing.T) {
	add := []string{"# added", "if x:", "    y = 1"}
	for _, tc := range []struct{ name, src, want, err string }{
		{"spaces", "def incoming(item, replica, previous, first_sync):\n    a = 1\n\n    b = 2\n\n\ndef helper():\n    pass\n",
			"def incoming(item, replica, previous, first_sync):\n    a = 1\n\n    b = 2\n    # added\n    if x:\n        y = 1\n\n\ndef helper():\n    pass\n", ""},
		{"tabs, at the end", "def incoming(item,\n\t\treplica, previous, first_sync):  # the hook\n\ta = 1\n",
			"def incoming(item,\n\t\treplica, previous, first_sync):  # the hook\n\ta = 1\n\t# added\n\tif x:\n\t\ty = 1\n", ""},
		{"missing", "def outgoing(item, replica):\n    pass\n", "", "the draft has no incoming function"},
	} {
		got, err := appendToFunction(tc.src, "incoming", add)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case got != tc.want:
			t.Errorf("%s:\n%s\nwant:\n%s", tc.name, got, tc.want)
		}
	}
}
