package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// Locks are the locks the replicas of a node share on PostgreSQL (nil on
// SQLite, where the one process's locks are in its memory): session
// advisory locks on a hash of a key the caller names (an item, "the
// creates", an item being applied). A replica's locks end with its
// session, so a killed replica holds none.
//
// They are taken on a small pool of their own (lockSessions sessions for
// the non-blocking tries, lockWaiters more for blocking waits), never on
// the store's: a section holding a lock, or waiting for one, never keeps
// the store's transactions from a connection, and a replica never uses
// more than lockSessions+lockWaiters connections for its locks, however
// many sections hold them.
//
// A replica's goroutines share its sessions, and a session's advisory
// locks don't exclude that session itself (they stack). So Locks exclude
// other replicas only: the caller keeps its in-memory lock on the same key
// too, taken first (engine/entitylocks.go). A key is always taken on the
// same session (by its hash), so its shared holds in one replica stack on
// one session and are released there.
type Locks struct {
	db   *sql.DB // the locks' own pool
	main *sql.DB // the store's, for looking at pg_locks
	path string

	sessions [lockSessions]lockSession
}

const (
	// lockSessions are the sessions a replica's tried locks are held on.
	lockSessions = 8
	// lockWaiters bounds the sessions waiting in the server for a lock
	// at once (Wait); a further waiter waits for one of them.
	lockWaiters = 2
	// lockPollMax is the longest pause between two tries of a lock held
	// by another replica.
	lockPollMax = 20 * time.Millisecond
)

// lockSession is one session of the locks' pool, kept for the locks held
// on it; gen counts its sessions, so that a release after the session
// was lost (and its locks with it) does not unlock on its successor.
type lockSession struct {
	mu   sync.Mutex
	conn *sql.Conn
	gen  int
}

// openLocks makes the Locks of the PostgreSQL store s, on a pool of
// their own to the server, user and database of spec (the store's URL).
// It connects only when a lock is first taken.
func openLocks(spec string, s *Store) (*Locks, error) {
	cfg, err := parseURL(spec)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(rebindConnector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(lockSessions + lockWaiters)
	db.SetMaxIdleConns(lockSessions + lockWaiters)
	return &Locks{db: db, main: s.db, path: s.path}, nil
}

// Locks returns the replicas' shared locks: nil on SQLite.
func (s *Store) Locks() *Locks { return s.locks }

// thisDatabase is the condition on pg_locks of an advisory lock taken in
// the session's database: one server may hold the databases of several
// nodes, whose advisory locks, each database's own, pg_locks shows all
// together (and "write/creates" is every node's).
const thisDatabase = `database = (SELECT oid FROM pg_database WHERE datname = current_database())`

// LockKey is the advisory lock key of name: a hash of it, apart from the
// roles' (TryLead) and the writer lock's keys.
func LockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("tandem/lock/" + name))
	k := int64(h.Sum64())
	if k == writerLockKey {
		k++
	}
	return k
}

// session returns key's session, with its mutex held, connected.
func (l *Locks) session(ctx context.Context, key int64) (*lockSession, error) {
	ls := &l.sessions[uint64(key)%lockSessions]
	ls.mu.Lock()
	if ls.conn == nil {
		conn, err := l.db.Conn(ctx)
		if err != nil {
			ls.mu.Unlock()
			return nil, fmt.Errorf("a session for locks in %s: %w", l.path, err)
		}
		ls.conn = conn
		ls.gen++
	}
	return ls, nil
}

// lost drops ls's session after an error on it: its locks are gone with
// it. Called with ls.mu held.
func (ls *lockSession) lost() {
	if ls.conn != nil {
		discard(ls.conn)
		ls.conn = nil
	}
}

// Lock takes the lock name, shared or exclusive, trying it until no other
// replica holds it in a conflicting mode or ctx ends, and returns the
// function that releases it. Several holders in this replica stack (see
// Locks): exclude them in memory first.
func (l *Locks) Lock(ctx context.Context, name string, shared bool) (release func(), err error) {
	key := LockKey(name)
	k := uint64(key)
	try, unlock := `SELECT pg_try_advisory_lock(?)`, `SELECT pg_advisory_unlock(?)`
	args := []any{key}
	if shared {
		// A session's holds stack: one already holding the lock shared
		// is granted more, even with another replica's Wait queued for
		// it, which would wait as long as this replica's shared holds
		// overlap (the creates of a bulk). So a shared try gives way to
		// a queued waiter.
		try = `SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND ` + thisDatabase + `
			AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1 AND NOT granted)
			THEN false ELSE pg_try_advisory_lock_shared(?) END`
		unlock = `SELECT pg_advisory_unlock_shared(?)`
		args = []any{int64(k >> 32), int64(k & 0xffffffff), key}
	}
	pause := time.Millisecond
	for {
		ls, err := l.session(ctx, key)
		if err != nil {
			return nil, err
		}
		var got bool
		err = ls.conn.QueryRowContext(ctx, try, args...).Scan(&got)
		if err != nil {
			ls.lost()
			ls.mu.Unlock()
			return nil, fmt.Errorf("locking %s in %s: %w", name, l.path, err)
		}
		gen := ls.gen
		ls.mu.Unlock()
		if got {
			return func() { l.unlock(ls, gen, unlock, key) }, nil
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("locking %s in %s: %w", name, l.path, ctx.Err())
		case <-t.C:
		}
		pause = min(pause*2, lockPollMax)
	}
}

// TryLock tries the lock name, exclusive, once: ok false when another
// replica holds it. Unlike Lock under a short deadline, a refusal costs
// nothing (a try cut by its ctx mid-query drops its session, and every
// lock on it).
func (l *Locks) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	key := LockKey(name)
	ls, err := l.session(ctx, key)
	if err != nil {
		return nil, false, err
	}
	var got bool
	err = ls.conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(?)`, key).Scan(&got)
	if err != nil {
		ls.lost()
		ls.mu.Unlock()
		return nil, false, fmt.Errorf("locking %s in %s: %w", name, l.path, err)
	}
	gen := ls.gen
	ls.mu.Unlock()
	if !got {
		return nil, false, nil
	}
	return func() { l.unlock(ls, gen, `SELECT pg_advisory_unlock(?)`, key) }, true, nil
}

// unlock releases key on ls, if ls is still the session it was taken on.
func (l *Locks) unlock(ls *lockSession, gen int, unlock string, key int64) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.conn == nil || ls.gen != gen {
		return // the session ended, and the lock with it
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ok bool
	if err := ls.conn.QueryRowContext(ctx, unlock, key).Scan(&ok); err != nil {
		ls.lost() // ending the session releases the lock for sure
	}
}

// Wait takes the lock name exclusively, waiting in the server's queue for
// it: unlike Lock's tries, a waiting Wait holds back those that ask for
// the lock after it (a try of the lock fails meanwhile), so a stream of
// shared holders that overlap one another can't keep it waiting for
// ever. It holds one of lockWaiters sessions until released.
func (l *Locks) Wait(ctx context.Context, name string) (release func(), err error) {
	key := LockKey(name)
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("a session for locks in %s: %w", l.path, err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(?)`, key); err != nil {
		discard(conn) // a cancelled wait may have been granted meanwhile
		return nil, fmt.Errorf("locking %s in %s: %w", name, l.path, err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var ok bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock(?)`, key).Scan(&ok); err != nil || !ok {
			discard(conn)
			return
		}
		_ = conn.Close()
	}, nil
}

// Held reports whether a session, this replica's or another's, holds the
// lock name in either mode.
func (l *Locks) Held(ctx context.Context, name string) (bool, error) {
	// A bigint advisory key shows in pg_locks as its high and low 32 bits
	// (classid, objid) with objsubid 1.
	k := uint64(LockKey(name))
	var held bool
	if err := l.main.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND `+thisDatabase+`
		AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1 AND granted)`,
		int64(k>>32), int64(k&0xffffffff)).Scan(&held); err != nil {
		return false, fmt.Errorf("whether %s is locked, in %s: %w", name, l.path, err)
	}
	return held, nil
}

// close ends the locks' sessions, and every lock with them.
func (l *Locks) close() {
	for i := range l.sessions {
		ls := &l.sessions[i]
		ls.mu.Lock()
		ls.lost()
		ls.mu.Unlock()
	}
	_ = l.db.Close()
}
