package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// shortID is how the tables show a sync's id: enough of its start to name
// it (retry and resolve take it, or the whole id).
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// itemCell names a sync's item: its key here, or the other side's key
// while it has none here yet, then its summary.
func itemCell(localKey, remoteKey, summary string, width int) string {
	key := localKey
	if key == "" {
		key = remoteKey
	}
	if summary == "" {
		return key
	}
	return clip(key+" "+summary, width)
}

// clip cuts s to n runes with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 2 {
		return s
	}
	return string(r[:n-1]) + "…"
}

// nextTry says when a failing sync is tried next.
func nextTry(e adminapi.SyncError, now time.Time) string {
	switch {
	case e.Running:
		return "now (running)"
	case e.Waits != "":
		return "waits for " + adminapi.WaitsName(e.Waits, "the other node")
	case e.NextRetry.IsZero():
		return "—"
	case !e.NextRetry.After(now):
		return "now"
	}
	return "in " + adminapi.Span(e.NextRetry.Sub(now))
}

// direction names a sync's way.
func direction(d string) string {
	if d == "in" {
		return "in"
	}
	return "out"
}

func newErrorsCmd() *cobra.Command {
	var (
		cf         clientFlags
		connection string
		asJSON     bool
		limit      int
	)
	cmd := &cobra.Command{
		Use:   "errors [SYNC]",
		Short: "List the failing syncs (table, or --json), or show one in full",
		Long: `List the syncs that failed and wait to be tried again, oldest first: the
item, the connection, the stage it stopped at, its last error in one line,
how many tries failed and when it is tried next. With SYNC (its id, or the
start of it as listed), show that one with its whole error.

A failing sync is retried on its own, sooner at first, then once a minute;
nothing is dropped. "tandem retry SYNC" tries it now (after fixing what it
says), "tandem resolve SYNC --reason R" stops retrying it.`,
		Example: `  tandem errors
  tandem errors --connection Acme_to_Globex --json
  tandem errors 3f2a9c1e`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				limit = 1000 // the one asked for is among them
			}
			errs, err := c.Errors(cmd.Context(), connection, limit)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(args) == 1 {
				e, err := oneError(errs, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(w, e)
				}
				printError(w, e, time.Now())
				return nil
			}
			if asJSON {
				return writeJSON(w, errs)
			}
			return printErrors(w, errs, time.Now())
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&connection, "connection", "", "only this connection's, by id or name (default: every connection)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (each error in full)")
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most this many (default: the node's, 100)")
	return cmd
}

// oneError finds the failing sync ref names among errs.
func oneError(errs adminapi.SyncErrors, ref string) (adminapi.SyncError, error) {
	var found []adminapi.SyncError
	for _, e := range errs.Errors {
		if strings.HasPrefix(e.EventID, ref) {
			found = append(found, e)
		}
	}
	switch {
	case ref == "":
		return adminapi.SyncError{}, errors.New("name the sync: its id, or the start of it as tandem errors lists it")
	case len(found) == 0:
		return adminapi.SyncError{}, fmt.Errorf("no failing sync %s: tandem errors lists them (a sync that went through or was resolved is not failing)", ref)
	case len(found) > 1:
		return adminapi.SyncError{}, fmt.Errorf("%s names %d failing syncs: give more of its id", ref, len(found))
	}
	return found[0], nil
}

// printErrors writes the failing syncs as a table.
func printErrors(w io.Writer, errs adminapi.SyncErrors, now time.Time) error {
	if errs.Total == 0 {
		fmt.Fprintln(w, "No failing syncs.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SYNC\tCONNECTION\tWAY\tITEM\tSTAGE\tTRIES\tNEXT TRY\tERROR")
	for _, e := range errs.Errors {
		// Each cell cleaned: the summary and the error come from outside.
		// The error, last, is its whole first line: its end (what the
		// tracker or the other node said) is what tells what to do.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", shown(shortID(e.EventID)), shown(e.ConnectionName), direction(e.Direction),
			shown(itemCell(e.LocalKey, e.RemoteKey, e.Summary, 30)), shown(adminapi.StageName(e.Stage)), e.Attempts,
			shown(nextTry(e, now)), shown(firstLine(e.Error)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if errs.Total > len(errs.Errors) {
		fmt.Fprintf(w, "… and %d more (--limit N lists more).\n", errs.Total-len(errs.Errors))
	}
	fmt.Fprintln(w, "The whole error: tandem errors SYNC. Try now: tandem retry SYNC (or --all). Stop retrying: tandem resolve SYNC --reason R.")
	return nil
}

// printError writes one failing sync in full.
func printError(w io.Writer, e adminapi.SyncError, now time.Time) {
	field := func(label, value string) {
		if value != "" {
			fmt.Fprintf(w, "%-12s %s\n", label+":", shown(value))
		}
	}
	field("Sync", e.EventID)
	field("Connection", e.ConnectionName)
	field("Way", direction(e.Direction))
	field("Item", itemCell(e.LocalKey, e.RemoteKey, e.Summary, 200))
	field("Here", e.LocalURL)
	field("There", e.RemoteURL)
	field("Stage", adminapi.StageName(e.Stage))
	field("Started", e.Started.Local().Format(time.DateTime))
	field("Failed", e.FailedAt.Local().Format(time.DateTime))
	field("Tries", fmt.Sprint(e.Attempts))
	field("Next try", nextTry(e, now))
	fmt.Fprintf(w, "Error:\n  %s\n", shown(e.Error))
}

// firstLine is the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func newRetryCmd() *cobra.Command {
	var (
		cf         clientFlags
		connection string
		all        bool
	)
	cmd := &cobra.Command{
		Use:   "retry SYNC | --all",
		Short: "Try a failing sync again now (or every one, with --all)",
		Long: `Try a failing sync again now rather than at its next scheduled try: SYNC is
its id, or the start of it as tandem errors lists it. With --all, every
failing sync of the node, or of one connection with --connection.

A sync whose connection is deactivated goes once the connection is
activated; one that waits for the other node is retried there.`,
		Example: `  tandem retry 3f2a9c1e
  tandem retry --all --connection Acme_to_Globex`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) == 1) {
				return errors.New("give one sync to retry (its id as tandem errors lists it), or --all for every failing sync")
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if all {
				n, err := c.RetryAll(cmd.Context(), connection)
				if err != nil {
					return err
				}
				switch n {
				case 0:
					fmt.Fprintln(w, "No failing sync to retry here (tandem errors lists them).")
				case 1:
					fmt.Fprintln(w, "Retrying 1 failing sync now; tandem errors shows how it goes.")
				default:
					fmt.Fprintf(w, "Retrying %d failing syncs now; tandem errors shows how they go.\n", n)
				}
				return nil
			}
			ev, err := c.Retry(cmd.Context(), connection, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "Retrying sync %s (%s, at %s) now; tandem status %s follows it.\n", shown(ev.EventID),
				shown(itemCell(ev.LocalKey, ev.RemoteKey, "", 0)), shown(adminapi.StageName(ev.Stage)), shown(statusRef(ev)))
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "retry every failing sync (of --connection, or of the node)")
	cmd.Flags().StringVar(&connection, "connection", "", "the connection, by id or name (default: whichever has the sync)")
	return cmd
}

// statusRef is what tandem status takes for a sync's item.
func statusRef(ev adminapi.StageEvent) string {
	if ev.LocalKey != "" {
		return ev.LocalKey
	}
	return ev.RemoteKey
}

func newResolveCmd() *cobra.Command {
	var (
		cf         clientFlags
		connection string
		reason     string
	)
	cmd := &cobra.Command{
		Use:   "resolve SYNC --reason R",
		Short: "Stop retrying a failing sync, for a reason the item's history shows",
		Long: `Stop retrying a sync: SYNC is its id, or the start of it as tandem errors or
tandem queue lists it. The reason is required; it is recorded with the time in
the item's history (tandem status REF), on both nodes when the sync came from
the other node and was not applied here.

Nothing is deleted, and the item's later syncs are no longer held up by this
one. Its changes go with the item's next sync.`,
		Example: `  tandem resolve 3f2a9c1e --reason "the task was moved to another workspace"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return errors.New(`give a reason with --reason "…": it is recorded in the item's history`)
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			ev, err := c.Resolve(cmd.Context(), connection, args[0], reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Resolved sync %s (%s, stopped at %s): it is not retried any more.\nReason, in its history: %s\n",
				shown(ev.EventID), shown(itemCell(ev.LocalKey, ev.RemoteKey, "", 0)), shown(adminapi.StageName(ev.Stage)), shown(ev.Resolution))
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why the sync is given up (required; shown in the item's history)")
	cmd.Flags().StringVar(&connection, "connection", "", "the connection, by id or name (default: whichever has the sync)")
	return cmd
}

func newQueueCmd() *cobra.Command {
	var (
		cf         clientFlags
		connection string
		asJSON     bool
		limit      int
	)
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "List what is queued, in flight or waiting its turn (table, or --json)",
		Long: `List the syncs that have not finished, oldest first, with their stage, where
each stands and its age:

  Queued            waits for a worker on this node
  In flight         being worked on now, or with the other node
  Waiting its turn  an earlier sync of the same item goes first
  Retrying          its last try failed (tandem errors says why)
  Paused            its connection is deactivated (or its invitation not accepted yet)`,
		Example: `  tandem queue
  tandem queue --connection Acme_to_Globex --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			q, err := c.Queue(cmd.Context(), connection, limit)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), q)
			}
			return printQueue(cmd.OutOrStdout(), q, time.Now())
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&connection, "connection", "", "only this connection's, by id or name (default: every connection)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most this many (default: the node's, 100)")
	return cmd
}

// printQueue writes the open syncs as a table.
func printQueue(w io.Writer, q adminapi.SyncQueue, now time.Time) error {
	if q.Total == 0 {
		fmt.Fprintln(w, "Nothing queued: every sync has finished.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SYNC\tCONNECTION\tWAY\tITEM\tSTAGE\tSTATE\tAGE")
	for _, e := range q.Entries {
		state := adminapi.QueueStateName(e.State)
		if e.BehindEventID != "" {
			state += " (after " + shortID(e.BehindEventID) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", shown(shortID(e.EventID)), shown(e.ConnectionName), direction(e.Direction),
			shown(itemCell(e.LocalKey, e.RemoteKey, e.Summary, 30)), shown(adminapi.StageName(e.Stage)), shown(state), adminapi.Span(now.Sub(e.Started)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if q.Total > len(q.Entries) {
		fmt.Fprintf(w, "… and %d more (--limit N lists more).\n", q.Total-len(q.Entries))
	}
	return nil
}
