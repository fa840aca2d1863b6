package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tandem-sync/tandem/engine"
)

// The seed corpus lives in testdata/fuzz/FuzzPeerMessages/ so that plain
// `go test` replays it; `go test -fuzz=FuzzPeerMessages` grows it.

// peerBodies are the bodies another node can send this one, each new'd
// afresh: the signed peer routes decode theirs with decodeBytes (after the
// signature check read them), redeem and the invitation check with decode.
var peerBodies = []struct {
	name   string
	new    func() any
	signed bool
}{
	{"event delivery", func() any { return new(engine.EventDelivery) }, true},
	{"result delivery", func() any { return new(engine.ResultDelivery) }, true},
	{"deleted notice", func() any { return new(engine.DeletedNotice) }, true},
	{"ping", func() any { return new(engine.PingRequest) }, true},
	{"redemption", func() any { return new(engine.RedeemRequest) }, false},
	{"invitation check", func() any { return new(engine.InvitationCheck) }, false},
}

// FuzzPeerMessages feeds every peer body type arbitrary bytes through the
// API's own decoders. Neither may panic; both must agree; a refusal must be
// a bad request (400), never an internal error; and what they accept must
// be one JSON object, all of the body, whose value encodes and decodes
// back to itself, as the engine stores and forwards it.
func FuzzPeerMessages(f *testing.F) {
	f.Add([]byte(`{"id":"1204567890123456"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, pb := range peerBodies {
			v := pb.new()
			err := decodeBytes(body, v)
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			if derr := decode(w, r, pb.new()); (derr == nil) != (err == nil) {
				t.Fatalf("%s: decode and decodeBytes disagree on %q: %v, %v", pb.name, body, derr, err)
			}
			if err != nil {
				if _, status := engine.ErrorCode(err); !errors.Is(err, engine.ErrBadRequest) || status != http.StatusBadRequest {
					t.Fatalf("%s: %q was refused with %v (status %d), not as a bad request", pb.name, body, err, status)
				}
				continue
			}
			if trimmed := bytes.TrimSpace(body); !json.Valid(body) || len(trimmed) == 0 || trimmed[0] != '{' {
				t.Fatalf("%s: %q is not one JSON object, but was accepted as %+v", pb.name, body, v)
			}
			once, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%s: %q was accepted but its value %+v does not encode: %v", pb.name, body, v, err)
			}
			again := pb.new()
			if err := decodeBytes(once, again); err != nil {
				t.Fatalf("%s: %q was accepted, its encoding %q is refused: %v", pb.name, body, once, err)
			}
			if twice, _ := json.Marshal(again); !bytes.Equal(once, twice) {
				t.Fatalf("%s: %q does not survive a round trip:\n once  %s\n twice %s", pb.name, body, once, twice)
			}
		}
	})
}
