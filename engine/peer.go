package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// Paths of the node-to-node protocol, below a node's base URL.
const (
	PathInstance = adminapi.PathInstance
	PathRedeem   = "/api/v1/peer/redeem"
	PathPing     = "/api/v1/peer/ping"
	// PathAccept is the admin API's acceptance of an invitation, which
	// Connect calls on the destination.
	PathAccept = adminapi.PathAccept
	// PathCheckInvitation asks the initiator whether an invitation can
	// still be redeemed, without redeeming it.
	PathCheckInvitation = "/api/v1/peer/invitations/check"
	// PathProjects is the admin API's project list.
	PathProjects = adminapi.PathProjects
)

// maxPeerAnswer bounds what the engine reads from another node's answer.
const maxPeerAnswer = 1 << 20

// RedeemRequest is what an accepting node sends the initiator to redeem an
// invitation. It travels unsigned: the invitation's secret authenticates it.
type RedeemRequest struct {
	ConnectionID string   `json:"connection_id"`
	Secret       []byte   `json:"secret"`
	Nonce        []byte   `json:"nonce"`
	Acceptor     Instance `json:"acceptor"`
	// AcceptorConnectionID is the acceptor's id for the same connection.
	AcceptorConnectionID string `json:"acceptor_connection_id"`
	// ProjectName is the acceptor's project for incoming sync.
	ProjectName string `json:"project_name"`
	// PublicKey is the acceptor's X25519 public key for this redemption.
	PublicKey []byte `json:"public_key"`
}

// RedeemResponse is the initiator's answer to a redemption.
type RedeemResponse struct {
	Initiator   Instance `json:"initiator"`
	Name        string   `json:"name"`
	ProjectName string   `json:"project_name"`
	// PublicKey is the initiator's X25519 public key for this redemption.
	PublicKey []byte `json:"public_key"`
}

// apiError is the JSON error body of every tandem API.
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}

// Probe reads another node's public instance info, telling apart a node
// that can't be reached, something that is not tandem, and a tandem whose
// protocol this one doesn't speak.
func (pe *peering) Probe(ctx context.Context, rawURL string) (Instance, error) {
	base, err := NormalizeURL(rawURL)
	if err != nil {
		return Instance{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+PathInstance, nil)
	if err != nil {
		return Instance{}, err
	}
	resp, err := pe.http.Do(req)
	if err != nil {
		return Instance{}, fmt.Errorf("%w at %s: %v", ErrUnreachable, base, shortNetError(err))
	}
	defer resp.Body.Close()
	var info Instance
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxPeerAnswer))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &info) != nil || info.Product != Product {
		return Instance{}, fmt.Errorf("%w: %s answered %s to %s", ErrNotTandem, base, resp.Status, PathInstance)
	}
	if info.APIVersion != APIVersion {
		return info, fmt.Errorf("%w: %s speaks protocol %d (tandem %s), this node speaks %d (tandem %s)",
			ErrIncompatible, base, info.APIVersion, info.Version, APIVersion, Version)
	}
	return info, nil
}

// shortNetError keeps the useful end of a dial error ("connection refused")
// rather than Go's whole chain.
func shortNetError(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		return s[i+2:]
	}
	return s
}

// postJSON sends v to url and decodes a 2xx answer into out; a tandem error
// answer becomes a *PeerError.
func (pe *peering) postJSON(ctx context.Context, url string, header http.Header, v, out any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return pe.roundTrip(req, out)
}

// getJSON reads url and decodes a 2xx answer into out; a tandem error
// answer becomes a *PeerError.
func (pe *peering) getJSON(ctx context.Context, url string, header http.Header, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return pe.roundTrip(req, out)
}

func (pe *peering) roundTrip(req *http.Request, out any) error {
	resp, err := pe.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w at %s: %v", ErrUnreachable, req.URL.Host, shortNetError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxPeerAnswer))
	if err != nil {
		return fmt.Errorf("%w at %s: reading the answer: %v", ErrUnreachable, req.URL.Host, err)
	}
	if resp.StatusCode/100 != 2 {
		pe := peerError(resp.StatusCode, data)
		pe.RetryAfter = retryAfter(resp, time.Now())
		return pe
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: %s answered %s with something unreadable", ErrNotTandem, req.URL.Host, req.URL.Path)
	}
	return nil
}

// peerError decodes another node's error answer.
func peerError(status int, body []byte) *PeerError {
	pe := &PeerError{Status: status}
	var ae apiError
	if json.Unmarshal(body, &ae) == nil && ae.Error != "" {
		pe.Message, pe.Code = ae.Error, ae.Code
	} else {
		pe.Message = strings.TrimSpace(string(body))
	}
	return pe
}

// decodePeerError reads an error answer whose body was not read yet.
func (pe *peering) decodePeerError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxPeerAnswer))
	e := peerError(resp.StatusCode, body)
	e.RetryAfter = retryAfter(resp, time.Now())
	return e
}

// maxPeerRetryAfter bounds how long another node's Retry-After can hold a
// sync back: a busy peer is waited for as it asks, a peer asking for days
// is asked again after this.
const maxPeerRetryAfter = 10 * time.Minute

// retryAfter is how long a 429 or 503 answer asks the sender to wait
// (Retry-After in seconds or as an HTTP date), 0 for any other answer or
// none given, at most maxPeerRetryAfter.
func retryAfter(resp *http.Response, now time.Time) time.Duration {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxPeerRetryAfter)
}

// PeerError is an error answer from another node.
type PeerError struct {
	Status  int
	Code    string
	Message string
	// RetryAfter is how long the other node asked the sender to wait
	// (a 429 or 503 with Retry-After), 0 when it didn't.
	RetryAfter time.Duration
}

// Error is the other node's own message.
func (e *PeerError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("the other node answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return e.Message
}
