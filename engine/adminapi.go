package engine

import (
	"context"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// The admin API's contract lives in engine/adminapi, a leaf its clients
// import without linking the engine; these names keep the engine's own
// code and its callers reading as before (engine.Connection is
// adminapi.Connection).

// Instance is what GET /api/v1/instance says about a node: public, never a
// secret.
type Instance = adminapi.Instance

// Connection is a connection as the engine's callers see it; the key never
// leaves the engine.
type Connection = adminapi.Connection

// StageEvent says a sync reached a stage (or failed in it).
type StageEvent = adminapi.StageEvent

// BulkStarted is what a Bulk Exalate started: a count, and the first
// adminapi.BulkEventsListed events.
type BulkStarted = adminapi.BulkStarted

// Bulk is a Bulk Exalate and how far it got.
type Bulk = adminapi.Bulk

// Progress says how far the apply of a replica has got on the receiving
// side.
type Progress = adminapi.Progress

// EventStatus is one sync with every stage it went through.
type EventStatus = adminapi.EventStatus

// StageEntry is one stage an event went through.
type StageEntry = adminapi.StageEntry

// InvitationPreview is what the Accept screen shows about an invitation
// before the admin accepts it.
type InvitationPreview = adminapi.InvitationPreview

// ConnectionStats sums up a connection's syncs.
type ConnectionStats = adminapi.ConnectionStats

// InviteRequest is what Invite needs.
type InviteRequest = adminapi.InviteRequest

// AcceptRequest asks a node, through its admin API, to accept an invitation.
type AcceptRequest = adminapi.AcceptRequest

// ConnectRequest is the "Yes, I have admin access" path in one go.
type ConnectRequest = adminapi.ConnectRequest

// The five stages of a sync (DESIGN.md §5), in order.
const (
	StagePreparing    = adminapi.StagePreparing
	StageSending      = adminapi.StageSending
	StageWaiting      = adminapi.StageWaiting
	StageFinalizing   = adminapi.StageFinalizing
	StageSynchronized = adminapi.StageSynchronized
)

// Stages lists the five stages in order.
func Stages() []string { return adminapi.Stages() }

// StageName is how the console and the command line name a stage.
func StageName(stage string) string { return adminapi.StageName(stage) }

// What a progress report counts.
const (
	ProgressComments    = adminapi.ProgressComments
	ProgressAttachments = adminapi.ProgressAttachments
)

// NormalizeURL checks a node URL and puts it in the form nodes compare:
// scheme and host lower-cased, no trailing slash, no query.
func NormalizeURL(raw string) (string, error) { return adminapi.NormalizeURL(raw) }

// Admin is the node as the console and the command line see it
// (adminapi.Node), in process: the same methods *remote.Client calls over
// the admin API.
func (n *Node) Admin() adminapi.Node { return adminNode{n} }

// adminNode adapts the few methods whose in-process form differs from the
// contract's: no ctx or error where nothing can fail, an unsubscribe
// function where the contract ends with ctx.
type adminNode struct{ *Node }

var _ adminapi.Node = adminNode{}

func (n adminNode) Info(context.Context) (Instance, error) { return n.Node.Info(), nil }

func (n adminNode) Connection(ctx context.Context, id string) (Connection, error) {
	return n.ConnectionByID(ctx, id)
}

func (n adminNode) Subscribe(ctx context.Context) (<-chan StageEvent, error) {
	ch, stop := n.Node.Subscribe()
	context.AfterFunc(ctx, stop)
	return ch, nil
}
