package engine

import "sync"

// writeLocks keep a read of the tracker from seeing a write of the sync's
// without the record that says the node made it (the twin, a comment or
// attachment link): such a write would be taken for a user's change and
// sent back as an echo, or synced as a new item and duplicated.
//
// A write to an existing item holds that item's lock exclusively from the
// tracker call until its record is stored; a read of the item (change
// detection, an exalate) holds it shared. Different items' locks are
// independent, so applies to different items write to the tracker in
// parallel, up to the tracker client's concurrency limits.
//
// A create has no item to lock before it is made. It holds creates
// shared instead, from before the tracker call until the twin is stored,
// and a read of an item the node has no twin of waits for the creates in
// flight to end (settleCreates) before it looks for the twin again: the
// item, already on the tracker when the read began, can't be one a later
// create makes. Creates overlap one another; only such reads wait for them.
type writeLocks struct {
	mu    sync.Mutex
	items map[string]*itemLock

	creates sync.RWMutex
}

// itemLock is one item's lock, shared by the goroutines holding or
// waiting for it, and dropped with the last of them.
type itemLock struct {
	sync.RWMutex
	users int
}

// take returns the lock of item id, counted as in use.
func (l *writeLocks) take(id string) *itemLock {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.items == nil {
		l.items = map[string]*itemLock{}
	}
	il := l.items[id]
	if il == nil {
		il = &itemLock{}
		l.items[id] = il
	}
	il.users++
	return il
}

// give drops a use of item id's lock, and the lock with its last use.
func (l *writeLocks) give(id string, il *itemLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if il.users--; il.users == 0 {
		delete(l.items, id)
	}
}

// write locks item id for a write and its record; the returned function
// unlocks it.
func (l *writeLocks) write(id string) func() {
	il := l.take(id)
	il.Lock()
	return func() {
		il.Unlock()
		l.give(id, il)
	}
}

// read locks item id for a read; the returned function unlocks it.
func (l *writeLocks) read(id string) func() {
	il := l.take(id)
	il.RLock()
	return func() {
		il.RUnlock()
		l.give(id, il)
	}
}

// create marks a create in flight until the returned function is called,
// which must be after the twin it makes is stored (or the create failed).
func (l *writeLocks) create() func() {
	l.creates.RLock()
	return l.creates.RUnlock
}

// settleCreates waits until the creates in flight when it was called have
// ended, and runs during (if not nil) before any other starts. An item
// seen on the tracker before the call with no twin is, once it returns,
// either twinned or not one of this node's creates; during sees no create
// in flight, so a pending write it finds is an interrupted one's (see
// store.PendingWrites).
func (l *writeLocks) settleCreates(during func()) {
	l.creates.Lock()
	defer l.creates.Unlock()
	if during != nil {
		during()
	}
}

// createKey is the lock a create of the twin of remote item remoteID on
// connection conn holds: not an item id, which a create has none of yet.
func createKey(conn, remoteID string) string {
	return "\x00create\x00" + conn + "\x00" + remoteID
}
