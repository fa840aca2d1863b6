package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tandem-sync/tandem/store"
)

// checkDatabase reads --database, or TANDEM_DATABASE when the flag is
// empty: a SQLite file (made absolute, as --data is) or a postgres:// URL
// pgx can read, checked before the node starts. Messages name the URL
// only without its password.
func (f *nodeFlags) checkDatabase() error {
	f.databaseFrom = "--database"
	if f.database == "" {
		f.database, f.databaseFrom = firstNonEmpty(os.Getenv("TANDEM_DATABASE")), "TANDEM_DATABASE"
	}
	switch {
	case f.database == "":
		return nil
	case store.IsDatabaseURL(f.database):
		if err := store.CheckURL(f.database); err != nil {
			return fmt.Errorf("%s %s: %w", f.databaseFrom, store.RedactURL(f.database), err)
		}
	case looksLikeURL(f.database):
		return fmt.Errorf("%s: not a database this node can use: write a PostgreSQL URL as postgres://USER:PASSWORD@HOST:PORT/DATABASE; anything else is a SQLite file's path", f.databaseFrom)
	default:
		if abs, err := filepath.Abs(f.database); err == nil {
			f.database = abs
		}
	}
	return nil
}

// looksLikeURL reports whether s has a scheme (mysql://…) or starts like
// a PostgreSQL URL: given by mistake for one, it would otherwise silently
// become a SQLite file named so.
func looksLikeURL(s string) bool {
	if l := strings.ToLower(s); strings.HasPrefix(l, "postgres:") || strings.HasPrefix(l, "postgresql:") {
		return true // a PostgreSQL URL mistyped (postgres:/host, POSTGRES://)
	}
	for i, c := range s {
		switch {
		case c == ':':
			return i > 0 && len(s) > i+2 && s[i+1:i+3] == "//"
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return false
}

// databaseName is the database as messages show it: the file, or the URL
// without its password.
func (f *nodeFlags) databaseName() string {
	if store.IsDatabaseURL(f.database) {
		return store.RedactURL(f.database)
	}
	return f.database
}

// databaseHint says where a database the node could not use was named,
// so the admin knows what to fix; the store's message says what failed.
func (f *nodeFlags) databaseHint(err error) error {
	if f.database != "" && (errors.Is(err, store.ErrUnreachable) || errors.Is(err, store.ErrBadURL)) {
		return fmt.Errorf("%s: %w", f.databaseFrom, err)
	}
	return err
}
