package engine

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// defaultRecentItems is how many items RecentItems returns unless asked.
const defaultRecentItems = 10

// Item is a tracker item as a picker lists it: enough to recognise it and
// to exalate it (Key or URL are valid references).
type Item struct {
	ID         string    `json:"id"`
	Key        string    `json:"key"`
	Summary    string    `json:"summary"`
	URL        string    `json:"url"`
	ModifiedAt time.Time `json:"modified_at"`
}

// ItemLister is a tracker that can list a project's most recently modified
// items cheaply (one API call per page of items on Asana). Trackers
// implement it optionally; RecentItems needs it.
type ItemLister interface {
	// RecentItems returns up to limit items of the project (an id), most
	// recently modified first.
	RecentItems(ctx context.Context, project string, limit int) ([]Item, error)
}

// RecentItems returns a project's most recently modified items, newest
// first; limit <= 0 means 10. The project is given by id or name. A
// project one of the node's connections syncs is resolved from the store,
// so listing its items costs the tracker nothing more than the listing;
// any other project costs one more call to resolve.
func (n *Node) RecentItems(ctx context.Context, project string, limit int) ([]Item, error) {
	lister, ok := n.cfg.Tracker.(ItemLister)
	if !ok {
		return nil, fmt.Errorf("the %s tracker cannot list recent items", n.cfg.Tracker.Kind())
	}
	if limit <= 0 {
		limit = defaultRecentItems
	}
	p, err := n.resolveProject(ctx, project)
	if err != nil {
		return nil, err
	}
	items, err := lister.RecentItems(ctx, p.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing the recent items of %s: %w", p.Name, err)
	}
	if items == nil {
		items = []Item{}
	}
	return items, nil
}

// resolveProject is findProject, but asks the tracker only for a project
// none of the node's connections knows.
func (n *Node) resolveProject(ctx context.Context, ref string) (Project, error) {
	ref = strings.TrimSpace(ref)
	if ref != "" {
		cs, err := n.st.Connections(ctx)
		if err != nil {
			return Project{}, err
		}
		for _, c := range cs {
			if c.LocalProject != "" && (c.LocalProject == ref || strings.EqualFold(c.LocalProjectName, ref)) {
				return Project{ID: c.LocalProject, Name: c.LocalProjectName}, nil
			}
		}
	}
	return n.findProject(ctx, ref)
}
