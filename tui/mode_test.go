package tui

import (
	"strings"
	"sync"
	"testing"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// TestModeScreenOffersWhatBothSupport: the modes offered are those both
// nodes' instance info lists, and every other mode says which node lacks
// it.
func TestModeScreenOffersWhatBothSupport(t *testing.T) {
	basic, both := []adminapi.Mode{adminapi.ModeBasic}, []adminapi.Mode{adminapi.ModeBasic, adminapi.ModeScript}
	for _, tt := range []struct {
		name        string
		self, other []adminapi.Mode
		d           draft
		offered     []adminapi.Mode
		says        string
	}{
		{"both basic", basic, basic, draft{to: "http://globex.test"}, basic, "Script mode is not available: upgrade tandem on Acme and Globex."},
		{"only this node scripts", both, basic, draft{to: "http://globex.test"}, basic, "Script mode is not available: upgrade tandem on Globex."},
		{"only the other scripts", basic, both, draft{to: "http://globex.test"}, basic, "Script mode is not available: upgrade tandem on Acme."},
		{"both script", both, both, draft{to: "http://globex.test"}, both, "Script"},
		{"no URL: this node's modes", both, nil, draft{}, both, "Script"},
		{"local: this node's modes", basic, nil, draft{to: "http://acme.test", local: true}, basic, "upgrade tandem on Acme."},
		{"nothing in common", []adminapi.Mode{adminapi.ModeScript}, basic, draft{to: "http://globex.test"}, nil, "no configuration mode in common"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := testCommon(t, &fakeNode{})
			c.self.Modes = tt.self
			d := tt.d
			d.dest = adminapi.Instance{Name: "Globex", Modes: tt.other}
			s := newModeScreen(c, d)
			if strings.Join(modeStrings(s.modes), ",") != strings.Join(modeStrings(tt.offered), ",") {
				t.Errorf("offered %v, want %v", s.modes, tt.offered)
			}
			if v := plain(s.View()); !strings.Contains(v, tt.says) {
				t.Errorf("the screen should say %q:\n%s", tt.says, v)
			}
		})
	}
}

func modeStrings(ms []adminapi.Mode) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m))
	}
	return out
}

// TestChosenModeTravels: the mode the admin picks reaches the node, in the
// invitation (InviteRequest) and in the one-step connection
// (ConnectRequest), rather than being dropped after Confirm.
func TestChosenModeTravels(t *testing.T) {
	both := []adminapi.Mode{adminapi.ModeBasic, adminapi.ModeScript}
	for _, tt := range []struct {
		keys string
		want adminapi.Mode
	}{{"<enter>", adminapi.ModeBasic}, {"<down><enter>", adminapi.ModeScript}} {
		t.Run(string(tt.want), func(t *testing.T) {
			var mu sync.Mutex
			var invited adminapi.InviteRequest
			var connected adminapi.ConnectRequest
			f := &fakeNode{
				invite: func(r adminapi.InviteRequest) (adminapi.Connection, string, error) {
					mu.Lock()
					defer mu.Unlock()
					invited = r
					return adminapi.Connection{ID: "c1", Name: "Acme_to_Globex", Mode: r.Mode, Status: adminapi.StatusPending}, testCode, nil
				},
				connect: func(r adminapi.ConnectRequest) (adminapi.Connection, error) {
					mu.Lock()
					defer mu.Unlock()
					connected = r
					return adminapi.Connection{ID: "c1", Name: "Acme_to_Globex", Mode: r.Mode, Status: adminapi.StatusActive}, nil
				},
			}
			c := testCommon(t, f)
			c.self.Modes = both
			dest := globex
			dest.Modes = both
			_, msgs := typeKeys(t, sized(newModeScreen(c, draft{to: "http://globex.test", dest: dest})), tt.keys)
			d := pushed(t, msgs).(*projectScreen).d
			if d.mode != tt.want {
				t.Fatalf("the draft carries mode %q, want %q", d.mode, tt.want)
			}
			d.project, d.destProject, d.destToken = company, test, "s3cret"

			start(t, sized(newInvitationScreen(c, d)))
			confirm := sized(newConfirmScreen(c, d))
			if v := plain(confirm.View()); !strings.Contains(v, tt.want.Name()) {
				t.Errorf("Confirm should show the mode %s:\n%s", tt.want.Name(), v)
			}
			typeKeys(t, confirm, "<enter>")
			mu.Lock()
			defer mu.Unlock()
			if invited.Mode != tt.want || invited.Project != company.ID || invited.To != "http://globex.test" {
				t.Errorf("InviteRequest = %+v, want mode %q", invited, tt.want)
			}
			if connected.Mode != tt.want {
				t.Errorf("ConnectRequest = %+v, want mode %q", connected, tt.want)
			}
		})
	}
}

// TestRulesTabSaysTheMode: in Basic the Rules tab says its rules are fixed
// and how to upgrade; in Script mode it shows the scripts under the
// version in force.
func TestRulesTabSaysTheMode(t *testing.T) {
	for mode, want := range map[adminapi.Mode]string{
		adminapi.ModeBasic:  "Basic mode rules cannot be edited.",
		adminapi.ModeScript: "Script mode · version 1 in force · the draft is the same",
	} {
		conn := activeConn
		conn.Mode = adminapi.ModeBasic
		f := &fakeNode{connections: []adminapi.Connection{conn}}
		if mode == adminapi.ModeScript {
			f.withScripts(conn.ID, "", "")
		}
		s, _ := press(t, openConnection(t, f), "<right>")
		if v := plain(s.View()); !strings.Contains(v, want) || (mode != adminapi.ModeBasic && strings.Contains(v, "cannot be edited")) {
			t.Errorf("%s connection's Rules tab should say %q:\n%s", mode, want, v)
		}
	}
}

// TestProjectScreenSaysWhereScriptsStart: the project step of a Script
// mode connection says this side starts from Basic's scripts and where
// they are edited.
func TestProjectScreenSaysWhereScriptsStart(t *testing.T) {
	c := testCommon(t, &fakeNode{projects: []adminapi.Project{company, test}})
	s := start(t, sized(newProjectScreen(c, draft{to: "http://globex.test", dest: globex, mode: adminapi.ModeScript}, sideThis)))
	v := plain(s.View())
	for _, want := range []string{"Script mode: each side runs its own outgoing and incoming scripts", "Rules tab"} {
		if !strings.Contains(v, want) {
			t.Errorf("the project step lacks %q:\n%s", want, v)
		}
	}
}
