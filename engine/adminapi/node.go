package adminapi

import "context"

// Node is a tandem node as the console and the command line see it: the
// admin API as Go methods. The engine implements it in process
// ((*engine.Node).Admin) and connectors/remote over HTTP (*remote.Client),
// so a caller works the same either way, errors included (errors.Is with
// the sentinels above).
type Node interface {
	// Info describes the node itself.
	Info(ctx context.Context) (Instance, error)
	// Connections lists the node's connections.
	Connections(ctx context.Context) ([]Connection, error)
	// Connection returns one connection, by id.
	Connection(ctx context.Context, id string) (Connection, error)
	// Projects lists this node's projects.
	Projects(ctx context.Context) ([]Project, error)
	// Probe says what runs at a destination URL.
	Probe(ctx context.Context, url string) (Instance, error)
	// Invite creates a Pending connection and its invitation code; r.To is
	// "" when the admin has no destination URL, r.Mode "" for Basic.
	Invite(ctx context.Context, r InviteRequest) (Connection, string, error)
	// RenewInvitation makes a new code for a Pending connection's
	// invitation (id or name), revoking the old one: only a hash of a
	// code's secret is kept, so the old code can't be shown again.
	RenewInvitation(ctx context.Context, id string) (Connection, string, error)
	// PreviewInvitation checks a code with its initiator without redeeming it.
	PreviewInvitation(ctx context.Context, code string) (InvitationPreview, error)
	// Accept accepts an invitation code for one of the node's projects.
	Accept(ctx context.Context, code, project string) (Connection, error)
	// DestinationProjects verifies an admin token on the destination and
	// lists its projects.
	DestinationProjects(ctx context.Context, url, adminToken string) (Instance, []Project, error)
	// Connect sets a connection up through the destination's admin API.
	Connect(ctx context.Context, r ConnectRequest) (Connection, error)
	// SetActive deactivates or re-activates a connection.
	SetActive(ctx context.Context, id string, active bool) (Connection, error)
	// SetTrigger turns "sync new tasks automatically" on or off.
	SetTrigger(ctx context.Context, id string, on bool) (Connection, error)
	// Delete deletes a connection.
	Delete(ctx context.Context, id string) error
	// Exalate starts the sync of one item (ref) on a connection (id or
	// name; "" for the only one).
	Exalate(ctx context.Context, connID, ref string) (StageEvent, error)
	// ExalateAll starts the sync of every item of the connection's
	// project (Bulk Exalate) and waits until each has its sync: how many,
	// and the first BulkEventsListed. StartBulk and WaitBulk, that is: if
	// ctx ends first, the bulk goes on.
	ExalateAll(ctx context.Context, connID string) (BulkStarted, error)
	// StartBulk queues a Bulk Exalate of the connection's project (or
	// joins the one listing it) and answers at once.
	StartBulk(ctx context.Context, connID string) (Bulk, error)
	// Bulk says how far a Bulk Exalate got; events > 0 asks for the syncs
	// of its first events items too.
	Bulk(ctx context.Context, connID, id string, events int) (Bulk, error)
	// EventStatus returns one sync with its stages.
	EventStatus(ctx context.Context, connID, eventID string) (EventStatus, error)
	// Stats sums up a connection's syncs.
	Stats(ctx context.Context, connID string) (ConnectionStats, error)
	// RecentEvents returns a connection's latest syncs, newest first; limit
	// <= 0 leaves the number to the node.
	RecentEvents(ctx context.Context, connID string, limit int) ([]StageEvent, error)
	// Rules returns the rows of a connection's rules, in order, as the
	// console's Rules tab shows them.
	Rules(ctx context.Context, connID string) ([]Rule, error)
	// Upgrade moves a Basic connection to Script mode on this side, with
	// scripts that do what Basic does, published as version 1.
	Upgrade(ctx context.Context, connID string) (Scripts, error)
	// Scripts returns a Script mode connection's scripts on this side.
	Scripts(ctx context.Context, connID string) (Scripts, error)
	// SaveDraft replaces the draft (kept even when it does not compile:
	// Scripts.DraftErrors says why).
	SaveDraft(ctx context.Context, connID string, r DraftRequest) (Scripts, error)
	// Publish makes the draft the version in force; a draft that does
	// not compile is refused.
	Publish(ctx context.Context, connID string, r PublishRequest) (ScriptVersion, error)
	// ScriptVersions lists the published versions, newest first.
	ScriptVersions(ctx context.Context, connID string) ([]ScriptVersion, error)
	// CompareScripts compares two versions (DraftVersion: the draft).
	CompareScripts(ctx context.Context, connID string, from, to int) (ScriptDiff, error)
	// TestRun runs a version of the scripts on an item, writing nothing.
	TestRun(ctx context.Context, connID string, r TestRunRequest) (TestRun, error)
	// RecentItems returns a project's most recently modified items, newest
	// first; limit <= 0 leaves the number to the node.
	RecentItems(ctx context.Context, project string, limit int) ([]Item, error)
	// Unexalate stops syncing an item pair (ref names either side) on a
	// connection (id or name; "" for the one that has its twin).
	Unexalate(ctx context.Context, connID, ref string) (UnexalateResult, error)
	// LinkItems makes two items that exist already twins.
	LinkItems(ctx context.Context, r LinkRequest) (LinkResult, error)
	// ItemHistory returns an item's latest syncs, newest first; limit <= 0
	// leaves the number to the node.
	ItemHistory(ctx context.Context, connID, ref string, limit int) (ItemHistory, error)
	// Errors lists the failing syncs on a connection (id or name; "" for
	// every connection), oldest first; limit <= 0 leaves the number to
	// the node.
	Errors(ctx context.Context, connID string, limit int) (SyncErrors, error)
	// Retry tries one sync (its id, or enough of its start to name one)
	// again now.
	Retry(ctx context.Context, connID, eventID string) (StageEvent, error)
	// RetryAll tries every failing sync of a connection ("" for every
	// connection) again now, and says how many.
	RetryAll(ctx context.Context, connID string) (int, error)
	// Resolve stops retrying one sync, for a reason its item's history
	// shows.
	Resolve(ctx context.Context, connID, eventID, reason string) (StageEvent, error)
	// Queue lists the open syncs on a connection ("" for every
	// connection), oldest first; limit <= 0 leaves the number to the
	// node.
	Queue(ctx context.Context, connID string, limit int) (SyncQueue, error)
	// Subscribe streams stage events until ctx ends.
	Subscribe(ctx context.Context) (<-chan StageEvent, error)
}
