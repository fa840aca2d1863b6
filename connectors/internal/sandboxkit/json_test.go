package sandboxkit

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestObjectKeepsOrder(t *testing.T) {
	inner := &Object{}
	inner.Set("z", 1)
	inner.Set("a", []string{"<b>"})
	o := &Object{}
	o.Set("id", "10001")
	o.Set("self", "http://x/?a=1&b=2")
	o.Set("fields", inner)
	o.Set("none", nil)
	// Through an encoder, as the sandboxes write: json.Marshal would escape
	// the HTML again after MarshalJSON.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(o); err != nil {
		t.Fatal(err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	want := `{"id":"10001","self":"http://x/?a=1&b=2","fields":{"z":1,"a":["<b>"]},"none":null}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if b, _ := json.Marshal(&Object{}); string(b) != "{}" {
		t.Errorf("empty object %s", b)
	}
	bad := &Object{}
	bad.Set("x", math.Inf(1))
	if _, err := json.Marshal(bad); err == nil {
		t.Error("an unencodable member was marshalled")
	}
}

func TestJSONStyleWrite(t *testing.T) {
	style := JSONStyle{ContentType: "application/json;charset=UTF-8", Broken: `{"broken":true}`}
	o := &Object{}
	o.Set("b", "<i>")
	o.Set("a", 1)

	w := httptest.NewRecorder()
	style.Write(w, http.StatusCreated, o, false)
	if w.Code != 201 || w.Body.String() != `{"b":"<i>","a":1}`+"\n" {
		t.Errorf("plain: %d %q", w.Code, w.Body)
	}
	if w.Header().Get("Content-Type") != style.ContentType || w.Header().Get("Content-Length") != "18" {
		t.Errorf("plain headers %v", w.Header())
	}

	w = httptest.NewRecorder()
	style.Write(w, http.StatusOK, o, true)
	if want := "{\n  \"b\": \"<i>\",\n  \"a\": 1\n}\n"; w.Body.String() != want {
		t.Errorf("pretty: %q, want %q", w.Body, want)
	}

	w = httptest.NewRecorder()
	style.Write(w, http.StatusOK, math.NaN(), false)
	if w.Code != 500 || w.Body.String() != style.Broken+"\n" || w.Header().Get("Content-Length") != "16" {
		t.Errorf("unencodable: %d %q %v", w.Code, w.Body, w.Header())
	}
}
