package adminapi

import (
	"net/url"
	"strconv"
	"time"
)

// Script mode's part of the admin API: a connection's scripts on this
// side, their draft, published versions, test runs and the upgrade from
// Basic. Only the admin API changes scripts; they never see a token or a
// connection key.

// What can be done to a connection's scripts, below its path (see
// ConnectionActionPath).
const (
	ActionUpgrade        = "upgrade"          // POST → Scripts
	ActionScripts        = "scripts"          // GET → Scripts
	ActionScriptDraft    = "scripts/draft"    // PUT DraftRequest → Scripts
	ActionScriptPublish  = "scripts/publish"  // POST PublishRequest → ScriptVersion
	ActionScriptVersions = "scripts/versions" // GET → []ScriptVersion
	ActionScriptCompare  = "scripts/compare"  // GET ?from=N&to=M → ScriptDiff
	ActionScriptTest     = "scripts/test"     // POST TestRunRequest → TestRun
)

// DraftVersion names the draft where a version is asked for.
const DraftVersion = 0

// Scripts are a connection's scripts on this side.
type Scripts struct {
	ConnectionID string `json:"connection_id"`
	Mode         Mode   `json:"mode"`
	// Published is the version in force (0: none yet), with its scripts.
	Published   int       `json:"published"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	Outgoing    string    `json:"outgoing"`
	Incoming    string    `json:"incoming"`
	// The draft, and whether it differs from the published version.
	DraftOutgoing string    `json:"draft_outgoing"`
	DraftIncoming string    `json:"draft_incoming"`
	DraftAt       time.Time `json:"draft_at,omitzero"`
	DraftDiffers  bool      `json:"draft_differs"`
	// DraftErrors are the draft's compile errors, each "file:line:col:
	// message"; a draft with any can't be published.
	DraftErrors []string `json:"draft_errors,omitempty"`
}

// DraftRequest replaces a connection's draft.
type DraftRequest struct {
	Outgoing string `json:"outgoing"`
	Incoming string `json:"incoming"`
}

// PublishRequest publishes the draft, with what the admin says of it.
type PublishRequest struct {
	Note string `json:"note,omitempty"`
}

// ScriptVersion is one published version.
type ScriptVersion struct {
	Version int       `json:"version"`
	At      time.Time `json:"at"`
	Note    string    `json:"note,omitempty"`
}

// ScriptDiff is two versions compared, as a unified diff of each script
// ("" when the script is the same in both).
type ScriptDiff struct {
	From     int    `json:"from"`
	To       int    `json:"to"`
	Outgoing string `json:"outgoing"`
	Incoming string `json:"incoming"`
}

// The directions of a test run.
const (
	TestOutgoing = "outgoing"
	TestIncoming = "incoming"
)

// TestRunRequest runs the draft on a real item, writing nothing: the
// outgoing script on the item (the replica it would send), or the
// incoming script on the last replica received for it (the changes it
// would make).
type TestRunRequest struct {
	Ref       string `json:"ref"`
	Direction string `json:"direction"`
	// Version is the version to run: DraftVersion (the default) or a
	// published one.
	Version int `json:"version,omitempty"`
	// Replica, for an incoming run, is the replica to apply, as a test
	// run shows one (JSON), in place of the last one received for the
	// item.
	Replica string `json:"replica,omitempty"`
}

// TestRun is what a test run did.
type TestRun struct {
	Direction string `json:"direction"`
	Version   int    `json:"version"`
	// Item is the local item's key.
	Item string `json:"item"`
	// Replica is the replica the outgoing script filled (outgoing) or
	// the one the incoming script applied (incoming), as JSON.
	Replica string `json:"replica"`
	// Changes are the changes the incoming script would make, one per
	// line ("summary → …").
	Changes []string `json:"changes,omitempty"`
	Notes   []string `json:"notes,omitempty"`
	// Log is what the script printed.
	Log string `json:"log,omitempty"`
	// Error is the script's error, "file:line:col: message"; "" when it
	// ran to its end.
	Error string `json:"error,omitempty"`
}

// ScriptComparePath asks for two versions of a connection's scripts
// compared (DraftVersion for the draft).
func ScriptComparePath(connID string, from, to int) string {
	q := url.Values{"from": {strconv.Itoa(from)}, "to": {strconv.Itoa(to)}}
	return ConnectionActionPath(connID, ActionScriptCompare) + "?" + q.Encode()
}
