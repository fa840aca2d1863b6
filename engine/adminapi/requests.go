package adminapi

// The bodies of the admin API's requests, and the answers that are not one
// of the types above. The server refuses unknown fields, so a typo in a
// script is an error rather than a field silently ignored.

// ProbeRequest is the body of POST PathProbe: have the node look at another
// node's instance info. The answer is an Instance.
type ProbeRequest struct {
	URL string `json:"url"`
}

// InviteRequest is the body of POST PathInvitations.
type InviteRequest struct {
	// To is the destination node's URL; "" when the admin has none ("I
	// don't have a URL"): the code then carries only this node's URL.
	To string `json:"to"`
	// Project is this side's project for incoming sync (id or name).
	Project string `json:"project"`
	// Mode is the connection's configuration mode; "" means Basic. Both
	// sides must support it.
	Mode Mode `json:"mode,omitempty"`
}

// InviteResponse carries the new connection and its invitation code.
type InviteResponse struct {
	Connection Connection `json:"connection"`
	Code       string     `json:"code"`
}

// PreviewRequest is the body of POST PathPreviewInvitation; the answer is
// an InvitationPreview.
type PreviewRequest struct {
	Code string `json:"code"`
}

// AcceptRequest asks a node, through its admin API, to accept an invitation
// (the "Yes, I have admin access" path): the body of POST PathAccept. The
// answer is the new Connection.
type AcceptRequest struct {
	Code    string `json:"code"`
	Project string `json:"project"`
}

// ConnectRequest is the "Yes, I have admin access" path in one go: the body
// of POST PathConnect. The answer is the new Connection.
type ConnectRequest struct {
	// To is the destination node's URL; this node's own URL makes a local
	// connection between two of its projects.
	To string `json:"to"`
	// DestToken is the destination's admin token (not needed locally).
	DestToken string `json:"dest_token"`
	// DestProject is the destination's project for incoming sync.
	DestProject string `json:"dest_project"`
	// Project is this side's project for incoming sync.
	Project string `json:"project"`
	// Mode is the connection's configuration mode; "" means Basic. Both
	// sides must support it.
	Mode Mode `json:"mode,omitempty"`
}

// DestinationRequest is the body of POST PathDestinationProjects: the
// destination node's URL and its admin token.
type DestinationRequest struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

// DestinationResponse describes the destination and lists its projects.
type DestinationResponse struct {
	Instance Instance  `json:"instance"`
	Projects []Project `json:"projects"`
}

// TriggerRequest is the body of POST ConnectionActionPath(id,
// ActionTrigger): "sync new tasks automatically" on or off.
type TriggerRequest struct {
	On bool `json:"on"`
}

// ExalateRequest is the body of POST PathExalate: one entity by Ref, or
// every entity of Connection's project with All.
type ExalateRequest struct {
	Ref        string `json:"ref,omitempty"`
	Connection string `json:"connection,omitempty"`
	All        bool   `json:"all,omitempty"`
}

// ExalateResponse lists the syncs started: the one of an Exalate. A Bulk
// Exalate is answered once queued: Bulk is it (its Events come with
// BulkPath), Events empty.
type ExalateResponse struct {
	Events []StageEvent `json:"events"`
	// Started is how many syncs a Bulk Exalate started (omitted for an
	// Exalate: one).
	Started int `json:"started,omitempty"`
	// Bulk is the Bulk Exalate queued (or the one already listing the
	// project, which the request joined).
	Bulk *Bulk `json:"bulk,omitempty"`
}

// Bulk is a Bulk Exalate: a job of the node's, run by any of its
// replicas, that lists the connection's project and starts a sync per
// item. It survives its replica (or the node) stopping: the next run
// resumes past the items it started.
type Bulk struct {
	ID           string `json:"id"`
	ConnectionID string `json:"connection_id"`
	// Listing is true until every item has its sync (or the listing
	// failed for good: Failed).
	Listing bool `json:"listing"`
	Failed  bool `json:"failed,omitempty"`
	// Error is the last try's error while Listing (the job retries by
	// itself); why it failed when Failed.
	Error string `json:"error,omitempty"`
	// Started syncs so far, one per item; of them Synchronized (or
	// resolved) and Failing (waiting to retry after an error).
	Started      int `json:"started"`
	Synchronized int `json:"synchronized"`
	Failing      int `json:"failing"`
	// Held says why nothing moves: the connection is not active (the
	// syncs wait for it).
	Held string `json:"held,omitempty"`
	// Events are the syncs of the first items, in the order started, when
	// asked for (BulkPath's events).
	Events []StageEvent `json:"events,omitempty"`
}

// BulkEventsListed bounds the events a Bulk Exalate's answer lists: the
// node holds no more than these at once, however large the project (at
// 100,000 items the whole list would be some 30 to 40 MB of JSON, by an
// estimate of 300 to 400 bytes an event, above the 16 MB the admin
// client reads); 10,000 are 3 to 4 MB.
const BulkEventsListed = 10000

// BulkStarted is what a Bulk Exalate started: Started syncs, one per item
// (the follow-ups of items edited during the bulk not counted), of which
// Events lists the first BulkEventsListed, in order.
type BulkStarted struct {
	Started int
	Events  []StageEvent
}

// All says whether Events lists every sync started.
func (b BulkStarted) All() bool { return len(b.Events) == b.Started }

// ErrorBody is the JSON body of every error answer of a tandem API: a
// message that says what to do, and a code (see ErrorCode).
type ErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}
