package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/ so that plain `go test`
// replays them; `go test -fuzz=FuzzParseInvitation` (or FuzzVerifyRequest)
// grows them.

// fuzzNow is the clock of every fuzz target here: the seed codes expire
// relative to it.
var fuzzNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// FuzzParseInvitation checks that no code panics the parser, that a refused
// code gets one of the documented errors and nothing else, and that a code
// that parses (or is merely expired) carries every field Accept goes on to
// use and survives Encode and ParseInvitation unchanged.
//
// With wrap set, in is taken as the payload and given its checksum, so the
// fuzzer reaches the JSON and the field checks behind it; otherwise in is
// the code as pasted.
func FuzzParseInvitation(f *testing.F) {
	inv := sampleInvitation(fuzzNow)
	code, err := inv.Encode()
	if err != nil {
		f.Fatal(err)
	}
	if _, err := ParseInvitation(code, fuzzNow); err != nil {
		f.Fatalf("the seed code does not parse: %v", err)
	}
	f.Add(code, false)
	f.Add(`{"u":"http://127.0.0.1:7001","n":"Acme","i":"inst-1","t":"asana","c":"conn-1","m":"basic","e":"2026-11-29T12:00:00Z","s":"BwcHBwcHBwcHBwcHBwcHBw=="}`, true)
	f.Fuzz(func(t *testing.T, in string, wrap bool) {
		code := in
		if wrap {
			sum := sha256.Sum256([]byte(in))
			code = invitationPrefix + base64.RawURLEncoding.EncodeToString(append([]byte(in), sum[:checksumSize]...))
		}
		inv, err := ParseInvitation(code, fuzzNow)
		switch {
		case err == nil:
			if !fuzzNow.Before(inv.Expires) {
				t.Fatalf("ParseInvitation(%q) accepted a code that expired at %v", code, inv.Expires)
			}
		case errors.Is(err, ErrInvitationExpired):
			if fuzzNow.Before(inv.Expires) {
				t.Fatalf("ParseInvitation(%q) = expired, but it expires at %v", code, inv.Expires)
			}
		case errors.Is(err, ErrInvitationMalformed), errors.Is(err, ErrInvitationTampered):
			if !reflect.DeepEqual(inv, Invitation{}) {
				t.Fatalf("ParseInvitation(%q) refused the code (%v) but returned %+v", code, err, inv)
			}
			return
		default:
			t.Fatalf("ParseInvitation(%q) = %v, which is none of the invitation errors", code, err)
		}
		if wrap && !json.Valid([]byte(in)) {
			t.Fatalf("ParseInvitation took payload %q, which is not JSON, for %+v", in, inv)
		}
		// What Accept uses of the code, and PreviewInvitation shows.
		if _, uerr := NormalizeURL(inv.URL); uerr != nil || inv.Name == "" || inv.ConnectionID == "" || inv.Mode == "" ||
			len(inv.Secret) < 16 || inv.Expires.IsZero() {
			t.Fatalf("ParseInvitation(%q) = %+v, %v: a field Accept needs is missing or unusable", code, inv, err)
		}
		again, eerr := inv.Encode()
		if eerr != nil {
			t.Fatalf("an invitation that parsed (%+v) does not encode: %v", inv, eerr)
		}
		back, berr := ParseInvitation(again, fuzzNow)
		if !errors.Is(berr, err) {
			t.Fatalf("re-encoded code %q parses with %v, the original with %v", again, berr, err)
		}
		if !back.Expires.Equal(inv.Expires) {
			t.Fatalf("expiry changed on the round trip: %v became %v", inv.Expires, back.Expires)
		}
		back.Expires = inv.Expires
		if !reflect.DeepEqual(back, inv) {
			t.Fatalf("round trip through %q changed the invitation:\n was %+v\n now %+v", again, inv, back)
		}
	})
}

// signedParts is everything of a request its signature is meant to cover.
type signedParts struct {
	conn, method, uri, ts, idem, bodyHash string
}

func partsOf(r *http.Request, body []byte) signedParts {
	sum := sha256.Sum256(body)
	return signedParts{r.Header.Get(HeaderConnection), r.Method, r.URL.RequestURI(),
		r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderIdempotency), hex.EncodeToString(sum[:])}
}

// fuzzTarget builds a request URL from a fuzzed string, as it would have
// arrived if the string parses, else as a bare path.
func fuzzTarget(s string) *url.URL {
	if u, err := url.Parse(s); err == nil {
		return u
	}
	return &url.URL{Path: s}
}

// mutate changes one thing of a signed request (or nothing, for which >=
// the number of cases): what an attacker who captured it could try.
func mutate(r *http.Request, body []byte, which uint8, data string) []byte {
	signed := []string{HeaderConnection, HeaderTimestamp, HeaderIdempotency, HeaderSignature}
	switch which % 16 {
	case 0:
		r.Method = data
	case 1:
		r.URL = fuzzTarget(data)
	case 2:
		r.Header.Set(HeaderConnection, data)
	case 3:
		r.Header.Set(HeaderTimestamp, data)
	case 4:
		r.Header.Set(HeaderIdempotency, data)
	case 5:
		r.Header.Set(HeaderSignature, data)
	case 6:
		return []byte(data)
	case 7:
		return append(bytes.Clone(body), data...)
	case 8:
		r.Header.Del(signed[len(data)%len(signed)])
	case 9:
		// Another timestamp inside the window, with the old signature.
		ms, _ := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
		r.Header.Set(HeaderTimestamp, strconv.FormatInt(ms+int64(len(data))+1, 10))
	case 10:
		// The same MAC spelled with a line break, which base64 ignores.
		sig := r.Header.Get(HeaderSignature)
		i := len(data) % (len(sig) + 1)
		r.Header.Set(HeaderSignature, sig[:i]+"\n"+sig[i:])
	case 11:
		if r.URL.RawQuery != "" {
			r.URL.RawQuery += "&"
		}
		r.URL.RawQuery += data
	case 12:
		// A second value after the signed one.
		r.Header.Add(signed[len(data)%len(signed)], data)
	case 13:
		// One bit of the MAC flipped, properly encoded.
		mac, err := base64.StdEncoding.DecodeString(r.Header.Get(HeaderSignature))
		if err == nil && len(mac) > 0 {
			bit := len(data) % (8 * len(mac))
			mac[bit/8] ^= 1 << (bit % 8)
			r.Header.Set(HeaderSignature, base64.StdEncoding.EncodeToString(mac))
		}
	case 14:
		r.URL.Path = strings.ToUpper(r.URL.Path) + data
	}
	return body
}

// FuzzVerifyRequest signs a request made of fuzzed parts, checks that
// VerifyRequest takes it once and refuses it as a replay after, then
// changes up to two things of it and checks that the result is accepted
// only when every part the signature covers is as it was, and never once
// the original was received. Every connection shares one key, as the two
// ends of a local connection do, so only the signature can tell them
// apart.
func FuzzVerifyRequest(f *testing.F) {
	f.Add("POST", PathEvents, "conn-a", "evt-1", []byte(`{"replica":{"event_id":"e1"}}`), int32(1000),
		uint8(2), "conn-b", uint8(255), "")
	f.Fuzz(func(t *testing.T, method, target, connID, idem string, body []byte, skewMS int32,
		mut1 uint8, data1 string, mut2 uint8, data2 string) {
		key := bytes.Repeat([]byte{0x5a}, 32)
		lookup := func(id string) ([]byte, error) {
			if id == "unknown" {
				return nil, ErrUnknownPeer
			}
			return key, nil
		}
		seen := map[string]bool{}
		remember := func(into map[string]bool) func(string, string, time.Time) (bool, error) {
			return func(id, nonce string, _ time.Time) (bool, error) {
				k := id + "\x00" + nonce
				if into[k] {
					return false, nil
				}
				into[k] = true
				return true, nil
			}
		}
		verify := func(r *http.Request, body []byte, at time.Time, seen map[string]bool) (string, error) {
			id, err := VerifyRequest(r, body, at, lookup, remember(seen))
			for _, known := range []error{ErrUnsigned, ErrUnknownPeer, ErrStale, ErrBadSignature, ErrReplayed} {
				if errors.Is(err, known) || err == nil {
					return id, err
				}
			}
			t.Fatalf("VerifyRequest: %v is none of the signing errors", err)
			return id, err
		}

		orig := &http.Request{Method: method, URL: fuzzTarget(target), Header: http.Header{}}
		SignRequest(orig, body, connID, key, idem, fuzzNow)
		want := partsOf(orig, body)
		at := fuzzNow.Add(time.Duration(skewMS) * time.Millisecond)
		skew := at.Sub(fuzzNow)
		// A line break in a signed part would make the signed string
		// ambiguous; no HTTP request carries one there.
		ambiguous := strings.Contains(want.conn+want.method+want.uri+want.idem, "\n")
		fresh := connID != "" && connID != "unknown" && len(connID) <= maxConnIDLen && !ambiguous &&
			skew <= SignatureWindow && skew >= -SignatureWindow

		id, err := verify(orig, body, at, seen)
		if (err == nil) != fresh {
			t.Fatalf("VerifyRequest of a request just signed (%+v) at %v from its signing: %v", want, skew, err)
		}
		if err == nil && id != connID {
			t.Fatalf("VerifyRequest accepted the request for connection %q, it was signed for %q", id, connID)
		}
		if _, err := verify(orig, body, at, seen); err == nil {
			t.Fatalf("the same request (%+v) was accepted twice", want)
		}

		r := orig.Clone(orig.Context())
		mbody := mutate(r, body, mut1, data1)
		mbody = mutate(r, mbody, mut2, data2)
		got := partsOf(r, mbody)
		// Fresh memory: only the signature decides.
		if id, err := verify(r, mbody, at, map[string]bool{}); err == nil {
			if !fresh || got != want {
				t.Fatalf("a changed request was accepted (for %q):\n signed   %+v\n received %+v", id, want, got)
			}
		}
		// The original was received already: nothing made from it passes.
		if _, err := verify(r, mbody, at, seen); err == nil {
			t.Fatalf("a request made from one already received was accepted:\n signed   %+v\n received %+v", want, got)
		}
	})
}
