package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a signed peer request.
const (
	HeaderConnection  = "Tandem-Connection" // the receiver's connection id
	HeaderTimestamp   = "Tandem-Timestamp"  // unix milliseconds
	HeaderIdempotency = "Idempotency-Key"   // one logical operation, the same on every retry
	HeaderSignature   = "Tandem-Signature"  // base64 HMAC-SHA256, see signedString
)

// SignatureWindow is how far a signed request's timestamp may be from the
// receiver's clock.
const SignatureWindow = 5 * time.Minute

// Reasons a signed request is refused. The peer API answers all of them with
// 401 and logs which, never the key or the signature.
var (
	ErrUnsigned     = errors.New("request is not signed")
	ErrUnknownPeer  = errors.New("request names no connection this node has")
	ErrStale        = errors.New("request timestamp is outside the allowed window")
	ErrBadSignature = errors.New("request signature does not match")
	ErrReplayed     = errors.New("request was already received")
)

// signedString is what the signature covers: the connection id (the two
// ends of a local connection share one key, so the key alone does not say
// which end a request is for), method, path with query, timestamp,
// idempotency key and the body's hash.
func signedString(connID, method, path, ts, idem, bodyHash string) string {
	return "tandem-v1\n" + connID + "\n" + method + "\n" + path + "\n" + ts + "\n" + idem + "\n" + bodyHash
}

func mac(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// SignRequest signs r, whose body is body, for the peer whose connection id
// is remoteConnID. Every attempt is signed afresh (timestamps are in
// milliseconds), so a retry is a new request and never looks like a replay;
// idem stays the same across retries so the peer applies the operation once.
func SignRequest(r *http.Request, body []byte, remoteConnID string, key []byte, idem string, now time.Time) {
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	sum := sha256.Sum256(body)
	bodyHash := hex.EncodeToString(sum[:])
	r.Header.Set(HeaderConnection, remoteConnID)
	r.Header.Set(HeaderTimestamp, ts)
	r.Header.Set(HeaderIdempotency, idem)
	r.Header.Set(HeaderSignature, base64.StdEncoding.EncodeToString(mac(key, signedString(remoteConnID, r.Method, r.URL.RequestURI(), ts, idem, bodyHash))))
}

// maxConnIDLen bounds the connection id a request may name: ids are UUIDs,
// and a longer one is refused before it costs a store lookup.
const maxConnIDLen = 64

// SignedHeaders are a signed request's headers, checked for form and age
// by CheckSignedHeaders. They let a receiver refuse an unsigned, stale or
// malformed request before it reads one byte of the body; the MAC, which
// covers the body's hash, is checked by Verify once the body is in.
type SignedHeaders struct {
	// ConnID is the receiver's connection id the request names.
	ConnID string

	method, uri, ts, idem string
	at                    time.Time
	mac                   []byte
}

// CheckSignedHeaders checks what can be checked of a signed request
// without its body or its key: the headers are there, well formed, and
// the timestamp is within SignatureWindow of now.
func CheckSignedHeaders(r *http.Request, now time.Time) (SignedHeaders, error) {
	h := SignedHeaders{ConnID: r.Header.Get(HeaderConnection), method: r.Method, uri: r.URL.RequestURI(),
		ts: r.Header.Get(HeaderTimestamp), idem: r.Header.Get(HeaderIdempotency)}
	sig := r.Header.Get(HeaderSignature)
	if h.ConnID == "" || h.ts == "" || sig == "" {
		return h, ErrUnsigned
	}
	if len(h.ConnID) > maxConnIDLen {
		return h, fmt.Errorf("%w: the connection id is %d bytes long", ErrUnknownPeer, len(h.ConnID))
	}
	// The signed string separates its parts with line breaks, so a part
	// holding one would let two different requests share a signature. No
	// request over HTTP has one there; refuse what was built otherwise.
	if strings.Contains(h.ConnID+h.method+h.uri+h.idem, "\n") {
		return h, fmt.Errorf("%w: a signed part holds a line break", ErrUnsigned)
	}
	ms, err := strconv.ParseInt(h.ts, 10, 64)
	if err != nil {
		return h, fmt.Errorf("%w: timestamp %q is not unix milliseconds", ErrUnsigned, h.ts)
	}
	h.at = time.UnixMilli(ms)
	if d := now.Sub(h.at); d > SignatureWindow || d < -SignatureWindow {
		return h, ErrStale
	}
	// Strict decoding: otherwise the unused low bits of the last character
	// give each signature several spellings, each one "fresh".
	if h.mac, err = base64.StdEncoding.Strict().DecodeString(sig); err != nil || len(h.mac) != sha256.Size {
		return h, ErrBadSignature
	}
	return h, nil
}

// Verify checks the request's MAC with key, given the sha256 of its body
// (hashed as it was read).
func (h SignedHeaders) Verify(key, bodySum []byte) error {
	want := mac(key, signedString(h.ConnID, h.method, h.uri, h.ts, h.idem, hex.EncodeToString(bodySum)))
	if !hmac.Equal(h.mac, want) {
		return ErrBadSignature
	}
	return nil
}

// Nonce is what a receiver remembers to refuse a replay: the MAC, unique
// to this attempt.
func (h SignedHeaders) Nonce() string { return hex.EncodeToString(h.mac) }

// Expires is how long the nonce must be remembered: past the window, older
// copies fail the timestamp check anyway.
func (h SignedHeaders) Expires() time.Time { return h.at.Add(SignatureWindow) }

// VerifyRequest checks a signed request against the key of the connection
// it names (key looks it up) and, once the signature holds, against replays
// (seen records the signature and reports whether it is fresh). It returns
// the connection id. The body must already have been read in full; a
// receiver that has not read it yet uses CheckSignedHeaders and Verify.
func VerifyRequest(r *http.Request, body []byte, now time.Time,
	key func(connID string) ([]byte, error),
	seen func(connID, nonce string, expires time.Time) (bool, error),
) (string, error) {
	h, err := CheckSignedHeaders(r, now)
	if err != nil {
		return h.ConnID, err
	}
	k, err := key(h.ConnID)
	if err != nil {
		return h.ConnID, err
	}
	sum := sha256.Sum256(body)
	if err := h.Verify(k, sum[:]); err != nil {
		return h.ConnID, err
	}
	fresh, err := seen(h.ConnID, h.Nonce(), h.Expires())
	if err != nil {
		return h.ConnID, fmt.Errorf("checking request for replay: %w", err)
	}
	if !fresh {
		return h.ConnID, ErrReplayed
	}
	return h.ConnID, nil
}
