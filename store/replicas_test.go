package store

import (
	"crypto/rand"
	"sync"
	"testing"
	"time"
)

// TestNodeKeyOneForAll: processes starting at once on one database, each
// with a key of its own to offer, all come away with the same key, the
// one that was stored first, and later calls return it too.
func TestNodeKeyOneForAll(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		spec := e.spec(t)
		const replicas = 4
		stores := make([]*Store, replicas)
		for i := range stores {
			stores[i] = e.openAt(t, spec)
		}
		keys := make([][]byte, replicas)
		stored := make([]bool, replicas)
		errs := make([]error, replicas)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, s := range stores {
			wg.Go(func() {
				candidate := make([]byte, 32)
				_, _ = rand.Read(candidate)
				<-start
				keys[i], stored[i], errs[i] = s.NodeKey(t.Context(), candidate, time.Now())
			})
		}
		close(start)
		wg.Wait()
		firsts := 0
		for i := range keys {
			if errs[i] != nil {
				t.Fatalf("replica %d: %v", i, errs[i])
			}
			if string(keys[i]) != string(keys[0]) {
				t.Fatalf("replica %d got another key than replica 0", i)
			}
			if stored[i] {
				firsts++
			}
		}
		if firsts != 1 {
			t.Errorf("%d replicas stored their key, want exactly 1", firsts)
		}
		again, storedAgain, err := stores[0].NodeKey(t.Context(), make([]byte, 32), time.Now())
		if err != nil || storedAgain || string(again) != string(keys[0]) {
			t.Errorf("a later call: stored %v, same key %v, err %v; want the first key kept", storedAgain, string(again) == string(keys[0]), err)
		}
	})
}

// TestLeadOneAtATime: of two processes on one PostgreSQL database only one
// holds a role; when it gives it up, or its session dies (the process
// killed), the other takes it. On SQLite the one process always leads.
func TestLeadOneAtATime(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		ctx := t.Context()
		spec := e.spec(t)
		s1, s2 := e.openAt(t, spec), e.openAt(t, spec)
		l1, err := s1.TryLead(ctx, "detect")
		if err != nil || l1 == nil {
			t.Fatalf("the first TryLead = %v, %v; want the lead", l1, err)
		}
		defer l1.Release()
		if e.name == "sqlite" {
			if l, err := s2.TryLead(ctx, "detect"); err != nil || l == nil {
				t.Fatalf("on SQLite TryLead = %v, %v; want the lead always", l, err)
			}
			return
		}
		if l2, err := s2.TryLead(ctx, "detect"); err != nil || l2 != nil {
			t.Fatalf("a second TryLead while the first holds it = %v, %v; want nil", l2, err)
		}
		if other, err := s2.TryLead(ctx, "another role"); err != nil || other == nil {
			t.Fatalf("TryLead of another role = %v, %v; want it", other, err)
		} else {
			other.Release()
		}
		l1.Release()
		l2, err := s2.TryLead(ctx, "detect")
		if err != nil || l2 == nil {
			t.Fatalf("TryLead after Release = %v, %v; want the lead", l2, err)
		}

		// The holder's session killed, as a killed process's is.
		var pid int
		if err := l2.conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		if _, err := s1.DB().ExecContext(ctx, `SELECT pg_terminate_backend(?)`, pid); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for l2.Check(ctx) == nil {
			if time.Now().After(deadline) {
				t.Fatal("Check still finds the lead held 10s after its session was killed")
			}
		}
		l2.Release()
		// The holder sees its session gone before the server has ended
		// it and freed the lock: another takes the lead soon, not at once.
		for {
			l3, err := s1.TryLead(ctx, "detect")
			if err != nil {
				t.Fatal(err)
			}
			if l3 != nil {
				l3.Release()
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no TryLead took the lead within 10s of the holder's session dying")
			}
		}
	})
}

// TestOpenAtOnceMigratesOnce: replicas opening a fresh PostgreSQL
// database at the same moment all open it, each migration applied once.
// Not on SQLite, which one process works: there River's migrations, run
// by two processes opening a new file at once, still collide.
func TestOpenAtOnceMigratesOnce(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		if e.name == "sqlite" {
			t.Skip("one process works a SQLite file")
		}
		spec := e.empty(t)
		const replicas = 3
		errs := make([]error, replicas)
		stores := make([]*Store, replicas)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range replicas {
			wg.Go(func() {
				<-start
				stores[i], errs[i] = Open(t.Context(), spec)
			})
		}
		close(start)
		wg.Wait()
		for i, s := range stores {
			if s != nil {
				t.Cleanup(func() { _ = s.Close() })
			}
			if errs[i] != nil {
				t.Fatalf("replica %d: %v", i, errs[i])
			}
		}
		ms, err := loadMigrations(stores[0].dialect)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := stores[0].DB().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
			t.Errorf("%d migrations recorded (%v), want %d", n, err, len(ms))
		}
	})
}
