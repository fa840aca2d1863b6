package engine_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

// decoy is where a lying node would like the other side's traffic to go:
// it counts every request it gets.
func decoy(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// front serves node n through a proxy that rewrites what n says about its
// own URL: in its instance answer to instanceURL and in its redeem answer
// to redeemURL ("" leaves n's own; "front" is the front's URL).
func front(t *testing.T, n *testNode, instanceURL, redeemURL string) *httptest.Server {
	target, err := url.Parse(n.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewUnstartedServer(proxy)
	srv.Start()
	t.Cleanup(srv.Close)
	pick := func(u string) string {
		if u == "front" {
			return srv.URL
		}
		return u
	}
	proxy.ModifyResponse = func(resp *http.Response) error {
		var rewrite func(map[string]any)
		switch path := resp.Request.URL.Path; {
		case path == engine.PathInstance && instanceURL != "":
			rewrite = func(m map[string]any) { m["url"] = pick(instanceURL) }
		case path == engine.PathRedeem && redeemURL != "" && resp.StatusCode == http.StatusOK:
			rewrite = func(m map[string]any) { m["initiator"].(map[string]any)["url"] = pick(redeemURL) }
		default:
			return nil
		}
		var m map[string]any
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(body, &m); err != nil {
			return err
		}
		rewrite(m)
		if body, err = json.Marshal(m); err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	return srv
}

// pointedAt is code with its URL changed to u, as if its node had made it
// while reachable at u.
func pointedAt(t *testing.T, code, u string) string {
	t.Helper()
	inv, err := engine.ParseInvitation(code, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	inv.URL = u
	out, err := inv.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestInvitationURLIsTheOneUsed: an inviting node whose instance or redeem
// answer reports another URL than its invitation code is refused with
// both URLs named; the acceptor keeps nothing and sends nothing to the
// reported URL. An honest one is reached, for good, at the code's URL.
func TestInvitationURLIsTheOneUsed(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		instanceURL, redeemed string // what the inviter reports, see front
		pending               bool   // the inviter's invitation is still unused
	}{
		{"instance answer", "decoy", "", true},
		{"redeem answer", "front", "decoy", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{}
			a, b := startNode(t, "Acme", clk), startNode(t, "Globex", clk)
			ctx := ctxFor(t)
			bad, hits := decoy(t)
			swap := func(s string) string { return strings.ReplaceAll(s, "decoy", bad.URL) }
			fr := front(t, a, swap(tc.instanceURL), swap(tc.redeemed))
			_, code, err := a.Invite(ctx, engine.InviteRequest{Project: "Company"})
			if err != nil {
				t.Fatal(err)
			}
			code = pointedAt(t, code, fr.URL)
			if tc.pending {
				if _, err := b.PreviewInvitation(ctx, code); !errors.Is(err, engine.ErrURLMismatch) ||
					!strings.Contains(err.Error(), fr.URL) || !strings.Contains(err.Error(), bad.URL) {
					t.Errorf("preview: %v; want ErrURLMismatch naming %s and %s", err, fr.URL, bad.URL)
				}
			}
			_, err = b.Accept(ctx, code, "Test")
			if !errors.Is(err, engine.ErrURLMismatch) || !strings.Contains(err.Error(), fr.URL) ||
				!strings.Contains(err.Error(), bad.URL) || !strings.Contains(err.Error(), "new invitation code") {
				t.Fatalf("accept: %v; want ErrURLMismatch naming %s and %s and what to do", err, fr.URL, bad.URL)
			}
			t.Logf("refused: %v", err)
			if cs, _ := b.Connections(ctx); len(cs) != 0 {
				t.Errorf("the acceptor kept %d connections: %+v", len(cs), cs)
			}
			if cs, _ := a.Connections(ctx); tc.pending && (len(cs) != 1 || cs[0].Status != engine.StatusPending) {
				t.Errorf("the inviter's connection: %+v; want its one invitation, still Pending", cs)
			}
			if n := hits.Load(); n != 0 {
				t.Errorf("the reported URL got %d requests", n)
			}
		})
	}

	t.Run("honest", func(t *testing.T) {
		clk := &clock{}
		a, b := startNode(t, "Acme", clk), startNode(t, "Globex", clk)
		ctx := ctxFor(t)
		fr := front(t, a, "front", "front")
		_, code, err := a.Invite(ctx, engine.InviteRequest{Project: "Company"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := b.Accept(ctx, pointedAt(t, code, fr.URL+"/"), "Test")
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != engine.StatusActive || c.RemoteURL != fr.URL {
			t.Errorf("accepted: %s at %q; want Active at %s", c.Status, c.RemoteURL, fr.URL)
		}
	})
}

// TestConnectRefusesAnotherReportedURL: the "connect" path reaches the
// destination at the URL the admin gave. A destination that reports
// another is refused when invited; one that reports another when it
// redeems is refused then, and neither side keeps a connection it could
// use.
func TestConnectRefusesAnotherReportedURL(t *testing.T) {
	clk := &clock{}
	a, b := startNode(t, "Acme", clk), startNode(t, "Globex", clk)
	ctx := ctxFor(t)
	bad, hits := decoy(t)

	lying := front(t, b, bad.URL, "")
	_, _, err := a.Invite(ctx, engine.InviteRequest{To: lying.URL, Project: "Company"})
	if !errors.Is(err, engine.ErrURLMismatch) || !strings.Contains(err.Error(), lying.URL) || !strings.Contains(err.Error(), bad.URL) {
		t.Errorf("invite: %v; want ErrURLMismatch naming %s and %s", err, lying.URL, bad.URL)
	}
	if cs, _ := a.Connections(ctx); len(cs) != 0 {
		t.Errorf("a refused invite left %d connections", len(cs))
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the reported URL got %d requests", n)
	}

	// Reached through a front that reports itself, Globex redeems as
	// itself, at its own URL: not the node invited.
	other := front(t, b, "front", "")
	_, code, err := a.Invite(ctx, engine.InviteRequest{To: other.URL, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Accept(ctx, code, "Test")
	if !errors.Is(err, engine.ErrURLMismatch) || !strings.Contains(err.Error(), other.URL) || !strings.Contains(err.Error(), b.url) {
		t.Errorf("accept: %v; want ErrURLMismatch naming %s and %s", err, other.URL, b.url)
	}
	if cs, _ := b.Connections(ctx); len(cs) != 0 {
		t.Errorf("the acceptor kept %d connections", len(cs))
	}
	if cs, _ := a.Connections(ctx); len(cs) != 1 || cs[0].Status != engine.StatusPending {
		t.Errorf("the inviter: %+v; want its invitation, still Pending", cs)
	}
	if !strings.Contains(a.log.String(), "reports another URL") {
		t.Error("the inviter did not log the refused redemption")
	}
}

// TestNoRedirectBetweenNodes: an inviter whose URL answers with a redirect
// can't send the acceptor elsewhere that way either. Go's client would
// follow a 307 and send the request, body and signature headers included,
// to the host it names; the node's follows no redirect.
func TestNoRedirectBetweenNodes(t *testing.T) {
	clk := &clock{}
	a, b := startNode(t, "Acme", clk), startNode(t, "Globex", clk)
	ctx := ctxFor(t)
	bad, hits := decoy(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, bad.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirect.Close)
	_, code, err := a.Invite(ctx, engine.InviteRequest{Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	code = pointedAt(t, code, redirect.URL)
	_, err = b.Accept(ctx, code, "Test")
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Errorf("accept through a redirect: %v; want a refusal naming the redirect", err)
	}
	if _, err := b.Probe(ctx, redirect.URL); err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Errorf("probe through a redirect: %v; want a refusal naming the redirect", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect's target got %d requests", n)
	}
	if cs, err := b.Connections(ctx); err != nil || len(cs) != 0 {
		t.Errorf("connections left on the acceptor: %v, %v", cs, err)
	}
}
