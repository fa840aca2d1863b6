// Command tandem keeps tasks in two work trackers in sync, both ways.
//
// main.go only wires: it parses the command line, builds the parts and runs
// them. Everything else lives in engine/, store/, connectors/ and tui/.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/engine"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := newRootCmd(os.Stdout).ExecuteContext(ctx); err != nil {
		// Errors quote what nodes and trackers said (an item's name, another
		// node's): cleaned like everything else that reaches the terminal.
		fmt.Fprintln(os.Stderr, "tandem:", shown(err.Error()))
		os.Exit(1)
	}
}

func newRootCmd(out io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "tandem",
		Short: "Two-way sync between work trackers (Asana and Jira Cloud)",
		Long: `tandem keeps tasks in two work trackers in sync, both ways, through a
connection between two tandem nodes, each fronting one tracker.

Start with the embedded demo (two sandbox trackers, two nodes, the console):

  tandem demo`,
		Version:       engine.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.AddCommand(newDemoCmd(), newConsoleCmd(), newServeCmd(), newSandboxCmd(), newConnectionsCmd(),
		newInviteCmd(), newAcceptCmd(), newConnectCmd(), newExalateCmd(), newStatusCmd(), newBenchCmd())
	return root
}

// serve runs h on ln until ctx ends, then gives in-flight requests a few
// seconds to finish.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	// No WriteTimeout: attachment downloads and event streams run long.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	// Connections that never sent a request (a client's spare dial) count
	// as busy to Shutdown for their first five seconds; they are closed
	// first, so a stop isn't held up by nothing.
	var (
		mu    sync.Mutex
		fresh = map[net.Conn]bool{}
	)
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		if s == http.StateNew {
			fresh[c] = true
		} else {
			delete(fresh, c)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Shutdown(shutdown) }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		mu.Lock()
		for c := range fresh {
			c.Close()
		}
		mu.Unlock()
		select {
		case err := <-stopped:
			return err
		case <-tick.C: // until the listener is closed, new ones may come
		}
	}
}
