package engine

import "context"

// Tracker is what the engine needs of the work tracker a node fronts. Each
// connector implements it (connectors/asana today) with a compile-time
// check; the engine never talks to a tracker's API directly.
//
// This is the part connections need; the sync pipeline extends it with
// reading and writing entities.
type Tracker interface {
	// Kind names the tracker ("asana"), as other nodes see it.
	Kind() string
	// Check verifies the tracker's credentials and says whose they are, so
	// a wrong token is caught when the node starts.
	Check(ctx context.Context) (TrackerAccount, error)
	// Projects lists the projects entities can be synced from and to.
	Projects(ctx context.Context) ([]Project, error)
}

// TrackerAccount describes the account a node uses on its tracker.
type TrackerAccount struct {
	// User is the account's display name.
	User string
	// Space is the workspace (Asana) or site (Jira) the node works in.
	Space string
}

// Project is a project of the node's tracker.
type Project struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}
