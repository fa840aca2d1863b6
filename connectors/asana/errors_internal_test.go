package asana

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/apiclient"
)

func TestDecodeError(t *testing.T) {
	tests := []struct {
		status  int
		body    string
		header  http.Header
		is      error
		message string
		after   time.Duration
	}{
		{400, `{"errors":[{"message":"projects: [0]: Not a recognized ID: 42","help":"see docs"}]}`, nil,
			ErrInvalidRequest, "projects: [0]: Not a recognized ID: 42", 0},
		{401, `{"errors":[{"message":"Not Authorized"}]}`, nil, ErrUnauthorized, "Not Authorized", 0},
		{402, `{"errors":[{"message":"premium only"}]}`, nil, ErrPaymentRequired, "premium only", 0},
		{403, `{"errors":[{"message":"forbidden"}]}`, nil, ErrForbidden, "forbidden", 0},
		{404, `{"errors":[{"message":"Unknown object: 1"}]}`, nil, ErrNotFound, "Unknown object: 1", 0},
		{429, `{"errors":[{"message":"slow down"}]}`, http.Header{"Retry-After": {"30"}}, ErrRateLimited, "slow down", 30 * time.Second},
		{500, `{"errors":[{"message":"Server Error","phrase":"6 sad squid snuggle softly"}]}`, nil, ErrServer, "Server Error", 0},
		{502, "<html>\n<body>Bad gateway</body>\n</html>", nil, ErrServer, "<html> <body>Bad gateway</body> </html>", 0},
		{503, "", http.Header{"Retry-After": {"soon"}}, ErrServer, "Service Unavailable", 0},
	}
	for _, tt := range tests {
		h := tt.header
		if h == nil {
			h = http.Header{}
		}
		e := decodeError("GET", "/tasks/1", tt.status, h, []byte(tt.body))
		if !errors.Is(e, tt.is) {
			t.Errorf("%d: not %v", tt.status, tt.is)
		}
		for _, other := range []error{ErrInvalidRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited, ErrServer} {
			if other != tt.is && errors.Is(e, other) {
				t.Errorf("%d: also matches %v", tt.status, other)
			}
		}
		if !strings.Contains(e.Error(), tt.message) || !strings.Contains(e.Error(), "/tasks/1") {
			t.Errorf("%d: %q lacks %q or the path", tt.status, e.Error(), tt.message)
		}
		if e.RetryAfter != tt.after {
			t.Errorf("%d: RetryAfter = %v, want %v", tt.status, e.RetryAfter, tt.after)
		}
	}
	if e := decodeError("GET", "/x", 500, http.Header{}, []byte(`{"errors":[{"message":"m","phrase":"p q"}]}`)); !strings.Contains(e.Error(), "phrase: p q") {
		t.Errorf("500 error %q does not carry Asana's phrase", e)
	}
	long := decodeError("GET", "/x", 502, http.Header{}, []byte(strings.Repeat("x", 5000)))
	if len(long.Error()) > 300 {
		t.Errorf("a 5000-byte non-JSON body made a %d-byte error", len(long.Error()))
	}
}

func TestCheckGID(t *testing.T) {
	for _, ok := range []string{"1", "1204567890123456"} {
		if err := checkGID("task", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-1", "12 3", "1/2", "me", "１２"} {
		if err := checkGID("task", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestMultipartFrameIsExact(t *testing.T) {
	for _, name := range []string{"plain.txt", `a "quoted" \ name.txt`, "été.pdf", "50%.csv", "new\nline", "dir/file.txt"} {
		data := "hello, file"
		u := Upload{Parent: "123", Name: name, Size: int64(len(data))}
		head, tail, ct, err := multipartFrame(u)
		if err != nil {
			t.Fatal(err)
		}
		body := string(head) + data + string(tail)
		_, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatal(err)
		}
		r := multipart.NewReader(strings.NewReader(body), params["boundary"])
		form, err := r.ReadForm(1 << 20)
		if err != nil {
			t.Fatalf("%q: the frame is not valid multipart: %v", name, err)
		}
		if form.Value["parent"][0] != "123" {
			t.Errorf("%q: parent = %v", name, form.Value["parent"])
		}
		fh := form.File["file"][0]
		if got := DecodeDispositionName(fh.Filename); got != name {
			t.Errorf("file name %q came back as %q (raw %q)", name, got, fh.Filename)
		}
		f, _ := fh.Open()
		got, _ := io.ReadAll(f)
		if string(got) != data {
			t.Errorf("%q: file part = %q", name, got)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 0, "7": 7 * time.Second, "-3": 0, "x": 0, "1.5": 0} {
		if got := apiclient.ParseRetryAfter(http.Header{"Retry-After": {v}}); got != want {
			t.Errorf("Retry-After %q = %v, want %v", v, got, want)
		}
	}
	future := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	if got := apiclient.ParseRetryAfter(http.Header{"Retry-After": {future}}); got < 80*time.Second || got > 91*time.Second {
		t.Errorf("Retry-After as a date 90 s ahead = %v", got)
	}
}
