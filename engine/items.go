package engine

import (
	"context"
	"fmt"
	"strings"
)

// defaultRecentItems is how many items RecentItems returns unless asked.
const defaultRecentItems = 10

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
