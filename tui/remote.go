package tui

import (
	"context"

	"github.com/tandem-sync/tandem/connectors/remote"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/api"
)

// RemoteNode is the console's view of a node reached through its admin API.
func RemoteNode(c *remote.Client) Node { return remoteNode{c} }

type remoteNode struct{ *remote.Client }

var _ Node = remoteNode{}

func (n remoteNode) Info(ctx context.Context) (engine.Instance, error) { return n.Instance(ctx) }

func (n remoteNode) Connect(ctx context.Context, r engine.ConnectRequest) (engine.Connection, error) {
	return n.Client.Connect(ctx, api.ConnectRequest{To: r.To, DestToken: r.DestToken, DestProject: r.DestProject, Project: r.Project})
}

func (n remoteNode) Exalate(ctx context.Context, connID, ref string) (engine.StageEvent, error) {
	evs, err := n.Client.Exalate(ctx, ref, connID, false)
	if err != nil || len(evs) == 0 {
		return engine.StageEvent{}, err
	}
	return evs[0], nil
}

func (n remoteNode) ExalateAll(ctx context.Context, connID string) ([]engine.StageEvent, error) {
	return n.Client.Exalate(ctx, "", connID, true)
}

func (n remoteNode) EventStatus(ctx context.Context, connID, eventID string) (engine.EventStatus, error) {
	return n.SyncStatus(ctx, connID, eventID)
}

func (n remoteNode) Subscribe(ctx context.Context) (<-chan engine.StageEvent, error) {
	return n.Events(ctx)
}
