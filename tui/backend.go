package tui

import (
	"context"

	"github.com/tandem-sync/tandem/engine"
)

// Node is what the console needs of a tandem node. EngineNode adapts an
// in-process *engine.Node and RemoteNode a node's admin API.
type Node interface {
	// Info describes the node itself.
	Info(ctx context.Context) (engine.Instance, error)
	Connections(ctx context.Context) ([]engine.Connection, error)
	Connection(ctx context.Context, id string) (engine.Connection, error)
	// Projects lists this node's projects.
	Projects(ctx context.Context) ([]engine.Project, error)
	// Probe says what runs at a destination URL.
	Probe(ctx context.Context, url string) (engine.Instance, error)
	// Invite creates a Pending connection and its invitation code; to is ""
	// when the admin has no destination URL.
	Invite(ctx context.Context, to, project string) (engine.Connection, string, error)
	// PreviewInvitation checks a code with its initiator without redeeming it.
	PreviewInvitation(ctx context.Context, code string) (engine.InvitationPreview, error)
	Accept(ctx context.Context, code, project string) (engine.Connection, error)
	// DestinationProjects verifies an admin token on the destination and
	// lists its projects.
	DestinationProjects(ctx context.Context, url, adminToken string) (engine.Instance, []engine.Project, error)
	Connect(ctx context.Context, r engine.ConnectRequest) (engine.Connection, error)
	SetActive(ctx context.Context, id string, active bool) (engine.Connection, error)
	SetTrigger(ctx context.Context, id string, on bool) (engine.Connection, error)
	Delete(ctx context.Context, id string) error
	Exalate(ctx context.Context, connID, ref string) (engine.StageEvent, error)
	ExalateAll(ctx context.Context, connID string) ([]engine.StageEvent, error)
	EventStatus(ctx context.Context, connID, eventID string) (engine.EventStatus, error)
	Stats(ctx context.Context, connID string) (engine.ConnectionStats, error)
	RecentEvents(ctx context.Context, connID string, limit int) ([]engine.StageEvent, error)
	RecentItems(ctx context.Context, project string, limit int) ([]engine.Item, error)
	// Subscribe streams stage events until ctx ends.
	Subscribe(ctx context.Context) (<-chan engine.StageEvent, error)
}

// EngineNode is the console's view of a node running in this process.
func EngineNode(n *engine.Node) Node { return engineNode{n} }

type engineNode struct{ *engine.Node }

var _ Node = engineNode{}

func (n engineNode) Info(context.Context) (engine.Instance, error) { return n.Node.Info(), nil }

func (n engineNode) Connection(ctx context.Context, id string) (engine.Connection, error) {
	return n.ConnectionByID(ctx, id)
}

func (n engineNode) Invite(ctx context.Context, to, project string) (engine.Connection, string, error) {
	return n.Node.Invite(ctx, engine.InviteRequest{To: to, Project: project})
}

func (n engineNode) Subscribe(ctx context.Context) (<-chan engine.StageEvent, error) {
	ch, stop := n.Node.Subscribe()
	context.AfterFunc(ctx, stop)
	return ch, nil
}
