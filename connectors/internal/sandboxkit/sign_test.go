package sandboxkit

import (
	"strings"
	"testing"
)

type claims struct {
	Key     string `json:"k"`
	Offset  int    `json:"o"`
	Expires int64  `json:"e"`
}

func TestSealOpen(t *testing.T) {
	s := NewSigner()
	in := claims{Key: KeyHash("/search?jql=x"), Offset: 50, Expires: 1700000000}
	tok := s.Seal(in)
	var out claims
	if !s.Open(tok, &out) || out != in {
		t.Fatalf("Open(Seal(%+v)) = %+v", in, out)
	}
	payload, sig, _ := strings.Cut(tok, ".")
	forged := s.Seal(claims{Key: in.Key, Offset: 0, Expires: in.Expires})
	forgedPayload, _, _ := strings.Cut(forged, ".")
	for name, bad := range map[string]string{
		"empty":           "",
		"no dot":          payload + sig,
		"payload swapped": forgedPayload + "." + sig,
		"not base64":      payload + ".!!",
		"other key":       NewSigner().Seal(in),
		"not JSON":        "bm90IGpzb24." + sig,
	} {
		if s.Open(bad, &out) {
			t.Errorf("%s: %q opened", name, bad)
		}
	}
}

func TestSignHex(t *testing.T) {
	s := NewSigner()
	sig := s.SignHex("media", "10000", "1700000000")
	if len(sig) != 32 {
		t.Errorf("sig %q: want 16 bytes in hex", sig)
	}
	if !s.VerifyHex(sig, "media", "10000", "1700000000") || !s.VerifyHex(strings.ToUpper(sig), "media", "10000", "1700000000") {
		t.Error("a good signature was refused")
	}
	for name, ok := range map[string]bool{
		"other kind":   s.VerifyHex(sig, "file", "10000", "1700000000"),
		"other id":     s.VerifyHex(sig, "media", "10001", "1700000000"),
		"other expiry": s.VerifyHex(sig, "media", "10000", "1700000001"),
		"not hex":      s.VerifyHex("zz"+sig[2:], "media", "10000", "1700000000"),
		"truncated":    s.VerifyHex(sig[:30], "media", "10000", "1700000000"),
		"other signer": NewSigner().VerifyHex(sig, "media", "10000", "1700000000"),
		"empty":        s.VerifyHex("", "media", "10000", "1700000000"),
	} {
		if ok {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestKeyHash(t *testing.T) {
	a, b := KeyHash("/tasks?project=1"), KeyHash("/tasks?project=2")
	if a == b || a != KeyHash("/tasks?project=1") || len(a) != 12 {
		t.Errorf("KeyHash: %q %q", a, b)
	}
}
