package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"time"
)

// Several processes on one database. On PostgreSQL the `tandem serve`
// replicas pointed at one database are one node: they share its key
// (NodeKey), and a role only one of them may play at a time, such as
// change detection, is held with a session-level advisory lock (TryLead).
// On SQLite one process works the file, and it holds every role.

// Shared reports whether other processes may work this database at the
// same time (PostgreSQL), so that nothing found in it at start — a job
// marked running, say — can be taken as left over by this process's
// previous run. On SQLite (false) one process works the file.
func (s *Store) Shared() bool { return s.dialect.postgres() }

// NodeKey returns the node's master key kept in the database, storing
// candidate first when there is none, and reports whether candidate was
// stored. Replicas starting at once all get the key the first of them
// stored: the insert does nothing when a key is there, and the key is
// read after it.
func (s *Store) NodeKey(ctx context.Context, candidate []byte, at time.Time) (key []byte, stored bool, err error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO node_key (id, key, created_at) VALUES (1, ?, ?)
		ON CONFLICT (id) DO NOTHING`, candidate, formatTime(at))
	if err != nil {
		return nil, false, fmt.Errorf("storing the node key in %s: %w", s.path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, fmt.Errorf("storing the node key in %s: %w", s.path, err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT key FROM node_key WHERE id = 1`).Scan(&key); err != nil {
		return nil, false, fmt.Errorf("reading the node key in %s: %w", s.path, err)
	}
	return key, n == 1, nil
}

// Lead is a role this process holds among the processes sharing the
// database, until Release or until the database drops its session (the
// process died, or its connection was cut), when another may take it.
type Lead struct {
	// conn holds the advisory lock (PostgreSQL); nil on SQLite, where
	// the one process always leads.
	conn *sql.Conn
}

// TryLead takes the role named role if no other process holds it, and
// returns nil (and no error) if one does. On PostgreSQL the role is a
// session-level advisory lock (pg_try_advisory_lock) on a connection of
// the pool kept for the lead's lifetime: the server releases it when that
// session ends, however the process ends. On SQLite it always succeeds.
func (s *Store) TryLead(ctx context.Context, role string) (*Lead, error) {
	if !s.dialect.postgres() {
		return &Lead{}, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("taking the lead (%s) in %s: %w", role, s.path, err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(?)`, roleKey(role)).Scan(&got); err != nil {
		discard(conn)
		return nil, fmt.Errorf("taking the lead (%s) in %s: %w", role, s.path, err)
	}
	if !got {
		_ = conn.Close() // holds no lock: back to the pool
		return nil, nil
	}
	return &Lead{conn: conn}, nil
}

// Check returns an error if the lead may have been lost: its session no
// longer answers, so the server may have released the lock and another
// process taken it. The holder then stops acting on it and calls Release.
func (l *Lead) Check(ctx context.Context) error {
	if l.conn == nil {
		return nil
	}
	if err := l.conn.PingContext(ctx); err != nil {
		return fmt.Errorf("the lead's session: %w", err)
	}
	var one int
	if err := l.conn.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("the lead's session: %w", err)
	}
	return nil
}

// Release gives the role up: the lead's connection is closed, not
// returned to the pool, so its session, and the lock with it, ends even if
// an unlock would fail.
func (l *Lead) Release() {
	if l == nil || l.conn == nil {
		return
	}
	discard(l.conn)
	l.conn = nil
}

// discard closes conn's session rather than returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// roleKey is the advisory lock key of a role: a hash of its name, apart
// from the writer lock's key.
func roleKey(role string) int64 {
	h := fnv.New64a()
	h.Write([]byte("tandem/lead/" + role))
	k := int64(h.Sum64())
	if k == writerLockKey {
		k++
	}
	return k
}

// replicaRole is the lead a replica's River client holds for its
// lifetime (HoldReplica), named by the client's id: while its session
// lives, the jobs that client is running are at work.
func replicaRole(clientID string) string { return "replica/" + clientID }

// HoldReplica marks the River client clientID as alive, until the Lead is
// released or its session ends (the process stopped or was killed):
// RequeueOrphaned then takes the jobs it left running for orphans. Take it
// before the client starts. On SQLite it holds nothing.
func (s *Store) HoldReplica(ctx context.Context, clientID string) (*Lead, error) {
	l, err := s.TryLead(ctx, replicaRole(clientID))
	if err == nil && l == nil {
		err = fmt.Errorf("another process holds the River client id %s", clientID)
	}
	return l, err
}

// RequeueOrphaned makes available again, on PostgreSQL, the jobs marked
// running whose last attempt was by a River client that holds no
// HoldReplica lock: its replica died (or stopped with jobs unfinished),
// and the step resumes at once instead of after River's rescue delay. It
// returns how many it requeued; on SQLite (RequeueInterrupted at start
// does it there) none.
func (s *Store) RequeueOrphaned(ctx context.Context) (int, error) {
	if !s.dialect.postgres() {
		return 0, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, attempted_by[array_upper(attempted_by, 1)]
		FROM river_job WHERE state = 'running' AND attempted_by IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("running jobs in %s: %w", s.path, err)
	}
	type running struct {
		id     int64
		client string
	}
	var jobs []running
	for rows.Next() {
		var j running
		var client sql.NullString
		if err := rows.Scan(&j.id, &client); err != nil {
			rows.Close()
			return 0, fmt.Errorf("running jobs in %s: %w", s.path, err)
		}
		if client.Valid {
			j.client = client.String
			jobs = append(jobs, j)
		}
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("running jobs in %s: %w", s.path, err)
	}
	alive := map[string]bool{}
	requeued := 0
	for _, j := range jobs {
		live, seen := alive[j.client]
		if !seen {
			// A bigint advisory key shows in pg_locks as its high and low
			// 32 bits (classid, objid) with objsubid 1.
			k := uint64(roleKey(replicaRole(j.client)))
			if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND `+thisDatabase+`
				AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1 AND granted)`,
				int64(k>>32), int64(k&0xffffffff)).Scan(&live); err != nil {
				return requeued, fmt.Errorf("whether a replica lives, in %s: %w", s.path, err)
			}
			alive[j.client] = live
		}
		if live {
			continue
		}
		res, err := s.db.ExecContext(ctx, `UPDATE river_job SET state = 'available'
			WHERE id = ? AND state = 'running' AND attempted_by[array_upper(attempted_by, 1)] = ?`, j.id, j.client)
		if err != nil {
			return requeued, fmt.Errorf("requeue an orphaned job in %s: %w", s.path, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			requeued++
		}
	}
	return requeued, nil
}
