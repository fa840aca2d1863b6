package engine

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tandem-sync/tandem/store"
)

// statsWindow is how many of a connection's latest syncs the stage medians
// are computed over: recent enough to show how the connection does now,
// bounded so a busy connection's stats stay cheap.
const statsWindow = 1000

// RecentEvents limits.
const (
	defaultRecentEvents = 20
	maxRecentEvents     = 200
)

// statistics is the node's part that sums up its connections' syncs for
// the console and the command line: it only reads the store. Node embeds
// it, so its methods are the node's.
type statistics struct {
	st *store.Store
	// connection finds a connection by id or name (connections.findConnection).
	connection func(ctx context.Context, ref string) (store.Connection, error)
	// node is the instance's name, for the errors.
	node string
}

// Stats sums up a connection's syncs: counts, the last sync, and the
// median time spent in each stage. connID may be the connection's name;
// an unknown one is ErrNotFound.
func (s *statistics) Stats(ctx context.Context, connID string) (ConnectionStats, error) {
	c, err := s.connection(ctx, connID)
	if err != nil {
		return ConnectionStats{}, err
	}
	connID = c.ID
	a, err := s.st.ConnectionActivity(ctx, connID)
	if errors.Is(err, store.ErrNotFound) { // deleted meanwhile
		return ConnectionStats{}, Errorf(ErrNotFound, "no connection %q on %s", connID, s.node)
	}
	if err != nil {
		return ConnectionStats{}, err
	}
	counts, err := s.st.EventCounts(ctx, connID)
	if err != nil {
		return ConnectionStats{}, err
	}
	marks, err := s.st.StageMarks(ctx, connID, statsWindow)
	if err != nil {
		return ConnectionStats{}, err
	}
	return ConnectionStats{ConnectionID: connID, SyncedItems: a.SyncedItems, EventsOut: counts.Out, EventsIn: counts.In,
		Synchronized: counts.Synchronized, Failing: counts.Failing, LastSync: a.LastSync, MedianStage: medianStages(marks)}, nil
}

// medianStages computes the median time spent in each stage from stage
// log entries grouped by event. A stage's time runs from the first entry
// of it to the first entry of a later stage; the entries a failure adds in
// between (the same stage again, with the error) belong to it.
func medianStages(marks []store.StageMark) map[string]time.Duration {
	spent := map[string][]time.Duration{}
	for i := 0; i < len(marks); {
		// One stage of one event: marks[i] up to the next different one.
		j := i + 1
		for j < len(marks) && marks[j].EventID == marks[i].EventID && marks[j].Stage == marks[i].Stage {
			j++
		}
		if j < len(marks) && marks[j].EventID == marks[i].EventID && marks[i].Stage != StageSynchronized {
			spent[marks[i].Stage] = append(spent[marks[i].Stage], max(0, marks[j].At.Sub(marks[i].At)))
		}
		i = j
	}
	if len(spent) == 0 {
		return nil
	}
	out := map[string]time.Duration{}
	for stage, ds := range spent {
		slices.Sort(ds)
		mid := len(ds) / 2
		if len(ds)%2 == 1 {
			out[stage] = ds[mid]
		} else {
			out[stage] = (ds[mid-1] + ds[mid]) / 2
		}
	}
	return out
}

// RecentEvents returns a connection's latest syncs, newest first by last
// update, each as it stands now (its current stage, error and links).
// limit <= 0 means 20; at most 200 are returned. connID may be the
// connection's name; an unknown one is ErrNotFound.
func (s *statistics) RecentEvents(ctx context.Context, connID string, limit int) ([]StageEvent, error) {
	c, err := s.connection(ctx, connID)
	if err != nil {
		return nil, err
	}
	connID = c.ID
	if limit <= 0 {
		limit = defaultRecentEvents
	}
	limit = min(limit, maxRecentEvents)
	evs, err := s.st.RecentEvents(ctx, connID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]StageEvent, len(evs))
	for i, ev := range evs {
		out[i] = stageEventOf(ev, ev.UpdatedAt)
		out[i].Held = heldBy(c, ev)
	}
	return out, nil
}

// stageEventOf is how a stored event is shown, as of at.
func stageEventOf(e store.SyncEvent, at time.Time) StageEvent {
	return StageEvent{ConnectionID: e.ConnectionID, EventID: e.ID, Direction: e.Direction, EntityID: e.EntityID,
		Stage: e.Stage, Error: e.Error, NextRetry: e.NextRetryAt, At: at, LocalKey: e.LocalKey, LocalURL: e.LocalURL,
		RemoteKey: e.RemoteKey, RemoteURL: e.RemoteURL, Resolution: e.Resolution, ResolvedAt: e.ResolvedAt}
}
