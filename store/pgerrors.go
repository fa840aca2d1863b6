package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
)

// What goes wrong reaching a PostgreSQL database, said in one line that
// tells the admin what to do, and never with the password: pgx's own
// messages can span lines (one per address tried) and its parse errors
// quote the URL.

// ErrBadURL is returned for a postgres:// URL pgx cannot parse.
var ErrBadURL = errors.New("not a PostgreSQL URL pgx can read: write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE (percent-encode special characters in the password)")

// ErrUnreachable is wrapped by the errors of a database the store could
// not connect to or log in to: a server down or unreachable, a password
// refused, a database that does not exist.
var ErrUnreachable = errors.New("cannot use the PostgreSQL database")

// CheckURL reports whether spec, a postgres:// URL, is one the store can
// connect with (ErrBadURL if not), without connecting.
func CheckURL(spec string) error {
	_, err := parseURL(spec)
	return err
}

func parseURL(spec string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(spec)
	if err != nil {
		// pgx's message quotes the URL, password included.
		return nil, ErrBadURL
	}
	return cfg, nil
}

// unreachable is a connection failure, said in one line: why, and what to
// do, with the cause kept for errors.Is and errors.As.
type unreachable struct {
	msg   string
	cause error
}

func (e *unreachable) Error() string { return e.msg }

func (e *unreachable) Unwrap() []error { return []error{ErrUnreachable, e.cause} }

// connectError says why connecting to cfg's database failed.
func connectError(err error, cfg *pgx.ConnConfig) error {
	if err == nil {
		return nil
	}
	where := net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	if strings.HasPrefix(cfg.Host, "/") {
		where = cfg.Host // a unix socket's directory
	}
	var msg string
	var dns *net.DNSError
	switch code := pgCode(err); {
	case code == "28P01": // invalid_password
		msg = fmt.Sprintf("the PostgreSQL server at %s refused the password of user %q: check the URL's user and password", where, cfg.User)
	case code == "28000": // invalid_authorization_specification (pg_hba.conf)
		msg = fmt.Sprintf("the PostgreSQL server at %s does not let user %q in from here: check the user, and the server's pg_hba.conf", where, cfg.User)
	case code == "3D000": // invalid_catalog_name
		msg = fmt.Sprintf("the PostgreSQL server at %s has no database %q: create it first (createdb %s) or fix the URL's database", where, cfg.Database, cfg.Database)
	case code != "":
		msg = fmt.Sprintf("the PostgreSQL server at %s refused the connection (SQLSTATE %s)", where, code)
	case errors.As(err, &dns):
		msg = fmt.Sprintf("cannot resolve the PostgreSQL server's host %q: check the URL's host", cfg.Host)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		msg = fmt.Sprintf("no answer from the PostgreSQL server at %s in time: check that it runs and that this machine reaches it", where)
	default:
		msg = fmt.Sprintf("cannot reach the PostgreSQL server at %s (%s): check that it runs and listens there, and the URL's host and port", where, lastCause(err))
	}
	return &unreachable{msg: scrub(msg, cfg.Password), cause: err}
}

// lastCause is the innermost message of err, on one line: "connection
// refused" rather than pgx's list of every address tried.
func lastCause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return strings.Join(strings.Fields(s), " ")
}

// scrub removes the password from s, should any message ever carry it.
func scrub(s, password string) string {
	if password == "" {
		return s
	}
	return strings.ReplaceAll(s, password, "xxxxx")
}
