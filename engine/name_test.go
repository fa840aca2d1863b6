package engine_test

import (
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/asana/sandbox"
	"github.com/tandem-sync/tandem/engine"
)

// TestInstanceNameIsPlainText: a node refuses to give itself a name a
// terminal would act on (issue 12: other admins see it in their consoles),
// at first start and on a rename, with one line saying what and where; it
// creates nothing, and a plain name, Unicode included, is taken.
func TestInstanceNameIsPlainText(t *testing.T) {
	sb, err := sandbox.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	client, err := asana.New(asana.Config{BaseURL: srv.URL + "/api/1.0", Token: sb.Token(), RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	open := func(dir, name string) (*engine.Node, error) {
		return engine.Open(ctxFor(t), engine.Config{DataDir: dir, Name: name, URL: "http://127.0.0.1:1",
			Tracker: asana.NewTracker(client, ""), Poll: -1})
	}
	for _, tc := range []struct{ name, want string }{
		{"Acme \x1b]52;c;cHduZWQ=\x07", "a control character (U+001B) at byte 5"},
		{"Acme\x1b[2J", "a control character (U+001B) at byte 4"},
		{"Acme\u009b31m", "a control character (U+009B) at byte 4"},
		{"Acme\u202eemca", "a bidirectional control (U+202E) at byte 4"},
		{"\u2066Acme", "a bidirectional control (U+2066) at byte 0"},
		{"Ac\tme", "a control character (U+0009) at byte 2"},
		{"Acme\nGlobex", "a control character (U+000A) at byte 4"},
		{"Acme\u2028", "a line separator (U+2028) at byte 4"},
		{"Acme\xff", "a byte that is not UTF-8 (0xff) at byte 4"},
	} {
		dir := filepath.Join(t.TempDir(), "data")
		n, err := open(dir, tc.name)
		if err == nil {
			n.Close()
			t.Errorf("the name %q was taken", tc.name)
			continue
		}
		msg := err.Error()
		if !errors.Is(err, engine.ErrBadRequest) || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "--name") ||
			strings.ContainsAny(msg, "\x1b\n\t\u202e\u2066\u2028") {
			t.Errorf("the name %q: err = %q, want one plain line naming %s", tc.name, msg, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "tandem.db")); err == nil {
			if n, err := open(dir, ""); err == nil {
				n.Close()
				t.Errorf("the refused name %q created an instance", tc.name)
			}
		}
	}

	// A plain name is taken; renaming to a hostile one is refused and the
	// name stays.
	dir := t.TempDir()
	n, err := open(dir, "Ácme 株式会社 🚀")
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	if n, err := open(dir, "Acme\x1b[2J"); err == nil || !strings.Contains(err.Error(), "U+001B") {
		if err == nil {
			n.Close()
		}
		t.Fatalf("a rename to a hostile name: err = %v", err)
	}
	n, err = open(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if got := n.Info().Name; got != "Ácme 株式会社 🚀" {
		t.Errorf("after the refused rename the name is %q", got)
	}
}
