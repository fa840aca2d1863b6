package sandboxkit

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// Object is a JSON object that keeps its members in insertion order, so
// that answers read like the tracker's own (ids first).
type Object struct {
	keys []string
	vals []any
}

// Set appends the member k; it does not look for an earlier k.
func (o *Object) Set(k string, v any) {
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

// MarshalJSON writes the members in insertion order, HTML unescaped.
func (o *Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode adds a newline
		b.WriteByte(':')
		if err := enc.Encode(o.vals[i]); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// JSONStyle is how one tracker writes JSON answers.
type JSONStyle struct {
	// ContentType is the Content-Type header, spelled as the tracker does.
	ContentType string
	// Broken is the body, in the tracker's error format, sent with a 500
	// when a value cannot be encoded (a sandbox bug).
	Broken string
}

// Write answers status with v as JSON, indented when pretty. HTML is not
// escaped, as neither tracker escapes it, and Content-Length is set.
func (js JSONStyle) Write(w http.ResponseWriter, status int, v any, pretty bool) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if pretty {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(js.Broken + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", js.ContentType)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
