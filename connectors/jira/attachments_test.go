package jira_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tandem-sync/tandem/connectors/jira"
	"github.com/tandem-sync/tandem/connectors/jira/sandbox"
	"github.com/tandem-sync/tandem/engine/tracker"
)

func randomBytes(n int) []byte {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestTrackerAttachmentsRoundTrip(t *testing.T) {
	// The first upload attempt is answered with a 503 after its body was
	// sent: the retry must open the file again and send it whole.
	var uploads atomic.Int32
	var failed atomic.Bool
	e := start(t, func(c *jira.Config) {
		c.HTTPClient = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/attachments") {
				uploads.Add(1)
				if r.Header.Get("X-Atlassian-Token") != "no-check" {
					t.Errorf("upload without X-Atlassian-Token: no-check")
				}
				if failed.CompareAndSwap(false, true) {
					io.Copy(io.Discard, r.Body)
					return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
				}
			}
			return http.DefaultTransport.RoundTrip(r)
		})}
	}, sandbox.WithSeed("empty"))
	c := ctx(t)
	tr, _ := e.tracker(t)
	made, err := tr.Create(c, tracker.NewEntity{Project: "KAN", Summary: "with a file"})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(300 << 10)
	var opens atomic.Int32
	open := func() (io.ReadCloser, error) {
		opens.Add(1)
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	att, err := tr.AddAttachment(c, made.ID, "report «final».bin", int64(len(data)), open)
	if err != nil {
		t.Fatal(err)
	}
	if opens.Load() != 2 || uploads.Load() != 2 {
		t.Errorf("open called %d times for %d uploads, want 2 and 2", opens.Load(), uploads.Load())
	}
	if att.ID == "" || att.Name != "report «final».bin" || att.Size != int64(len(data)) {
		t.Errorf("AddAttachment = %+v", att)
	}
	got, err := tr.Get(c, made.ID)
	if err != nil || len(got.Attachments) != 1 || got.Attachments[0] != att {
		t.Fatalf("Get after the upload: %+v %v; want %+v", got.Attachments, err, att)
	}

	before := e.client.Stats()
	rc, meta, err := tr.OpenAttachment(c, att.ID)
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("downloaded %d bytes (%v), want the %d uploaded", len(back), err, len(data))
	}
	if meta != att {
		t.Errorf("OpenAttachment metadata = %+v, want %+v", meta, att)
	}
	if d := e.client.Stats().Sub(before); d.Downloads != 1 || d.Reads != 1 {
		t.Errorf("download stats %+v, want one download counted as one read", d)
	}
	if _, _, err := tr.OpenAttachment(c, "99999"); !errors.Is(err, tracker.ErrNotFound) {
		t.Errorf("OpenAttachment of a missing file: %v", err)
	}
}

func TestUploadOverLimitRefusedBeforeSending(t *testing.T) {
	e := start(t, nil)
	tr, _ := e.tracker(t)
	if tr.MaxAttachmentSize() != jira.DefaultMaxAttachmentSize || jira.DefaultMaxAttachmentSize != 1<<30 {
		t.Errorf("default limit %d", tr.MaxAttachmentSize())
	}
	tr.SetMaxAttachmentSize(10)
	before := e.sb.Requests()
	_, err := tr.AddAttachment(ctx(t), "10000", "big.bin", 11, func() (io.ReadCloser, error) {
		t.Error("open was called")
		return io.NopCloser(strings.NewReader("")), nil
	})
	if !errors.Is(err, jira.ErrTooLarge) || e.sb.Requests() != before {
		t.Errorf("over the limit: %v after %d requests", err, e.sb.Requests()-before)
	}
	tr.SetMaxAttachmentSize(0)
	if tr.MaxAttachmentSize() != jira.DefaultMaxAttachmentSize {
		t.Errorf("SetMaxAttachmentSize(0) left %d", tr.MaxAttachmentSize())
	}
}

func TestUploadSizeMismatchIsAnError(t *testing.T) {
	e := start(t, nil)
	tr, _ := e.tracker(t)
	id := e.issueNamed(t, "KAN", "Update the privacy policy page").ID.String()
	for _, n := range []int64{3, 30} {
		_, err := tr.AddAttachment(ctx(t), id, "x.txt", n, func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader("0123456789")), nil
		})
		if err == nil || !strings.Contains(err.Error(), "announced size") {
			t.Errorf("a 10-byte file announced as %d: %v", n, err)
		}
	}
}

// TestDownloadRedirectKeepsTheTokenHome follows Jira's 303 to a media host
// on another port of the same machine, which Go's client alone would send
// the Authorization header to.
func TestDownloadRedirectKeepsTheTokenHome(t *testing.T) {
	var mu sync.Mutex
	var mediaAuth []string
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		mediaAuth = append(mediaAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Disposition", `attachment; filename="moved.txt"`)
		io.WriteString(w, "moved bytes")
	}))
	t.Cleanup(media.Close)
	var apiAuth atomic.Bool
	e := start(t, func(c *jira.Config) {
		c.HTTPClient = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			if strings.Contains(r.URL.Path, "/attachment/content/") {
				apiAuth.Store(strings.HasPrefix(r.Header.Get("Authorization"), "Basic "))
				h := http.Header{"Location": {media.URL + "/file/1"}}
				return &http.Response{StatusCode: http.StatusSeeOther, Header: h, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
			}
			return http.DefaultTransport.RoundTrip(r)
		})}
	})
	e.mayBeSilent = true // the transport answers for the sandbox
	rc, att, err := e.client.Download(ctx(t), "10000")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	rc.Close()
	if string(body) != "moved bytes" || att.Filename != "moved.txt" || att.Size != int64(len(body)) {
		t.Errorf("download = %q %+v", body, att)
	}
	mu.Lock()
	defer mu.Unlock()
	if !apiAuth.Load() || len(mediaAuth) != 1 || mediaAuth[0] != "" {
		// The header's value is a credential: say only whether it came.
		t.Errorf("Authorization sent to the API: %v; to the media host: %v of %d requests (want it never sent there)",
			apiAuth.Load(), slices.IndexFunc(mediaAuth, func(s string) bool { return s != "" }) >= 0, len(mediaAuth))
	}
}

func TestDownloadFollowsTheSandboxRedirect(t *testing.T) {
	var redirected atomic.Bool
	e := start(t, func(c *jira.Config) {
		c.HTTPClient = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			resp, err := http.DefaultTransport.RoundTrip(r)
			if err == nil && resp.StatusCode == http.StatusSeeOther {
				redirected.Store(true)
			}
			return resp, err
		})}
	})
	tr, _ := e.tracker(t)
	got, err := tr.Get(ctx(t), e.issueNamed(t, "KAN", "Login button unresponsive on Safari 17").ID.String())
	if err != nil || len(got.Attachments) != 1 {
		t.Fatalf("%+v %v", got.Attachments, err)
	}
	rc, meta, err := tr.OpenAttachment(ctx(t), got.Attachments[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil || !strings.Contains(string(body), "Content Security Policy") || meta != got.Attachments[0] || !redirected.Load() {
		t.Errorf("seeded file: %q %v, meta %+v vs %+v, redirected %v", body, err, meta, got.Attachments[0], redirected.Load())
	}
}
