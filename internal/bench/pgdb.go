package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/tandem-sync/tandem/store"
)

// pgServer is the PostgreSQL server of Config.Database: each node of a
// run gets a database of its own on it, created empty before the node
// starts and dropped after it stops. Messages name the URL only without
// its password.
type pgServer struct {
	base  string // the URL given: a database the user may create databases from
	admin *sql.DB

	mu      sync.Mutex
	created []string
}

// openPG checks the server is reachable and the user may create
// databases, with a database made and dropped at once, so a run fails at
// its start rather than at its first node.
func openPG(ctx context.Context, spec string) (*pgServer, error) {
	if !store.IsDatabaseURL(spec) {
		return nil, fmt.Errorf("bench: --database: give a PostgreSQL server's URL, postgres://USER:PASSWORD@HOST:PORT/DATABASE, of a database the user may create databases from")
	}
	if err := store.CheckURL(spec); err != nil {
		return nil, fmt.Errorf("bench: --database %s: %w", store.RedactURL(spec), err)
	}
	db, err := sql.Open("pgx", spec)
	if err != nil {
		return nil, fmt.Errorf("bench: --database %s: %w", store.RedactURL(spec), err)
	}
	db.SetMaxIdleConns(1)
	s := &pgServer{base: spec, admin: db}
	name, err := s.create(ctx, "probe")
	if err == nil {
		err = s.drop(ctx, name)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bench: --database %s: can't create and drop a database there (the nodes get one each): %w",
			store.RedactURL(spec), err)
	}
	return s, nil
}

// create makes an empty database for the node called node and returns
// its name.
func (s *pgServer) create(ctx context.Context, node string) (string, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "tandem_bench_" + hex.EncodeToString(b[:])
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := s.admin.ExecContext(cctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("creating %s's database %s: %w", node, name, err)
	}
	s.mu.Lock()
	s.created = append(s.created, name)
	s.mu.Unlock()
	return name, nil
}

// url is the URL of the database called name on the server.
func (s *pgServer) url(name string) string {
	u, _ := url.Parse(s.base) // openPG checked it
	u.Path = "/" + name
	return u.String()
}

// drop drops a database create made; FORCE: a node killed mid-run may
// leave its sessions behind for a moment.
func (s *pgServer) drop(ctx context.Context, name string) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := s.admin.ExecContext(cctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, n := range s.created {
		if n == name {
			s.created = append(s.created[:i], s.created[i+1:]...)
			break
		}
	}
	return nil
}

// close drops what is left (a failed run's) and closes the pool; it
// returns the first error.
func (s *pgServer) close(ctx context.Context) error {
	s.mu.Lock()
	left := append([]string(nil), s.created...)
	s.mu.Unlock()
	var first error
	for _, name := range left {
		if err := s.drop(ctx, name); err != nil && first == nil {
			first = err
		}
	}
	s.admin.Close()
	return first
}
