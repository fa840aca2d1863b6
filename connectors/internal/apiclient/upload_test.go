package apiclient_test

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tandem-sync/tandem/connectors/internal/apiclient"
)

func TestFileBodyStreamsAnExactForm(t *testing.T) {
	var got atomic.Value
	c, url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			t.Errorf("not multipart: %v", err)
			return
		}
		f, fh, err := r.FormFile("file")
		if err != nil {
			t.Error(err)
			return
		}
		b, _ := io.ReadAll(f)
		got.Store(r.FormValue("parent") + "|" + fh.Filename + "|" + fh.Header.Get("Content-Type") + "|" + string(b))
	}, nil)
	data := "hello, file"
	head, tail, ct, err := apiclient.MultipartFrame("a.txt", "", apiclient.Field{Name: "parent", Value: "42"})
	if err != nil {
		t.Fatal(err)
	}
	if mt, _, _ := mime.ParseMediaType(ct); mt != "multipart/form-data" {
		t.Fatalf("form type %q", ct)
	}
	req := create(url)
	req.Body = nil
	req.Open = apiclient.FileBody(head, tail, ct, "a.txt", int64(len(data)), func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(data)), nil
	})
	if _, err := c.Send(ctx(t), req); err != nil {
		t.Fatal(err)
	}
	if v, _ := got.Load().(string); v != "42|a.txt|application/octet-stream|hello, file" {
		t.Errorf("server read %q", v)
	}
}

func TestFileBodyFailuresAreFinal(t *testing.T) {
	var n atomic.Int32
	c, url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.Copy(io.Discard, r.Body)
	}, nil)
	head, tail, ct, err := apiclient.MultipartFrame("a.txt", "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	gone := errors.New("no such file")
	for name, open := range map[string]func() (io.ReadCloser, error){
		"unopenable": func() (io.ReadCloser, error) { return nil, gone },
		"short":      func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("abc")), nil },
		"long":       func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(strings.Repeat("x", 20))), nil },
	} {
		opens := 0
		req := get(url)
		req.Method, req.Write = http.MethodPut, true
		req.Open = apiclient.FileBody(head, tail, ct, "a.txt", 10, func() (io.ReadCloser, error) {
			opens++
			return open()
		})
		if _, err := c.Send(ctx(t), req); err == nil || !strings.Contains(err.Error(), `"a.txt"`) {
			t.Errorf("%s: err = %v, want one naming the file", name, err)
		}
		if opens != 1 {
			t.Errorf("%s: opened %d times; sending again can't help", name, opens)
		}
	}
	if s := c.Stats(); s.Retries != 0 {
		t.Errorf("stats = %+v, want no retries", s)
	}
}

func TestBodyText(t *testing.T) {
	for body, want := range map[string]string{
		"":       "",
		" \n\t ": "",
		"<html>\n  <body>Bad gateway</body>\n</html>": "<html> <body>Bad gateway</body> </html>",
		strings.Repeat("x", 5000):                     strings.Repeat("x", 200) + "…",
	} {
		if got := apiclient.BodyText([]byte(body)); got != want {
			t.Errorf("BodyText(%.20q) = %.30q, want %.30q", body, got, want)
		}
	}
}
