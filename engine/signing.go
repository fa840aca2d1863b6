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

// VerifyRequest checks a signed request against the key of the connection
// it names (key looks it up) and, once the signature holds, against replays
// (seen records the signature and reports whether it is fresh). It returns
// the connection id. The body must already have been read in full.
func VerifyRequest(r *http.Request, body []byte, now time.Time,
	key func(connID string) ([]byte, error),
	seen func(connID, nonce string, expires time.Time) (bool, error),
) (string, error) {
	connID := r.Header.Get(HeaderConnection)
	ts := r.Header.Get(HeaderTimestamp)
	sig := r.Header.Get(HeaderSignature)
	idem := r.Header.Get(HeaderIdempotency)
	if connID == "" || ts == "" || sig == "" {
		return "", ErrUnsigned
	}
	// The signed string separates its parts with line breaks, so a part
	// holding one would let two different requests share a signature. No
	// request over HTTP has one there; refuse what was built otherwise.
	uri := r.URL.RequestURI()
	if strings.Contains(connID+r.Method+uri+idem, "\n") {
		return connID, fmt.Errorf("%w: a signed part holds a line break", ErrUnsigned)
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return connID, fmt.Errorf("%w: timestamp %q is not unix milliseconds", ErrUnsigned, ts)
	}
	if d := now.Sub(time.UnixMilli(ms)); d > SignatureWindow || d < -SignatureWindow {
		return connID, ErrStale
	}
	k, err := key(connID)
	if err != nil {
		return connID, err
	}
	// Strict decoding: otherwise the unused low bits of the last character
	// give each signature several spellings, each one "fresh".
	got, err := base64.StdEncoding.Strict().DecodeString(sig)
	if err != nil {
		return connID, ErrBadSignature
	}
	sum := sha256.Sum256(body)
	want := mac(k, signedString(connID, r.Method, uri, ts, idem, hex.EncodeToString(sum[:])))
	if !hmac.Equal(got, want) {
		return connID, ErrBadSignature
	}
	// The MAC is unique to this attempt; remembering it past the window is
	// enough, since older copies fail the timestamp check.
	fresh, err := seen(connID, hex.EncodeToString(got), time.UnixMilli(ms).Add(SignatureWindow))
	if err != nil {
		return connID, fmt.Errorf("checking request for replay: %w", err)
	}
	if !fresh {
		return connID, ErrReplayed
	}
	return connID, nil
}
