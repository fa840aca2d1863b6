package sandboxkit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Signer signs what a sandbox hands out and must get back unchanged: page
// tokens and pre-signed download URLs.
type Signer struct{ key []byte }

// NewSigner makes a signer with a fresh random key. The key never comes
// from a sandbox's seeded randomness: it must not be guessable even when
// tests fix the seed.
func NewSigner() *Signer {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails: crypto/rand crashes the program instead
	return &Signer{key: key}
}

// Sign returns the payload's MAC (HMAC-SHA256, cut to 16 bytes).
func (s *Signer) Sign(payload []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(payload)
	return m.Sum(nil)[:16]
}

// Seal encodes claims as an opaque token: base64url JSON, a dot, base64url
// MAC.
func (s *Signer) Seal(claims any) string {
	p, err := json.Marshal(claims)
	if err != nil {
		panic(fmt.Sprintf("sandboxkit: sealing %T: %v", claims, err))
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(p) + "." + enc.EncodeToString(s.Sign(p))
}

// Open checks a token made by Seal and decodes its claims into claims. It
// reports false for anything malformed or forged; what the claims say
// (expiry, binding) is the caller's to check.
func (s *Signer) Open(tok string, claims any) bool {
	enc := base64.RawURLEncoding
	p, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return false
	}
	payload, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.Sign(payload)) {
		return false
	}
	return json.Unmarshal(payload, claims) == nil
}

// SignHex signs the parts joined by ':' and returns the MAC in hex, for a
// URL's sig parameter.
func (s *Signer) SignHex(parts ...string) string {
	return hex.EncodeToString(s.Sign([]byte(strings.Join(parts, ":"))))
}

// VerifyHex reports whether sig, in hex of either case, is SignHex(parts...).
func (s *Signer) VerifyHex(sig string, parts ...string) bool {
	mac, err := hex.DecodeString(sig)
	return err == nil && hmac.Equal(mac, s.Sign([]byte(strings.Join(parts, ":"))))
}

// KeyHash is a short digest of a query's key, to bind a token to its query
// without putting the query in the token.
func KeyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return base64.RawURLEncoding.EncodeToString(h[:9])
}
