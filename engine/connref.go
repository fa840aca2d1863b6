package engine

import (
	"context"
	"errors"
	"strings"

	"github.com/tandem-sync/tandem/store"
)

// findConnection is the connection ref names: its id, or else its name.
// Names are unique on a node (freeName: Acme_to_Globex, Acme_to_Globex_2),
// but a data dir from before they were may hold two connections of one
// name; such a name is refused with every match listed, and the id is the
// way to pick. A name matches
// exactly, case included: it is copied from `tandem connections` or the
// console, and a near miss that picked a connection the admin did not
// mean would sync the wrong project.
//
// Every admin entry point that takes a connection goes through here, so the
// command line, the console and the HTTP API all accept either.
func (n *connections) findConnection(ctx context.Context, ref string) (store.Connection, error) {
	c, err := n.st.Connection(ctx, ref)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return c, err
	}
	cs, err := n.st.Connections(ctx)
	if err != nil {
		return store.Connection{}, err
	}
	var named []store.Connection
	var near []string
	for _, c := range cs {
		switch {
		case c.Name == ref:
			named = append(named, c)
		case strings.EqualFold(c.Name, ref):
			near = append(near, c.Name)
		}
	}
	switch len(named) {
	case 1:
		return named[0], nil
	case 0:
		if len(near) > 0 {
			return store.Connection{}, Errorf(ErrNotFound, "no connection %q on %s; names match case and exactly, did you mean %s?",
				ref, n.inst.Name, strings.Join(near, " or "))
		}
		return store.Connection{}, Errorf(ErrNotFound, "no connection %q on %s: give a connection's id or name as `tandem connections` lists them",
			ref, n.inst.Name)
	}
	each := make([]string, len(named))
	for i, c := range named {
		each[i] = c.Name + " (id " + c.ID + ", " + c.LocalProjectName + " ↔ " + orNone(c.RemoteProjectName) + ")"
	}
	return store.Connection{}, Errorf(ErrBadRequest, "%d connections on %s are named %s: %s; give the id of the one you mean instead of the name",
		len(named), n.inst.Name, ref, strings.Join(each, ", "))
}

// orNone is a project name, or "no project yet" for a connection whose
// invitation is still pending.
func orNone(name string) string {
	if name == "" {
		return "no project yet"
	}
	return name
}
