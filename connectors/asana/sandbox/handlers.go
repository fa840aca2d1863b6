package sandbox

import (
	"encoding/json"
	"net/http"
)

// The shapes most operations share. Asana answers every resource the same
// way (the same 400 for a malformed gid, the same 404, the same envelopes),
// so the handlers keep only what is their own: the lookup, the filters and
// the change.

// getOne serves GET on one object named by the gid path parameter param:
// the object in k's full shape, or 404 when find has none. find runs under
// the read lock.
func getOne[T any](c *call, param string, k *kind, find func(gid string) *T) error {
	gid, err := c.pathGID(param)
	if err != nil {
		return err
	}
	sel, err := c.selection(k, false)
	if err != nil {
		return err
	}
	st := c.s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	x := find(gid)
	if x == nil {
		return unknownObject(gid)
	}
	return c.writeFull(http.StatusOK, k, x, sel)
}

// deleteOne serves DELETE on one object named by the gid path parameter
// param: 404 when find has none, else remove's refusal or an empty data
// object. find and remove run under the write lock.
func deleteOne[T any](c *call, param string, find func(gid string) *T, remove func(*T) error) error {
	gid, err := c.pathGID(param)
	if err != nil {
		return err
	}
	st := c.s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	x := find(gid)
	if x == nil {
		return unknownObject(gid)
	}
	if err := remove(x); err != nil {
		return err
	}
	return c.writeData(http.StatusOK, &object{})
}

// listPage serves a list that has no filters of its own between the field
// selection and the page: the page of what items returns, each in k's
// compact shape. items runs under the read lock.
func listPage[T any](c *call, k *kind, items func() ([]T, error)) error {
	sel, err := c.selection(k, true)
	if err != nil {
		return err
	}
	pg, err := c.paging()
	if err != nil {
		return err
	}
	st := c.s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	xs, err := items()
	if err != nil {
		return err
	}
	return writePage(c, k, xs, sel, pg)
}

// input reads the JSON body of a POST or PUT and then the field selection
// for the answer, in that order because options.fields in the body extend
// opt_fields.
func (c *call) input(k *kind) (map[string]json.RawMessage, map[string]*fieldNode, error) {
	data, err := c.decodeData()
	if err != nil {
		return nil, nil, err
	}
	sel, err := c.selection(k, false)
	if err != nil {
		return nil, nil, err
	}
	return data, sel, nil
}

// writeFull answers {"data": obj} in k's full shape, or in sel's.
func (c *call) writeFull(status int, k *kind, obj any, sel map[string]*fieldNode) error {
	return c.writeData(status, c.renderCtx().render(k, obj, sel, k.full))
}

// writePage answers the page pg of items, which are in gid order, each in
// k's compact shape or in sel's. Callers hold the read lock.
func writePage[T any](c *call, k *kind, items []T, sel map[string]*fieldNode, pg page) error {
	items, last, more := paginate(items, func(x T) string { return k.gid(x) }, pg)
	rc := c.renderCtx()
	out := make([]any, len(items))
	for i, x := range items {
		out[i] = rc.render(k, x, sel, k.compact)
	}
	return c.writeList(out, pg, last, more)
}
