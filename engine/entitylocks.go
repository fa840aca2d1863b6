package engine

import (
	"context"
	"sync"

	"github.com/tandem-sync/tandem/store"
)

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
//
// Several replicas of a node (PostgreSQL) lock each other out too: each
// lock, taken in memory first, is then taken in shared (between
// replicas; nil when the node is one process, which costs nothing more).
// A replica's locks end with it.
type writeLocks struct {
	mu    sync.Mutex
	items map[string]*itemLock

	creates sync.RWMutex

	// shared are the replicas' locks, and prefix the name of this set's
	// in them (two sets lock the same ids apart).
	shared sharedLocks
	prefix string
}

// sharedLocks are locks the replicas of a node share (store.Locks, on
// PostgreSQL). A replica's own holds stack: it excludes itself in memory.
type sharedLocks interface {
	// Lock takes name, shared or exclusive, once no other replica holds
	// it in a conflicting mode.
	Lock(ctx context.Context, name string, shared bool) (func(), error)
	// Wait takes name exclusively, ahead of the holds asked for after it.
	Wait(ctx context.Context, name string) (func(), error)
	// Held reports whether a replica holds name.
	Held(ctx context.Context, name string) (bool, error)
	// TryLock tries name, exclusive, once: ok false when another replica
	// holds it.
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}

// newSharedLocks are st's replicas' locks: nil when the node is one
// process (SQLite), whose locks are its memory's.
func newSharedLocks(st *store.Store) sharedLocks {
	if l := st.Locks(); l != nil {
		return l
	}
	return nil
}

// also takes name in shared too, after the in-memory lock unlock; if it
// fails, unlock is undone and the error returned.
func (l *writeLocks) also(ctx context.Context, name string, shared bool, unlock func()) (func(), error) {
	if l.shared == nil {
		return unlock, nil
	}
	release, err := l.shared.Lock(ctx, l.prefix+name, shared)
	if err != nil {
		unlock()
		return nil, err
	}
	return func() {
		release()
		unlock()
	}, nil
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
// unlocks it. It fails only between replicas, when their shared lock
// can't be taken (the database unreachable, ctx ended).
func (l *writeLocks) write(ctx context.Context, id string) (func(), error) {
	il := l.take(id)
	il.Lock()
	return l.also(ctx, "item/"+id, false, func() {
		il.Unlock()
		l.give(id, il)
	})
}

// read locks item id for a read; the returned function unlocks it.
func (l *writeLocks) read(ctx context.Context, id string) (func(), error) {
	il := l.take(id)
	il.RLock()
	return l.also(ctx, "item/"+id, true, func() {
		il.RUnlock()
		l.give(id, il)
	})
}

// create marks a create in flight until the returned function is called,
// which must be after the twin it makes is stored (or the create failed).
func (l *writeLocks) create(ctx context.Context) (func(), error) {
	l.creates.RLock()
	return l.also(ctx, "creates", true, l.creates.RUnlock)
}

// settleCreates waits until the creates in flight when it was called have
// ended, and runs during (if not nil) before any other starts. An item
// seen on the tracker before the call with no twin is, once it returns,
// either twinned or not one of this node's creates; during sees no create
// in flight, so a pending write it finds is an interrupted one's (see
// store.PendingWrites).
//
// Between replicas it waits for every replica's creates (store.Locks.Wait:
// in the server's queue, so the creates that begin after it wait for it
// instead of keeping it waiting through a bulk).
func (l *writeLocks) settleCreates(ctx context.Context, during func()) error {
	l.creates.Lock()
	defer l.creates.Unlock()
	if l.shared != nil {
		release, err := l.shared.Wait(ctx, l.prefix+"creates")
		if err != nil {
			return err
		}
		defer release()
	}
	if during != nil {
		during()
	}
	return nil
}

// createKey is the lock a create of the twin of remote item remoteID on
// connection conn holds: not an item id, which a create has none of yet.
func createKey(conn, remoteID string) string {
	return "\x00create\x00" + conn + "\x00" + remoteID
}
