package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// hookTarget is a webhook receiver on loopback: it answers the handshake as
// told and hands every delivery to the test through a channel.
type hookTarget struct {
	t   *testing.T
	srv *httptest.Server
	got chan delivery
	// done ends handlers that hold an answer back, before the server closes.
	done chan struct{}

	mu         sync.Mutex
	handshake  string // "echo" (200), "echo204", "mismatch", "500", "hang"
	secrets    []string
	statuses   []int                 // answers to the next deliveries, then 200
	holds      map[int]chan struct{} // delivery number (from 1) to hold until closed
	deliveries int
	handshakes int
}

type delivery struct {
	body   []byte
	sig    string
	events []map[string]any
}

func newHookTarget(t *testing.T, handshake string) *hookTarget {
	t.Helper()
	h := &hookTarget{t: t, got: make(chan delivery, 1000), done: make(chan struct{}), handshake: handshake}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	t.Cleanup(func() { close(h.done) }) // runs first: cleanups are LIFO
	return h
}

func (h *hookTarget) url() string { return h.srv.URL + "/hooks/1?app=x" }

func (h *hookTarget) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Method != http.MethodPost || r.URL.Query().Get("app") != "x" {
		h.t.Errorf("target got %s %s, body error %v", r.Method, r.URL, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if secret := r.Header.Get("X-Hook-Secret"); secret != "" {
		h.mu.Lock()
		h.handshakes++
		h.secrets = append(h.secrets, secret)
		mode := h.handshake
		h.mu.Unlock()
		if len(body) != 0 {
			h.t.Errorf("handshake body = %q, want empty", body)
		}
		switch mode {
		case "echo":
			w.Header().Set("X-Hook-Secret", secret)
		case "echo204":
			w.Header().Set("X-Hook-Secret", secret)
			w.WriteHeader(http.StatusNoContent)
		case "mismatch":
			w.Header().Set("X-Hook-Secret", secret[:len(secret)-1]+"x")
		case "500":
			w.Header().Set("X-Hook-Secret", secret)
			w.WriteHeader(http.StatusInternalServerError)
		case "hang":
			select {
			case <-r.Context().Done():
			case <-h.done:
			}
		}
		return
	}
	d := delivery{body: body, sig: r.Header.Get("X-Hook-Signature")}
	var env struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Events == nil {
		h.t.Errorf("delivery body %q: %v", body, err)
	}
	d.events = env.Events
	h.mu.Lock()
	status := http.StatusOK
	if len(h.statuses) > 0 {
		status, h.statuses = h.statuses[0], h.statuses[1:]
	}
	h.deliveries++
	hold := h.holds[h.deliveries]
	h.mu.Unlock()
	h.got <- d
	if hold != nil {
		select {
		case <-hold:
		case <-h.done:
		}
	}
	if status != http.StatusOK {
		http.Error(w, "could not take it", status)
		return
	}
	w.WriteHeader(status)
}

// answer queues the status codes of the next deliveries.
func (h *hookTarget) answer(statuses ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.statuses = append(h.statuses, statuses...)
}

// holdAt makes delivery number n (from 1) wait for its answer until
// release is called.
func (h *hookTarget) holdAt(n int) (release func()) {
	ch := make(chan struct{})
	h.mu.Lock()
	if h.holds == nil {
		h.holds = map[int]chan struct{}{}
	}
	h.holds[n] = ch
	h.mu.Unlock()
	return sync.OnceFunc(func() { close(ch) })
}

func (h *hookTarget) secretsSeen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.secrets...)
}

// until collects delivered events until one satisfies stop.
func (h *hookTarget) until(secret string, stop func(ev map[string]any) bool) []map[string]any {
	h.t.Helper()
	var out []map[string]any
	for {
		for _, ev := range h.next(secret).events {
			out = append(out, ev)
			if stop(ev) {
				return out
			}
		}
	}
}

func (h *hookTarget) handshakeCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.handshakes
}

// next waits for the next delivery and checks its signature with secret.
func (h *hookTarget) next(secret string) delivery {
	h.t.Helper()
	select {
	case d := <-h.got:
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(d.body)
		if want := hex.EncodeToString(m.Sum(nil)); d.sig != want {
			h.t.Fatalf("X-Hook-Signature = %q, want %q for %s", d.sig, want, d.body)
		}
		return d
	case <-time.After(10 * time.Second):
		h.t.Fatal("timed out waiting for a delivery")
		return delivery{}
	}
}

// none checks that nothing was delivered so far.
func (h *hookTarget) none() {
	h.t.Helper()
	select {
	case d := <-h.got:
		h.t.Fatalf("unexpected delivery %s", d.body)
	default:
	}
}

// hook creates a webhook on resource for target and returns its gid and
// secret.
func (e *env) hook(resource, target string, filters ...any) (gid, secret string) {
	e.t.Helper()
	data := map[string]any{"resource": resource, "target": target}
	if len(filters) > 0 {
		data["filters"] = filters
	}
	r := e.ok(201, "POST", "/webhooks", data)
	secret, _ = r.body["X-Hook-Secret"].(string)
	return r.data()["gid"].(string), secret
}
