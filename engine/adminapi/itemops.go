package adminapi

import (
	"net/url"
	"strconv"
	"time"
)

// Paths of the item operations: stop syncing a pair (unexalate), make a
// pair of two items that exist already (link), and an item's history.
const (
	PathUnexalate = "/api/v1/admin/unexalate" // POST UnexalateRequest → UnexalateResult
	PathLink      = "/api/v1/admin/link"      // POST LinkRequest → LinkResult
	PathHistory   = "/api/v1/admin/history"   // GET ?ref=&connection=&limit= → ItemHistory
)

// HistoryPath asks for an item's latest syncs on connection ("" for the
// one that has it); limit <= 0 leaves the number to the node.
func HistoryPath(ref, connection string, limit int) string {
	q := url.Values{"ref": {ref}}
	if connection != "" {
		q.Set("connection", connection)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return PathHistory + "?" + q.Encode()
}

// UnexalateRequest is the body of POST PathUnexalate: the item (either
// side's reference) and its connection (id or name; "" for the one that
// has its twin).
type UnexalateRequest struct {
	Ref        string `json:"ref"`
	Connection string `json:"connection,omitempty"`
}

// UnexalateResult says which pair stopped syncing. Nothing was deleted in
// either tracker; both nodes removed the link.
type UnexalateResult struct {
	ConnectionID string `json:"connection_id"`
	LocalKey     string `json:"local_key"`
	LocalURL     string `json:"local_url,omitempty"`
	RemoteKey    string `json:"remote_key"`
	RemoteURL    string `json:"remote_url,omitempty"`
}

// Which side's fields win the first sync of two linked items.
const (
	WinnerLocal  = "local"  // the item on the node asked
	WinnerRemote = "remote" // the item on the other node
)

// LinkRequest is the body of POST PathLink: make Ref (an item on the node
// asked) and RemoteRef (an item on the other side of the connection) twins.
type LinkRequest struct {
	Ref        string `json:"ref"`
	RemoteRef  string `json:"remote_ref"`
	Connection string `json:"connection,omitempty"`
	// Winner is WinnerLocal (the default) or WinnerRemote.
	Winner string `json:"winner,omitempty"`
}

// LinkResult describes the new pair: the comments and attachments found
// on both sides and linked rather than copied again, and the first sync
// this node started (none when this side lost and had nothing of its own
// to send).
type LinkResult struct {
	ConnectionID string `json:"connection_id"`
	LocalKey     string `json:"local_key"`
	LocalURL     string `json:"local_url,omitempty"`
	RemoteKey    string `json:"remote_key"`
	RemoteURL    string `json:"remote_url,omitempty"`
	Winner       string `json:"winner"`
	// MatchedComments and MatchedAttachments count what both sides had.
	MatchedComments    int         `json:"matched_comments"`
	MatchedAttachments int         `json:"matched_attachments"`
	Event              *StageEvent `json:"event,omitempty"`
}

// ItemHistory is an item's latest syncs on one connection, newest first,
// each with its stages and the rules version it ran under.
type ItemHistory struct {
	ConnectionID   string `json:"connection_id"`
	ConnectionName string `json:"connection_name"`
	EntityID       string `json:"entity_id"`
	LocalKey       string `json:"local_key,omitempty"`
	LocalURL       string `json:"local_url,omitempty"`
	// RemoteKey and RemoteURL are the twin's; empty when it has none.
	RemoteKey string `json:"remote_key,omitempty"`
	RemoteURL string `json:"remote_url,omitempty"`
	// UnexalatedAt is when a user stopped syncing the item, and
	// UnexalatedTwin the twin it had; zero while it syncs.
	UnexalatedAt   time.Time     `json:"unexalated_at,omitzero"`
	UnexalatedTwin string        `json:"unexalated_twin,omitempty"`
	Syncs          []EventStatus `json:"syncs"`
}
