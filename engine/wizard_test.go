package engine_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

func projectNames(ps []engine.Project) []string {
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}

func TestDestinationProjects(t *testing.T) {
	clk := &clock{}
	a, b := startNode(t, "Acme", clk), startNode(t, "Globex", clk)
	ctx := ctxFor(t)

	info, ps, err := a.DestinationProjects(ctx, b.url+"/", b.token)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "Globex" || info.URL != b.url || !slices.Equal(projectNames(ps), []string{"Company", "Test"}) {
		t.Errorf("the destination: %+v, projects %v", info, projectNames(ps))
	}

	wrong := "tdm_admin_not-the-right-one-" + strings.Repeat("x", 8)
	_, _, err = a.DestinationProjects(ctx, b.url, wrong)
	if !errors.Is(err, engine.ErrBadRequest) || err.Error() != "the destination refused the admin token: check it and try again" {
		t.Errorf("wrong token: err = %v, want ErrBadRequest with the refusal", err)
	}
	for _, n := range []*testNode{a, b} {
		if strings.Contains(n.log.String(), wrong) || strings.Contains(n.log.String(), b.token) {
			t.Errorf("%s logged an admin token", n.Info().Name)
		}
	}
	if _, _, err := a.DestinationProjects(ctx, b.url, " "); !errors.Is(err, engine.ErrBadRequest) ||
		!strings.Contains(err.Error(), "admin token is required") {
		t.Errorf("no token: err = %v", err)
	}

	// This node's own URL is a local connection: no token needed.
	info, ps, err = a.DestinationProjects(ctx, a.url+"/", "")
	if err != nil || info.ID != a.Info().ID || !slices.Equal(projectNames(ps), []string{"Company", "Test"}) {
		t.Errorf("own URL: %+v, %v, %v", info, projectNames(ps), err)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if _, _, err := a.DestinationProjects(ctx, closed.URL, b.token); !errors.Is(err, engine.ErrUnreachable) {
		t.Errorf("destination down: err = %v, want ErrUnreachable", err)
	} else if strings.Contains(err.Error(), b.token) {
		t.Errorf("the error names the token: %v", err)
	}
	for _, n := range []*testNode{a, b} {
		if cs, _ := n.Connections(ctx); len(cs) != 0 {
			t.Errorf("checking the destination left %d connections on %s", len(cs), n.Info().Name)
		}
	}
}

func TestPreviewInvitation(t *testing.T) {
	clkA, clkB := &clock{}, &clock{}
	a, b := startNode(t, "Acme", clkA), startNode(t, "Globex", clkB)
	ctx := ctxFor(t)
	pending, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}

	p, err := b.PreviewInvitation(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if p.Initiator.Name != "Acme" || p.Initiator.URL != a.url || p.ProjectName != "Company" || p.Mode != engine.ModeBasic ||
		p.Expires.Sub(time.Now()) < engine.InvitationTTL-time.Minute {
		t.Errorf("preview: %+v", p)
	}

	inv, err := engine.ParseInvitation(code, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wrong := inv
	wrong.Secret = slices.Clone(inv.Secret)
	wrong.Secret[0] ^= 0xff
	wrongCode, _ := wrong.Encode()
	for _, tt := range []struct {
		name string
		n    *testNode
		code string
		want error
	}{
		{"malformed", b, "hello there", engine.ErrInvitationMalformed},
		{"tampered", b, code[:len(code)-3] + "AAA", engine.ErrInvitationTampered},
		{"wrong secret", b, wrongCode, engine.ErrInvitationRefused},
		{"the initiator's own code", a, code, engine.ErrBadRequest},
	} {
		if _, err := tt.n.PreviewInvitation(ctx, tt.code); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if log := a.log.String(); !strings.Contains(log, "invitation check with a wrong secret") || strings.Contains(log, wrongCode) {
		t.Errorf("the initiator's log of the wrong secret:\n%s", log)
	}
	// Expired on the acceptor's clock (refused before any request) and
	// only on the initiator's (refused by the initiator).
	for _, clk := range []*clock{clkB, clkA} {
		clk.set(engine.InvitationTTL + time.Hour)
		if _, err := b.PreviewInvitation(ctx, code); !errors.Is(err, engine.ErrInvitationExpired) {
			t.Errorf("expired: err = %v, want ErrInvitationExpired", err)
		}
		clk.set(0)
	}
	a.stop()
	if _, err := b.PreviewInvitation(ctx, code); !errors.Is(err, engine.ErrUnreachable) || !strings.Contains(err.Error(), "Acme") {
		t.Errorf("initiator down: err = %v, want ErrUnreachable naming Acme", err)
	}
	a.start(t, "Acme")

	// Previews changed nothing: the code is still good for one accept.
	if got, _ := a.ConnectionByID(ctx, pending.ID); got.Status != engine.StatusPending {
		t.Errorf("the initiator's connection after the previews: %+v", got)
	}
	if cs, _ := b.Connections(ctx); len(cs) != 0 {
		t.Errorf("previews left %d connections on the acceptor", len(cs))
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatalf("accepting after the previews: %v", err)
	}
	if _, err := b.PreviewInvitation(ctx, code); !errors.Is(err, engine.ErrInvitationUsed) {
		t.Errorf("preview of a used code: err = %v, want ErrInvitationUsed", err)
	}
	c := startNode(t, "Initech", &clock{})
	if _, err := c.PreviewInvitation(ctx, code); !errors.Is(err, engine.ErrInvitationUsed) {
		t.Errorf("preview of a used code on a third node: err = %v, want ErrInvitationUsed", err)
	}
}
