package store

import (
	"database/sql"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mattn/go-sqlite3"
)

// TestStatementsPreparedOnce checks that a query run again reuses its
// prepared statement: SQLite calls the authorizer only while it prepares a
// statement (for every column it reads), so the second run of the same
// query must not call it for item_links. BEGIN and COMMIT are run with
// sqlite3_exec, prepared each time and cheap: not counted.
func TestStatementsPreparedOnce(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	var prepared atomic.Int64
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.Raw(func(dc any) error {
		dc.(*sqlite3.SQLiteConn).RegisterAuthorizer(func(_ int, table, _, _ string) int {
			if table == "item_links" {
				prepared.Add(1)
			}
			return sqlite3.SQLITE_OK
		})
		return nil
	})
	if cerr := conn.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	links := func(tx *sql.Tx) {
		t.Helper()
		if _, err := s.Links(ctx, tx, "c", LinkComment, "e"); err != nil {
			t.Fatal(err)
		}
	}
	links(nil)
	if prepared.Load() == 0 {
		t.Fatal("the authorizer was not called while preparing: the test cannot tell reuse from preparing")
	}
	prepared.Store(0)
	links(nil)
	if n := prepared.Load(); n != 0 {
		t.Errorf("the same query run again was prepared again (%d authorizer calls)", n)
	}
	// And in a transaction, as the pipeline runs it.
	if err := s.InTx(ctx, func(tx *sql.Tx) error { links(tx); return nil }); err != nil {
		t.Fatal(err)
	}
	if n := prepared.Load(); n != 0 {
		t.Errorf("the query run in a transaction was prepared again (%d authorizer calls)", n)
	}
}

// TestLinksOfAnEntityUseAnIndex checks that reading one entity's links
// (the echo check, on every change seen) does not scan all the
// connection's links.
func TestLinksOfAnEntityUseAnIndex(t *testing.T) {
	s := openTest(t)
	rows, err := s.DB().QueryContext(t.Context(), `EXPLAIN QUERY PLAN SELECT connection_id, kind, local_id, remote_id, entity_id, fingerprint
		FROM item_links WHERE connection_id = ? AND kind = ? AND entity_id = ?`, "c", LinkComment, "e")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(plan, "; ")
	if !strings.Contains(got, "item_links_entity (connection_id=? AND kind=? AND entity_id=?)") {
		t.Errorf("query plan %q, want a search of item_links_entity on all three columns", got)
	}
}
