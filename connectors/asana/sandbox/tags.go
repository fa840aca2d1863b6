package sandbox

import (
	"slices"
	"time"
)

// Tags, as far as the document goes: a task's tags are read in its tags
// field (tags.name), and POST /tasks may give a new task tags by gid
// (create-only). The document has no operation to list or create tags or
// to add one to a task afterwards (Asana's addTag, removeTag, POST /tags),
// so the sandbox's tags come from the seed and change only at create.
type tag struct {
	gid, name string
	createdAt time.Time
}

func (st *store) tag(gid string) *tag {
	t, _ := st.objects[gid].(*tag)
	return t
}

// parseTags reads the tags of a new task: gids of the workspace's tags.
// Callers hold the store lock.
func (st *store) parseTags(gids []string) ([]*tag, error) {
	var out []*tag
	for _, gid := range gids {
		t := st.tag(gid)
		if t == nil {
			return nil, unknownParam("tags", gid)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (sc *schema) tagFields() {
	k := sc.tag
	k.compact = []string{"resource_type", "name"}
	k.add("name", nil, get(func(_ *renderCtx, t *tag) any { return t.name }))
}
