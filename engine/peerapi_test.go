package engine_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/engine"
)

// send replays a recorded request, after alter has had its way with it.
func send(t *testing.T, rec recorded, alter func(r *http.Request, body []byte) []byte) int {
	t.Helper()
	body := bytes.Clone(rec.body)
	req, err := http.NewRequest(rec.method, rec.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = rec.header.Clone()
	if alter != nil {
		body = alter(req, body)
	}
	req.Body = http.NoBody
	if body != nil {
		req.Body = readCloser{bytes.NewReader(body)}
		req.ContentLength = int64(len(body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type readCloser struct{ *bytes.Reader }

// reasonLabels are the reasons of tandem_peer_refused_total.
var reasonLabels = map[error]string{engine.ErrReplayed: "replayed", engine.ErrUnsigned: "unsigned",
	engine.ErrBadSignature: "bad_signature", engine.ErrUnknownPeer: "unknown_connection", engine.ErrStale: "stale"}

// refusedCount reads the node's count of peer requests refused for reason
// from its /metrics.
func refusedCount(t *testing.T, nodeURL, reason string) int {
	t.Helper()
	resp, err := http.Get(nodeURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	prefix := `tandem_peer_refused_total{reason="` + reason + `"} `
	for line := range strings.Lines(buf.String()) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("/metrics: %q", line)
			}
			return n
		}
	}
	return 0
}

func (readCloser) Close() error { return nil }

func TestPeerAPIRefusesWhatTheConnectionDidNotSign(t *testing.T) {
	clkA := &clock{}
	a, b := startNode(t, "Acme", clkA), startNode(t, "Globex", &clock{})
	ctx := ctxFor(t)
	_, code, err := a.Invite(ctx, engine.InviteRequest{To: b.url, Project: "Company"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Accept(ctx, code, "Test"); err != nil {
		t.Fatal(err)
	}
	// A second connection between the same nodes, with a key of its own.
	if _, err := a.Connect(ctx, engine.ConnectRequest{To: b.url, DestToken: b.token, DestProject: "Company", Project: "Test"}); err != nil {
		t.Fatal(err)
	}
	// B's pings to A during the two accepts were signed with each
	// connection's key; the first one below has already been delivered.
	second := b.sent.find(t, engine.PathPing)
	var first recorded
	b.sent.mu.Lock()
	for _, r := range b.sent.reqs {
		if strings.HasSuffix(r.url, engine.PathPing) && r.header.Get(engine.HeaderConnection) != second.header.Get(engine.HeaderConnection) {
			first = r
		}
	}
	b.sent.mu.Unlock()
	if first.url == "" {
		t.Fatal("no ping on the first connection was recorded")
	}

	for _, tt := range []struct {
		name   string
		rec    recorded
		alter  func(*http.Request, []byte) []byte
		reason error
	}{
		{"replayed as sent", first, nil, engine.ErrReplayed},
		{"unsigned", first, func(r *http.Request, b []byte) []byte {
			for _, h := range []string{engine.HeaderSignature, engine.HeaderTimestamp, engine.HeaderConnection} {
				r.Header.Del(h)
			}
			return b
		}, engine.ErrUnsigned},
		{"one body byte flipped", second, func(_ *http.Request, b []byte) []byte { b[len(b)/2] ^= 1; return b }, engine.ErrBadSignature},
		{"timestamp moved by a millisecond", second, func(r *http.Request, b []byte) []byte {
			ms, _ := strconv.ParseInt(r.Header.Get(engine.HeaderTimestamp), 10, 64)
			r.Header.Set(engine.HeaderTimestamp, strconv.FormatInt(ms+1, 10))
			return b
		}, engine.ErrBadSignature},
		{"another connection's key", second, func(r *http.Request, b []byte) []byte {
			r.Header.Set(engine.HeaderConnection, first.header.Get(engine.HeaderConnection))
			return b
		}, engine.ErrBadSignature},
		{"a connection that does not exist", second, func(r *http.Request, b []byte) []byte {
			r.Header.Set(engine.HeaderConnection, "00000000-0000-0000-0000-000000000000")
			return b
		}, engine.ErrUnknownPeer},
		{"garbage signature", second, func(r *http.Request, b []byte) []byte {
			r.Header.Set(engine.HeaderSignature, "!!!")
			return b
		}, engine.ErrBadSignature},
	} {
		// Refusals are counted by reason; the log has a line per reason
		// now and then, not one per request.
		before := refusedCount(t, a.url, reasonLabels[tt.reason])
		if got := send(t, tt.rec, tt.alter); got != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", tt.name, got)
		}
		if after := refusedCount(t, a.url, reasonLabels[tt.reason]); after != before+1 {
			t.Errorf("%s: refusals for %q went from %d to %d, want one more", tt.name, reasonLabels[tt.reason], before, after)
		}
		if !strings.Contains(a.log.String(), tt.reason.Error()) {
			t.Errorf("%s: the log never gives the reason %q", tt.name, tt.reason)
		}
	}

	// The untouched second ping is stale once A's clock has moved on.
	clkA.set(engine.SignatureWindow + time.Minute)
	before := refusedCount(t, a.url, "stale")
	if got := send(t, second, nil); got != http.StatusUnauthorized {
		t.Errorf("stale: status %d, want 401", got)
	}
	if after := refusedCount(t, a.url, "stale"); after != before+1 || !strings.Contains(a.log.String(), engine.ErrStale.Error()) {
		t.Errorf("stale: refusals went from %d to %d, or the log never says why", before, after)
	}
	// No secret reached the log.
	if logs := a.log.String(); strings.Contains(logs, second.header.Get(engine.HeaderSignature)) || strings.Contains(logs, a.token) {
		t.Error("the log holds a signature or the admin token")
	}
}

func TestAdminAPINeedsTheAdminToken(t *testing.T) {
	a, b := startNode(t, "Acme", &clock{}), startNode(t, "Globex", &clock{})
	for _, tok := range []string{"", "tdm_admin_nope", b.token} {
		req, _ := http.NewRequest(http.MethodGet, a.url+"/api/v1/admin/connections", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("token %q: status %d, want 401", tok, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, a.url+"/api/v1/admin/connections", nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the right token: status %d", resp.StatusCode)
	}
	// The public endpoints need nothing and say nothing secret.
	for _, path := range []string{engine.PathInstance, "/healthz", "/metrics"} {
		resp, err := http.Get(a.url + path)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.Contains(buf.String(), a.token) {
			t.Errorf("%s: status %d or the admin token in the body", path, resp.StatusCode)
		}
	}
}
