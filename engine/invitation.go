package engine

import (
	"github.com/tandem-sync/tandem/engine/adminapi"

	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// invitationPrefix starts every invitation code; the digit is the format's
// version, so a future format can be told apart and refused clearly.
const invitationPrefix = "tdm1."

// checksumSize is the length of the checksum appended to an invitation's
// payload. It catches codes damaged by copy and paste or edited by hand;
// the initiator's checks (secret hash, expiry, one use) are what make a
// code safe.
const checksumSize = 8

// Invitation errors, one per way a code can be refused; callers show them
// as they are.
// They are the admin API contract's (adminapi), so errors.Is holds across
// the API.
var (
	ErrInvitationMalformed = adminapi.ErrInvitationMalformed
	ErrInvitationTampered  = adminapi.ErrInvitationTampered
	ErrInvitationExpired   = adminapi.ErrInvitationExpired
	ErrInvitationUsed      = adminapi.ErrInvitationUsed
	ErrInvitationRefused   = adminapi.ErrInvitationRefused
)

// Invitation is what an invitation code carries: who invites, to which
// connection, until when, and the one-time secret that proves the holder
// was given the code.
type Invitation struct {
	// URL is the initiating node's public base URL.
	URL string `json:"u"`
	// Name is the initiating node's instance name.
	Name string `json:"n"`
	// InstanceID identifies the initiating node.
	InstanceID string `json:"i"`
	// Tracker is the initiator's tracker kind ("asana").
	Tracker string `json:"t"`
	// ConnectionID is the connection the initiator created.
	ConnectionID string `json:"c"`
	// ProjectName is the initiator's project, shown to the accepting admin.
	ProjectName string `json:"p,omitempty"`
	// Mode is the connection's configuration mode. Codes always carry it;
	// one without it reads as Basic.
	Mode Mode `json:"m"`
	// Expires is when the code stops working.
	Expires time.Time `json:"e"`
	// Secret is the one-time secret; the initiator keeps only its hash.
	Secret []byte `json:"s"`
}

// Encode renders the invitation as a code: one line, tdm1. followed by
// base64url of the payload and its checksum.
func (inv Invitation) Encode() (string, error) {
	payload, err := json.Marshal(inv)
	if err != nil {
		return "", fmt.Errorf("encoding invitation for connection %s: %w", inv.ConnectionID, err)
	}
	sum := sha256.Sum256(payload)
	return invitationPrefix + base64.RawURLEncoding.EncodeToString(append(payload, sum[:checksumSize]...)), nil
}

// ParseInvitation decodes a code as pasted by a user: spaces and line
// breaks a terminal may have added are ignored. It checks the form, the
// checksum and the expiry; the initiator checks the rest.
func ParseInvitation(code string, now time.Time) (Invitation, error) {
	code = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, code)
	rest, ok := strings.CutPrefix(code, invitationPrefix)
	if !ok || rest == "" {
		return Invitation{}, ErrInvitationMalformed
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(rest, "="))
	if err != nil || len(raw) <= checksumSize {
		return Invitation{}, ErrInvitationMalformed
	}
	payload, sum := raw[:len(raw)-checksumSize], raw[len(raw)-checksumSize:]
	want := sha256.Sum256(payload)
	if !hmac.Equal(sum, want[:checksumSize]) {
		return Invitation{}, ErrInvitationTampered
	}
	var inv Invitation
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&inv); err != nil || dec.InputOffset() != int64(len(payload)) {
		return Invitation{}, ErrInvitationMalformed
	}
	// Everything Accept goes on to use, as Encode always writes it.
	if _, err := NormalizeURL(inv.URL); err != nil || inv.Name == "" || inv.ConnectionID == "" ||
		len(inv.Secret) < 16 || inv.Expires.IsZero() {
		return Invitation{}, ErrInvitationMalformed
	}
	if inv.Mode == "" {
		inv.Mode = ModeBasic
	}
	if !now.Before(inv.Expires) {
		return inv, ErrInvitationExpired
	}
	return inv, nil
}

// hashSecret is what the initiator stores of an invitation's secret.
func hashSecret(secret []byte) []byte {
	sum := sha256.Sum256(append([]byte("tandem/v1/invitation-secret\x00"), secret...))
	return sum[:]
}

// deriveConnectionKey turns a redeemed invitation into the connection's own
// key. It mixes the invitation secret with an X25519 shared secret the two
// nodes agreed on during the redemption, both connection ids and the
// acceptor's nonce: the key exists only once the code is redeemed, someone
// who watched the redemption on the wire still can't compute it, and a
// leaked code that was used is worth nothing.
func deriveConnectionKey(secret, shared []byte, initiatorConnID, acceptorConnID string, nonce []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("tandem/v1/connection-key\x00"))
	m.Write([]byte(initiatorConnID + "\x00" + acceptorConnID + "\x00"))
	m.Write(nonce)
	m.Write([]byte{0})
	m.Write(shared)
	return m.Sum(nil)
}
