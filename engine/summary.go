package engine

import "context"

// normalizeLocal gives an item of this side the values its sync just
// carried to the other side (the rules' Outgoing.Local: a normalised
// summary), so both sides store the same string. It runs once the sync is stored, under the caller's read lock:
// a change detection that sees the new value finds it in the sync on its
// way (or, later, in the twin's fingerprint) and sends nothing. A failure
// is logged, not fatal: the item keeps its value as typed, and nothing
// echoes.
func (n *pipeline) normalizeLocal(ctx context.Context, e Entity, u EntityUpdate) {
	et, err := n.entities()
	if err != nil {
		return
	}
	if _, err := et.Update(ctx, e.ID, u); err != nil {
		n.log.Warn("giving an item the summary its sync carried", "item", e.Key, "err", err)
	}
}
