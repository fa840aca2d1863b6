package engine_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

func TestInviteAndAccept(t *testing.T) {
	clk := &clock{}
	a, b := startNode(t, "Acme", clk), startNode(t, "Globex", clk)
	ctx := ctxFor(t)

	pending, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if pending.Status != engine.StatusPending || pending.Name != "Acme_to_Globex" || pending.LocalProjectName != "Company" {
		t.Errorf("after invite: %+v", pending)
	}
	if !strings.HasPrefix(code, "tdm1.") {
		t.Fatalf("code %q", code)
	}

	accepted, err := b.Accept(ctx, code, "test") // project names match case-insensitively
	if err != nil {
		t.Fatal(err)
	}
	if accepted.Status != engine.StatusActive || accepted.RemoteName != "Acme" || accepted.RemoteProjectName != "Company" ||
		accepted.LocalProjectName != "Test" || accepted.Role != "acceptor" || accepted.Name != "Acme_to_Globex" {
		t.Errorf("acceptor side: %+v", accepted)
	}
	initiator, err := a.ConnectionByID(ctx, pending.ID)
	if err != nil {
		t.Fatal(err)
	}
	if initiator.Status != engine.StatusActive || initiator.RemoteName != "Globex" || initiator.RemoteProjectName != "Test" || initiator.RemoteURL != b.url {
		t.Errorf("initiator side: %+v", initiator)
	}

	// A code works once.
	if _, err := b.Accept(ctx, code, "Test"); !errors.Is(err, engine.ErrInvitationUsed) {
		t.Errorf("second accept: err = %v, want ErrInvitationUsed", err)
	}
	c := startNode(t, "Initech", clk)
	if _, err := c.Accept(ctx, code, "Test"); !errors.Is(err, engine.ErrInvitationUsed) {
		t.Errorf("accept on a third node: err = %v, want ErrInvitationUsed", err)
	}
	for _, n := range []*testNode{b, c} {
		if cs, _ := n.Connections(ctx); len(cs) != map[*testNode]int{b: 1, c: 0}[n] {
			t.Errorf("%s has %d connections after the refusals", n.Info().Name, len(cs))
		}
	}
}

func TestInviteWithoutURLNamesTheConnectionOnAccept(t *testing.T) {
	clk := &clock{}
	a, b := startNode(t, "Acme", clk), startNode(t, "Globex", clk)
	ctx := ctxFor(t)
	pending, code, err := a.Invite(ctx, engine.InviteRequest{Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if pending.RemoteURL != "" || pending.Status != engine.StatusPending {
		t.Errorf("pending without URL: %+v", pending)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	got, _ := a.ConnectionByID(ctx, pending.ID)
	if got.Name != "Acme_to_Globex" || got.RemoteURL != b.url || got.Status != engine.StatusActive {
		t.Errorf("after accept: %+v", got)
	}
}

func TestAcceptRefusalsChangeNothing(t *testing.T) {
	clkA, clkB := &clock{}, &clock{}
	a, b := startNode(t, "Acme", clkA), startNode(t, "Globex", clkB)
	ctx := ctxFor(t)
	pending, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := engine.ParseInvitation(code, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wrong := inv
	wrong.Secret = append([]byte(nil), inv.Secret...)
	wrong.Secret[0] ^= 0xff
	wrongCode, _ := wrong.Encode()
	unknown := inv
	unknown.ConnectionID = "00000000-0000-0000-0000-000000000000"
	unknownCode, _ := unknown.Encode()
	// One character replaced by another base64url character.
	tampered := []byte(code)
	if mid := len(tampered) / 2; tampered[mid] != 'Q' {
		tampered[mid] = 'Q'
	} else {
		tampered[mid] = 'R'
	}

	for _, tt := range []struct {
		name, code, project string
		want                error
	}{
		{"malformed", "hello there", "Test", engine.ErrInvitationMalformed},
		{"tampered", string(tampered), "Test", engine.ErrInvitationTampered},
		{"wrong secret", wrongCode, "Test", engine.ErrInvitationRefused},
		{"unknown connection", unknownCode, "Test", engine.ErrInvitationRefused},
		{"unknown project", code, "Nope", engine.ErrUnknownProject},
	} {
		_, err := b.Accept(ctx, tt.code, tt.project)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}

	// Expired on the acceptor's clock: refused before any request. Expired
	// only on the initiator's: refused by the initiator, same message.
	for _, clk := range []*clock{clkB, clkA} {
		clk.set(engine.InvitationTTL + time.Hour)
		if _, err := b.Accept(ctx, code, "Test"); !errors.Is(err, engine.ErrInvitationExpired) {
			t.Errorf("expired: err = %v, want ErrInvitationExpired", err)
		}
		clk.set(0)
	}

	// The initiator unreachable.
	a.stop()
	if _, err := b.Accept(ctx, code, "Test"); !errors.Is(err, engine.ErrUnreachable) {
		t.Errorf("initiator down: err = %v, want ErrUnreachable", err)
	}

	// Nothing changed: B has no connection, and the code still works once A
	// is back on the same data dir.
	if cs, _ := b.Connections(ctx); len(cs) != 0 {
		t.Errorf("refused accepts left %d connections on the acceptor", len(cs))
	}
	a.start(t, "Acme")
	if got, _ := a.ConnectionByID(ctx, pending.ID); got.Status != engine.StatusPending {
		t.Errorf("initiator connection after refusals: %+v", got)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Errorf("the code after every refusal: %v", err)
	}
}

// TestRedeemCannotBeReplayed: whoever saw a redemption on the wire knows
// the secret, the nonce and the acceptor's ids. Sending it again, as is or
// pointing at another connection, must neither succeed nor move the
// initiator's connection.
func TestRedeemCannotBeReplayed(t *testing.T) {
	a, b := startNode(t, "Acme", &clock{}), startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	pending, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	redeem := b.sent.find(t, engine.PathRedeem)
	for _, tt := range []struct {
		name  string
		alter func(*engine.RedeemRequest)
	}{
		{"as sent", func(*engine.RedeemRequest) {}},
		{"another acceptor connection", func(r *engine.RedeemRequest) { r.AcceptorConnectionID = "attacker-conn" }},
		{"another acceptor URL", func(r *engine.RedeemRequest) { r.Acceptor.URL = "http://127.0.0.1:1" }},
	} {
		status := send(t, redeem, func(_ *http.Request, body []byte) []byte {
			var r engine.RedeemRequest
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
			tt.alter(&r)
			out, _ := json.Marshal(r)
			return out
		})
		if status != http.StatusGone {
			t.Errorf("redeem replayed %s: status %d, want 410 (used)", tt.name, status)
		}
	}
	got, err := a.ConnectionByID(ctx, pending.ID)
	if err != nil || got.Status != engine.StatusActive || got.RemoteURL != b.url {
		t.Errorf("after the replays the initiator's connection is %+v, %v", got, err)
	}
}
