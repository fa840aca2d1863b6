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
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/api"
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
		newInviteCmd(), newAcceptCmd(), newConnectCmd(), newExalateCmd(), newStatusCmd(), newBenchCmd(),
		newUnexalateCmd(), newLinkCmd(), newErrorsCmd(), newRetryCmd(), newResolveCmd(), newQueueCmd(),
		newUpgradeCmd(), newRulesCmd())
	return root
}

// serve runs h on ln until ctx ends, then stops within a couple of
// seconds (see api.Server.Run).
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	return api.NewServer(h, api.ServerOptions{}).Run(ctx, ln)
}
