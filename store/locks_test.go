package store

import (
	"context"
	"testing"
	"time"
)

// TestLocksBetweenReplicas: the locks replicas share on PostgreSQL (nil on
// SQLite). An exclusive hold keeps another store's shared and exclusive
// tries waiting until it is released; shared holds of two stores
// coexist; Held sees a hold of any store; a holder's session ended (its
// replica killed) frees the lock.
func TestLocksBetweenReplicas(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		spec := e.spec(t)
		s1, s2 := e.openAt(t, spec), e.openAt(t, spec)
		if e.name == "sqlite" {
			if s1.Locks() != nil {
				t.Fatal("Locks on SQLite is not nil: the one process's locks are in memory")
			}
			return
		}
		ctx := t.Context()
		l1, l2 := s1.Locks(), s2.Locks()
		refused := func(l *Locks, name string, shared bool) bool {
			t.Helper()
			c, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
			defer cancel()
			release, err := l.Lock(c, name, shared)
			if err == nil {
				release()
				return false
			}
			if c.Err() == nil {
				t.Fatal(err)
			}
			return true
		}
		granted := func(l *Locks, name string, shared bool) {
			t.Helper()
			c, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			release, err := l.Lock(c, name, shared)
			if err != nil {
				t.Fatalf("%s (shared %v) not granted: %v", name, shared, err)
			}
			release()
		}
		// Each store's sessions connected first: a refusal is the lock's.
		granted(l1, "warm", false)
		granted(l2, "warm", false)
		release, err := l1.Lock(ctx, "item/1", false)
		if err != nil {
			t.Fatal(err)
		}
		if !refused(l2, "item/1", true) || !refused(l2, "item/1", false) {
			t.Fatal("another store took an item held exclusively")
		}
		granted(l2, "item/2", false)
		if held, err := l2.Held(ctx, "item/1"); err != nil || !held {
			t.Fatalf("Held(item/1) from the other store = %v, %v; want true", held, err)
		}
		release()
		if held, err := l2.Held(ctx, "item/1"); err != nil || held {
			t.Fatalf("Held(item/1) after release = %v, %v; want false", held, err)
		}

		r1, err := l1.Lock(ctx, "item/1", true)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := l2.Lock(ctx, "item/1", true)
		if err != nil {
			t.Fatalf("a second store's shared hold: %v", err)
		}
		if !refused(l2, "item/1", false) {
			t.Fatal("an exclusive hold was granted while both stores hold it shared")
		}
		r2()
		if !refused(l2, "item/1", false) {
			t.Fatal("an exclusive hold was granted while another store holds it shared")
		}
		r1()
		granted(l2, "item/1", false)

		// A killed holder's locks end with its session.
		if _, err := l1.Lock(ctx, "item/4", false); err != nil {
			t.Fatal(err)
		}
		var pid int
		ls := &l1.sessions[uint64(LockKey("item/4"))%lockSessions]
		ls.mu.Lock()
		err = ls.conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid)
		ls.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s2.DB().ExecContext(ctx, `SELECT pg_terminate_backend(?)`, pid); err != nil {
			t.Fatal(err)
		}
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		r, err := l2.Lock(c, "item/4", false)
		if err != nil {
			t.Fatalf("the lock of a killed session was not freed: %v", err)
		}
		r()
	})
}

// TestLocksWaitIsFair: Wait, waiting for an exclusive hold, holds back
// the shared tries that come after it, those of the replica holding it
// shared too (whose session would be granted more), so a stream of
// overlapping shared holds (the creates in flight during a bulk) can't
// keep it waiting for ever; it gets the lock when the holds before it
// end.
func TestLocksWaitIsFair(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		if e.name == "sqlite" {
			return
		}
		spec := e.spec(t)
		s1, s2, s3 := e.openAt(t, spec), e.openAt(t, spec), e.openAt(t, spec)
		ctx := t.Context()
		first, err := s1.Locks().Lock(ctx, "creates", true)
		if err != nil {
			t.Fatal(err)
		}
		// s3's session connected first: a refused try is the lock's.
		if r, err := s3.Locks().Lock(ctx, "creates", true); err != nil {
			t.Fatal(err)
		} else {
			r()
		}
		// Wait waits in the server's queue: an advisory lock not granted.
		// (Inferring it from a refused try is not enough: a try that
		// times out while its session connects is refused too.)
		got := queuedWait(t, s2, "creates")
		// A later shared try fails now, from another replica…
		c3, cancel3 := context.WithTimeout(ctx, 150*time.Millisecond)
		r3, err := s3.Locks().Lock(c3, "creates", true)
		cancel3()
		if err == nil {
			r3()
			t.Fatal("another replica was granted the lock shared while a Wait was queued")
		}
		// Wait is queued now: the holder's own session gives way too.
		c, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		r, err := s1.Locks().Lock(c, "creates", true)
		cancel()
		if err == nil {
			r()
			t.Fatal("the replica holding the lock shared was granted more while another's Wait was queued")
		}
		select {
		case <-got:
			t.Fatal("Wait got the lock while a shared hold before it was held")
		default:
		}
		first()
		select {
		case release := <-got:
			release()
		case <-time.After(10 * time.Second):
			t.Fatal("Wait did not get the lock within 10s of the hold before it ending")
		}
		r, err = s3.Locks().Lock(ctx, "creates", true)
		if err != nil {
			t.Fatal(err)
		}
		r()
	})
}

// TestLocksOfAnotherDatabase: the nodes on one server, each in a database
// of its own, don't see each other's locks: another node's Wait queued
// for "creates" does not make this node's shared tries give way, and its
// hold is not this node's.
func TestLocksOfAnotherDatabase(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		if e.name == "sqlite" {
			return
		}
		spec := e.spec(t)
		ours, theirs, theirs2 := e.open(t), e.openAt(t, spec), e.openAt(t, spec)
		ctx := t.Context()
		held, err := theirs.Locks().Lock(ctx, "creates", true)
		if err != nil {
			t.Fatal(err)
		}
		defer held()
		got := queuedWait(t, theirs2, "creates")
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		r, err := ours.Locks().Lock(c, "creates", true)
		cancel()
		if err != nil {
			t.Fatalf("this node's shared try gave way to another node's Wait: %v", err)
		}
		r()
		if h, err := ours.Locks().Held(ctx, "creates"); err != nil || h {
			t.Errorf("Held in this node's database: %v, %v; the hold is another node's", h, err)
		}
		held()
		select {
		case release := <-got:
			release()
		case <-time.After(10 * time.Second):
			t.Fatal("the other node's Wait did not get its lock")
		}
	})
}

// queuedWait starts s's Wait for name and returns once the server has it
// queued (an advisory lock of s's database not granted); the channel gets
// its release when it is granted.
func queuedWait(t *testing.T, s *Store, name string) <-chan func() {
	t.Helper()
	ctx := t.Context()
	got := make(chan func(), 1)
	go func() {
		release, err := s.Locks().Wait(ctx, name)
		if err != nil {
			t.Error(err)
			release = func() {}
		}
		got <- release
	}()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var queued bool
		if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE locktype = 'advisory' AND `+thisDatabase+` AND NOT granted)`).Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if queued {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("a Wait for %s was not queued within 10s", name)
		}
		<-tick.C
	}
}
