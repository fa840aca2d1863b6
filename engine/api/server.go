package api

import (
	"container/list"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// ServerOptions tune the node's HTTP server; a zero field takes its
// default.
type ServerOptions struct {
	// MaxConns is the number of open connections past which idle ones
	// are shed (default 1024), and Reserve how many more are let in when
	// none can be shed (default 64). See connCap.
	MaxConns, Reserve int
	// ReadHeaderTimeout bounds the wait for a request's headers (default
	// 5 s); bodies have deadlines of their own, set per request (see
	// guard). IdleTimeout closes a kept-alive connection that sends
	// nothing (default 60 s).
	ReadHeaderTimeout, IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers (default 32 KB: a signed
	// request's are a few hundred bytes).
	MaxHeaderBytes int
	// StopTimeout is how long Run lets requests in flight finish once
	// asked to stop, before it closes their connections (default 750 ms:
	// with the job queue's second, a stop stays under two seconds).
	StopTimeout time.Duration
	// Logger gets the few lines the server itself writes; nil discards.
	Logger *slog.Logger
}

// Defaults returns o with its zero fields set to their defaults.
func (o ServerOptions) Defaults() ServerOptions {
	if o.MaxConns <= 0 {
		o.MaxConns = 1024
	}
	if o.Reserve <= 0 {
		o.Reserve = 64
	}
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = 5 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = time.Minute
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 32 << 10
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 750 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Server is a node's HTTP server: `tandem serve`, the demo and tests run
// the node API through it, so they share its limits. There is no
// WriteTimeout and no ReadTimeout: the event stream and attachment
// downloads run long, and a request's body gets its own deadline instead.
type Server struct {
	opts     ServerOptions
	http     *http.Server
	conns    *connCap
	stopping chan struct{}
	stopOnce sync.Once
}

// NewServer returns a server for h (the handler of New).
func NewServer(h http.Handler, o ServerOptions) *Server {
	o = o.Defaults()
	s := &Server{opts: o, conns: newConnCap(o.MaxConns, o.Reserve), stopping: make(chan struct{})}
	s.http = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    o.MaxHeaderBytes,
		ConnState:         s.conns.stateChanged,
		BaseContext: func(net.Listener) context.Context {
			return context.WithValue(context.Background(), stoppingKey{}, (<-chan struct{})(s.stopping))
		},
		ErrorLog: slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug),
	}
	return s
}

// stoppingKey is the context key of the channel closed when the server
// begins to stop.
type stoppingKey struct{}

// stopping returns a channel closed when the server serving ctx's request
// begins to stop, so a stream that would run until its client leaves ends
// instead; nil (never closed) outside a Server.
func stopping(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(stoppingKey{}).(<-chan struct{})
	return ch
}

// Serve accepts connections on ln until the server is closed.
func (s *Server) Serve(ln net.Listener) error {
	err := s.http.Serve(&capListener{Listener: ln, cap: s.conns})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Run serves on ln until ctx ends, then stops: streams are told to end,
// connections that sent no request are closed, and requests in flight get
// StopTimeout to finish before their connections are closed too. A stop is
// not an error; only a failure to serve is.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return s.Stop()
}

// Stop stops the server as Run does when its context ends.
func (s *Server) Stop() error {
	s.beginStop()
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.StopTimeout)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- s.http.Shutdown(ctx) }()
	// Shutdown waits for a connection that sent nothing yet as if it were
	// busy (for five seconds); it is not, so it is closed, and so are those
	// accepted until the listener closes.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		s.conns.closeFresh()
		select {
		case err := <-stopped:
			if errors.Is(err, context.DeadlineExceeded) {
				s.opts.Logger.Warn("stopping: requests still running were cut off", "after", s.opts.StopTimeout)
				return s.Close()
			}
			return err
		case <-tick.C:
		}
	}
}

// Close closes the listener and every connection at once.
func (s *Server) Close() error {
	s.beginStop()
	return s.http.Close()
}

func (s *Server) beginStop() { s.stopOnce.Do(func() { close(s.stopping) }) }

// capListener hands the server only the connections connCap keeps.
type capListener struct {
	net.Listener
	cap *connCap
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.cap.accepted(c) {
			return c, nil
		}
	}
}

// connCap bounds the open connections without ever refusing the newest
// one while an older one is doing nothing.
//
// A plain limit on accepted connections (netutil.LimitListener) stops
// accepting when it is full, so a flood of connections that send nothing,
// or send their headers a byte at a time, would lock out /healthz and the
// admin API with everyone else. Instead, each connection is tracked by its
// state (http.Server's ConnState): one that has not sent a complete request
// yet (new) or waits between requests (idle) costs nothing to drop and is
// sheddable; one whose request is being handled (active) is not. Past
// MaxConns, every accept sheds the oldest sheddable connection, so a new
// caller always gets in and has its request served as soon as it sends it,
// and an attacker's connections are the first to go. Active connections
// are bounded elsewhere: unauthenticated requests are answered without
// their bodies being read, the public endpoints are rated per address,
// peer bodies take slots and have deadlines. If all connections are active
// anyway, up to Reserve more are let in (room for a health check or an
// admin call); past that, the new connection is closed.
type connCap struct {
	max, reserve int

	mu    sync.Mutex
	conns map[net.Conn]*capConn
	idle  list.List // of the sheddable *capConn, oldest first
}

type capConn struct {
	c         net.Conn
	sheddable bool
	el        *list.Element // in idle, when sheddable
}

func newConnCap(max, reserve int) *connCap {
	return &connCap{max: max, reserve: reserve, conns: map[net.Conn]*capConn{}}
}

// accepted records c and reports whether to keep it, shedding older idle
// connections to make room.
func (k *connCap) accepted(c net.Conn) bool {
	k.mu.Lock()
	cc := &capConn{c: c, sheddable: true}
	cc.el = k.idle.PushBack(cc)
	k.conns[c] = cc
	var shed []net.Conn
	for len(k.conns) > k.max {
		old := k.idle.Front()
		if old == nil || old.Value.(*capConn).c == c {
			break
		}
		shed = append(shed, old.Value.(*capConn).c)
		k.forgetLocked(old.Value.(*capConn).c)
	}
	keep := len(k.conns) <= k.max+k.reserve
	if !keep {
		k.forgetLocked(c)
	}
	k.mu.Unlock()
	for _, o := range shed {
		o.Close()
	}
	if !keep {
		c.Close()
	}
	return keep
}

func (k *connCap) forgetLocked(c net.Conn) {
	cc, ok := k.conns[c]
	if !ok {
		return
	}
	if cc.sheddable {
		k.idle.Remove(cc.el)
	}
	delete(k.conns, c)
}

// stateChanged follows the server's view of each connection.
func (k *connCap) stateChanged(c net.Conn, st http.ConnState) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if st == http.StateClosed || st == http.StateHijacked {
		k.forgetLocked(c)
		return
	}
	cc, ok := k.conns[c]
	if !ok {
		return // shed already
	}
	switch sheddable := st == http.StateNew || st == http.StateIdle; {
	case sheddable && !cc.sheddable:
		cc.sheddable = true
		cc.el = k.idle.PushBack(cc)
	case !sheddable && cc.sheddable:
		cc.sheddable = false
		k.idle.Remove(cc.el)
	}
}

// closeFresh closes the connections that have not sent a request yet or
// wait between two.
func (k *connCap) closeFresh() {
	k.mu.Lock()
	var fresh []net.Conn
	for el := k.idle.Front(); el != nil; el = el.Next() {
		fresh = append(fresh, el.Value.(*capConn).c)
	}
	for _, c := range fresh {
		k.forgetLocked(c)
	}
	k.mu.Unlock()
	for _, c := range fresh {
		c.Close()
	}
}

// open is the number of connections tracked, for tests.
func (k *connCap) open() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.conns)
}
