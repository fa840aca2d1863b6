// Package adminapi is the contract of a node's admin API, written once: its
// paths, the types its requests and answers carry, its error codes, and
// Node, the node as the console and the command line see it. engine/api
// serves it, connectors/remote calls it, and the engine implements Node in
// process.
//
// It is a leaf: it imports nothing of the project's but the tracker
// contract (engine/tracker), so a client of the admin API links neither
// SQLite nor the job queue and builds without cgo.
package adminapi

import (
	"net/url"
	"strconv"
)

// PathInstance is the node's public instance info (Instance), the one path
// here that needs no admin token.
const PathInstance = "/api/v1/instance"

// Paths of the admin API, below a node's base URL. Each needs the node's
// admin token as a Bearer token.
const (
	PathConnections         = "/api/v1/admin/connections"
	PathProjects            = "/api/v1/admin/projects"
	PathItems               = "/api/v1/admin/items"
	PathProbe               = "/api/v1/admin/probe"
	PathDestinationProjects = "/api/v1/admin/destination/projects"
	PathInvitations         = "/api/v1/admin/invitations"
	PathPreviewInvitation   = "/api/v1/admin/invitations/preview"
	PathAccept              = "/api/v1/admin/accept"
	PathConnect             = "/api/v1/admin/connect"
	PathExalate             = "/api/v1/admin/exalate"
	PathStatus              = "/api/v1/admin/status"
	PathSyncs               = "/api/v1/admin/syncs"
	PathEvents              = "/api/v1/admin/events"
	PathBulks               = "/api/v1/admin/bulks"
)

// Patterns of the paths with parameters, for the server's router
// (net/http's {name} wildcards). The functions below build them.
const (
	PatternConnection = PathConnections + "/{id}"
	PatternSync       = PathSyncs + "/{conn}/{event}"
	PatternBulk       = PathBulks + "/{conn}/{id}"
)

// What can be done to one connection, below its path (see
// ConnectionActionPath).
const (
	ActionActivate   = "activate"   // POST
	ActionDeactivate = "deactivate" // POST
	ActionTrigger    = "trigger"    // POST TriggerRequest
	ActionStats      = "stats"      // GET ConnectionStats
	ActionEvents     = "events"     // GET []StageEvent, ?limit=N
	ActionRules      = "rules"      // GET []Rule
	// ActionInvitation makes a Pending connection's invitation a new
	// code, revoking the old one (POST; the answer is an InviteResponse).
	ActionInvitation = "invitation"
)

// ConnectionPath is one connection's path (GET, DELETE).
func ConnectionPath(id string) string { return PathConnections + "/" + url.PathEscape(id) }

// ConnectionActionPath is a path below one connection: action is one of
// ActionActivate, ActionDeactivate, ActionTrigger, ActionStats,
// ActionEvents, ActionRules and ActionInvitation.
func ConnectionActionPath(id, action string) string { return ConnectionPath(id) + "/" + action }

// SyncPath is one sync's path: its connection and its event.
func SyncPath(connID, eventID string) string {
	return PathSyncs + "/" + url.PathEscape(connID) + "/" + url.PathEscape(eventID)
}

// BulkPath is one Bulk Exalate's path (GET Bulk); events > 0 asks for the
// syncs of its first events items (at most BulkEventsListed).
func BulkPath(connID, id string, events int) string {
	p := PathBulks + "/" + url.PathEscape(connID) + "/" + url.PathEscape(id)
	if events > 0 {
		p += "?events=" + strconv.Itoa(events)
	}
	return p
}

// StatusPath asks for the latest sync of ref, on connection ("" for any).
func StatusPath(ref, connection string) string {
	q := url.Values{"ref": {ref}}
	if connection != "" {
		q.Set("connection", connection)
	}
	return PathStatus + "?" + q.Encode()
}

// ItemsPath asks for a project's most recent items; limit <= 0 leaves the
// number to the node.
func ItemsPath(project string, limit int) string {
	q := url.Values{"project": {project}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return PathItems + "?" + q.Encode()
}

// LimitQuery is "?limit=N", or "" to leave the number to the node.
func LimitQuery(limit int) string {
	if limit <= 0 {
		return ""
	}
	return "?limit=" + strconv.Itoa(limit)
}
