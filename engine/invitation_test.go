package engine

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func sampleInvitation(now time.Time) Invitation {
	return Invitation{
		URL: "http://127.0.0.1:7001", Name: "Acme", InstanceID: "inst-1", Tracker: "asana",
		ConnectionID: "conn-1", ProjectName: "Company", Mode: "basic",
		Expires: now.Add(72 * time.Hour).UTC(), Secret: bytes.Repeat([]byte{7}, 32),
	}
}

func TestInvitationRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	inv := sampleInvitation(now)
	code, err := inv.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(code, "tdm1.") || strings.ContainsAny(code, " \n+/=") {
		t.Fatalf("code %q is not one base64url line after tdm1.", code)
	}
	// What a terminal does to a long line: wraps it, indents it, adds a
	// trailing newline.
	pasted := "  " + code[:40] + "\n" + code[40:90] + " \r\n\t" + code[90:] + "\n"
	got, err := ParseInvitation(pasted, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != inv.URL || got.ConnectionID != inv.ConnectionID || !bytes.Equal(got.Secret, inv.Secret) || !got.Expires.Equal(inv.Expires) || got.ProjectName != "Company" {
		t.Errorf("round trip gave %+v, want %+v", got, inv)
	}
}

func TestInvitationRefusals(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	code, _ := sampleInvitation(now).Encode()
	body := strings.TrimPrefix(code, "tdm1.")
	// One character replaced by another base64url character: still a
	// well-formed code, but not the one the initiator issued.
	flipped := []byte(body)
	if flipped[20] != 'A' {
		flipped[20] = 'A'
	} else {
		flipped[20] = 'B'
	}
	raw, _ := base64.RawURLEncoding.DecodeString(body)
	fakeSum := append(bytes.Clone(raw[:len(raw)-checksumSize]), make([]byte, checksumSize)...)

	tests := []struct {
		name, code string
		at         time.Time
		want       error
	}{
		{"empty", "", now, ErrInvitationMalformed},
		{"prefix only", "tdm1.", now, ErrInvitationMalformed},
		{"other version", "tdm2." + body, now, ErrInvitationMalformed},
		{"not base64", "tdm1.***", now, ErrInvitationMalformed},
		{"too short", "tdm1.AAAA", now, ErrInvitationMalformed},
		{"a URL", "https://acme.example/invite", now, ErrInvitationMalformed},
		{"one byte changed", "tdm1." + string(flipped), now, ErrInvitationTampered},
		{"checksum replaced", "tdm1." + base64.RawURLEncoding.EncodeToString(fakeSum), now, ErrInvitationTampered},
		{"truncated", code[:len(code)-3], now, ErrInvitationTampered},
		{"expired", code, now.Add(73 * time.Hour), ErrInvitationExpired},
	}
	for _, tt := range tests {
		if _, err := ParseInvitation(tt.code, tt.at); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestConnectionKeyNeedsEveryPart(t *testing.T) {
	secret, shared := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{3}, 32)
	k := deriveConnectionKey(secret, shared, "a", "b", []byte("nonce"))
	for _, other := range [][]byte{
		deriveConnectionKey(bytes.Repeat([]byte{2}, 32), shared, "a", "b", []byte("nonce")),
		deriveConnectionKey(secret, bytes.Repeat([]byte{4}, 32), "a", "b", []byte("nonce")),
		deriveConnectionKey(secret, shared, "a", "c", []byte("nonce")),
		deriveConnectionKey(secret, shared, "ab", "", []byte("nonce")),
		deriveConnectionKey(secret, shared, "a", "b", []byte("other")),
	} {
		if bytes.Equal(k, other) {
			t.Error("two different redemptions derived the same key")
		}
	}
	if len(k) != 32 || bytes.Equal(k, secret) {
		t.Errorf("key %x is not a 32-byte derivation of the secret", k)
	}
}
