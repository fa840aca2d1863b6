package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/connectors/remote"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

func newExalateCmd() *cobra.Command {
	var (
		cf         clientFlags
		connection string
		all, wait  bool
		timeout    time.Duration
		idle       time.Duration
	)
	cmd := &cobra.Command{
		Use:   "exalate [REF]",
		Short: "Sync one item now and show each stage as it happens (or --all of a connection)",
		Long: `Sync one item now. REF is what you would paste from either tracker: an
Asana task gid or task link, or a Jira issue key (such as KAN-19), issue id
or issue link. Each stage is printed as it happens (Preparing, Sending,
Waiting for remote, Finalizing, Synchronized), then the links to the item on
both sides.

With --all and --connection, every item of the connection's project is
synced (Bulk Exalate), with progress. The bulk is a job of the node's: it
goes on if this command stops, and resumes past the items it started if the
node (or the replica running it) stops. --wait=false only queues it.

A long sync (thousands of comments at the tracker's rate limit) shows how far
the other side has got ("comments 120 of 5000"). exalate waits as long as the
sync makes progress and gives up after --idle-timeout without any; --timeout
sets a limit in all. Giving up stops only the waiting: the sync goes on in
the background (tandem status REF).`,
		Example: `  tandem exalate 1200000000000012
  tandem exalate https://app.asana.com/0/1200000000000006/1200000000000012
  tandem exalate KAN-19
  tandem exalate https://example.atlassian.net/browse/KAN-19
  tandem exalate --all --connection Acme_to_Globex
  tandem exalate --all --connection 25467883-55f7-4a20-8b4f-097196d8dc8f`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) == 1) {
				return errors.New("give one item to sync (an Asana task gid, a Jira issue key such as KAN-19, or a link), or --all with --connection")
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			if timeout < 0 || idle <= 0 {
				return errors.New("--timeout must be 0 (none) or positive, and --idle-timeout positive, e.g. 5m")
			}
			// Cancelled on return, which closes the event stream.
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			if timeout > 0 {
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			// Listen before starting, so no stage is missed.
			var events <-chan engine.StageEvent
			if wait {
				if events, err = c.Subscribe(ctx); err != nil {
					return err
				}
			}
			ref := ""
			if len(args) == 1 {
				ref = args[0]
			}
			w := cmd.OutOrStdout()
			var started engine.BulkStarted
			if all {
				// A job of the node's: queued now, its items' syncs
				// started as it lists them, on any replica; it goes on
				// if this command stops.
				var b engine.Bulk
				if b, err = c.StartBulk(ctx, connection); err != nil {
					return err
				}
				if !wait {
					fmt.Fprintf(w, "Bulk Exalate queued (%s): %d items started so far; it goes on by itself (tandem console shows it)\n", shown(b.ID), b.Started)
					return nil
				}
				started, err = waitListed(ctx, w, c, b, watch{idle: idle, timeout: timeout, progress: newProgressLine(w)})
			} else {
				var ev engine.StageEvent
				ev, err = c.Exalate(ctx, connection, ref)
				started = engine.BulkStarted{Started: 1, Events: []engine.StageEvent{ev}}
			}
			if err != nil {
				return err
			}
			if !wait {
				for _, ev := range started.Events {
					line := fmt.Sprintf("%s: %s (sync %s)", shown(ev.LocalKey), shown(engine.StageName(ev.Stage)), shown(ev.EventID))
					if ev.Held != "" {
						line += ": " + shown(ev.Held)
					}
					fmt.Fprintln(w, line)
				}
				if more := started.Started - len(started.Events); more > 0 {
					fmt.Fprintf(w, "and %d more syncs started (the node lists the first %d)\n", more, len(started.Events))
				}
				return nil
			}
			wt := watch{idle: idle, timeout: timeout, progress: newProgressLine(w)}
			defer wt.progress.end()
			if all {
				return followBulk(ctx, w, c, events, started, wt)
			}
			return followOne(ctx, w, c, events, started.Events[0], wt)
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&connection, "connection", "", "the connection to sync on, by id or name (needed when several sync the item's project, and with --all)")
	cmd.Flags().BoolVar(&all, "all", false, "sync every item of the connection's project (Bulk Exalate)")
	cmd.Flags().BoolVar(&wait, "wait", true, "wait and print each stage until Synchronized")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "how long to wait for Synchronized in all (default: as long as the sync makes progress)")
	cmd.Flags().DurationVar(&idle, "idle-timeout", 5*time.Minute, "give up waiting after this long with no new stage and no progress")
	return cmd
}

// watch is how exalate follows a sync: how long it waits for news, and
// where progress reports go.
type watch struct {
	idle     time.Duration // no new stage and no progress for this long: give up
	timeout  time.Duration // the explicit --timeout, 0 if none
	progress *progressLine
}

// gaveUp says why exalate stopped waiting for what, and that the sync
// itself goes on.
func (wt watch) gaveUp(ctx context.Context, what, check string) error {
	why := "interrupted"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		why = fmt.Sprintf("--timeout %v reached", wt.timeout)
	}
	if ctx.Err() == nil {
		why = fmt.Sprintf("no progress for %v (--idle-timeout)", wt.idle)
	}
	return fmt.Errorf("stopped waiting, %s: %s not Synchronized yet; the sync goes on in the background: check with %s", why, what, check)
}

// furthest is how far each sync's progress reports have got, by sync and
// kind of item.
type furthest map[string]int

// advanced says whether p goes past the furthest report seen for its sync
// and kind. A report that repeats or restarts a count (an apply that failed
// and is tried again from the start) is no progress: otherwise a sync
// failing in a loop, or a peer sending the same report over and over,
// would keep exalate waiting for ever.
func (f furthest) advanced(eventID string, p engine.Progress) bool {
	k := eventID + "\x00" + p.What
	if best, ok := f[k]; ok && p.Done <= best {
		return false
	}
	f[k] = p.Done
	return true
}

// followOne prints one sync's stages as they happen, with the time each
// took, and both links at the end.
func followOne(ctx context.Context, w io.Writer, c *remote.Client, events <-chan engine.StageEvent, first engine.StageEvent, wt watch) error {
	fmt.Fprintf(w, "Syncing %s (sync %s)\n", shown(first.LocalKey), shown(first.EventID))
	began := first.At
	printed := map[string]bool{}
	idle := time.NewTimer(wt.idle)
	best := furthest{}
	defer idle.Stop()
	show := func(ev engine.StageEvent) {
		wt.progress.end()
		if ev.Error != "" {
			// A failure once: the status read again after a cut
			// repeats the ones already shown.
			key := ev.Stage + "\x00" + ev.Error + "\x00" + ev.At.String()
			if printed[key] {
				return
			}
			printed[key] = true
			fmt.Fprintf(w, "  ✗ %-19s %s (next try %s)\n", shown(engine.StageName(ev.Stage)), shown(ev.Error), ev.NextRetry.Local().Format(time.TimeOnly))
			return
		}
		if printed[ev.Stage] {
			return
		}
		printed[ev.Stage] = true
		idle.Reset(wt.idle) // a new stage is progress
		fmt.Fprintf(w, "  ✓ %-19s +%s\n", shown(engine.StageName(ev.Stage)), ev.At.Sub(began).Round(time.Millisecond))
	}
	// What happened while no stream was open (before it, or after a cut)
	// comes from the status; done says the sync needs no more following.
	catchUp := func() (done bool, err error) {
		st, err := c.EventStatus(ctx, first.ConnectionID, first.EventID)
		if err != nil {
			return false, nil
		}
		if len(st.Stages) > 0 {
			began = st.Stages[0].At
		}
		for _, s := range st.Stages {
			if st.Held != "" && s.Stage == st.Stage {
				continue // entered, but waiting: said below
			}
			show(engine.StageEvent{Stage: s.Stage, Error: s.Error, At: s.At})
		}
		if st.Stage == engine.StageSynchronized {
			return true, links(w, st)
		}
		if st.Held != "" {
			// Nothing happens until what it waits for does: waiting here
			// would only end at --idle-timeout.
			fmt.Fprintf(w, "  … %-19s %s\n", shown(engine.StageName(st.Stage)), shown(st.Held))
			fmt.Fprintf(w, "It goes on by itself then; check with tandem status %s\n", shown(first.LocalKey))
			return true, nil
		}
		return false, nil
	}
	if done, err := catchUp(); done {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return wt.gaveUp(ctx, first.LocalKey, "tandem status "+first.LocalKey)
		case <-idle.C:
			return wt.gaveUp(ctx, first.LocalKey, "tandem status "+first.LocalKey)
		case ev, ok := <-events:
			if !ok {
				wt.progress.end()
				var err error
				if events, err = reopen(ctx, w, c); err != nil {
					return fmt.Errorf("%w; check with tandem status %s", err, first.LocalKey)
				}
				if done, err := catchUp(); done {
					return err
				}
				continue
			}
			if ev.EventID != first.EventID || ev.Direction != "out" {
				continue
			}
			if ev.Progress != nil {
				if best.advanced(ev.EventID, *ev.Progress) {
					idle.Reset(wt.idle)
				}
				wt.progress.show(engine.StageName(ev.Stage), *ev.Progress)
				continue
			}
			show(ev)
			if ev.Stage == engine.StageSynchronized {
				st, err := c.EventStatus(ctx, ev.ConnectionID, ev.EventID)
				if err != nil {
					st = engine.EventStatus{StageEvent: ev}
				}
				return links(w, st)
			}
		}
	}
}

// reopenFor is how long exalate tries to open the event stream again
// after the node closed it.
var reopenFor = 30 * time.Second

// reopen opens the event stream again after the node closed it: behind a
// load balancer the replica that served it may have stopped, and another
// serves the new one (a node's replicas all stream every stage: see
// ARCHITECTURE.md, Replicas). It tries for reopenFor, waiting a little
// longer between tries, and says on w that the stream was cut.
func reopen(ctx context.Context, w io.Writer, c *remote.Client) (<-chan engine.StageEvent, error) {
	fmt.Fprintln(w, "  (the node closed the event stream; following again)")
	deadline := time.Now().Add(reopenFor)
	wait := 100 * time.Millisecond
	for {
		events, err := c.Subscribe(ctx)
		if err == nil {
			return events, nil
		}
		if ctx.Err() != nil || time.Now().Add(wait).After(deadline) {
			return nil, fmt.Errorf("the node closed the event stream and it could not be opened again within %v: %w", reopenFor, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("the node closed the event stream: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// links ends a sync's report: both sides' keys and links, and what the
// other side could not take.
func links(w io.Writer, st engine.EventStatus) error {
	fmt.Fprintf(w, "\nSide A: %s  %s\nSide B: %s  %s\n", shown(st.LocalKey), shown(st.LocalURL), shown(st.RemoteKey), shown(st.RemoteURL))
	for _, why := range st.Skipped {
		fmt.Fprintf(w, "Not synced: %s\n", shown(why))
	}
	for _, note := range st.Notes {
		fmt.Fprintf(w, "Note: %s\n", shown(note))
	}
	return nil
}

// errListingIdle stops waitListed: no item started for --idle-timeout.
var errListingIdle = errors.New("no item started")

// waitListed waits until a Bulk Exalate has started every item's sync,
// showing how many it has started, and each failed try's error once (the
// node tries again by itself). Giving up (--timeout, --idle-timeout with
// no item started, an interrupt) stops the waiting only.
func waitListed(ctx context.Context, w io.Writer, c *remote.Client, b engine.Bulk, wt watch) (engine.BulkStarted, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := time.AfterFunc(wt.idle, func() { cancel(errListingIdle) })
	defer idle.Stop()
	last, lastErr := b.Started, ""
	started, err := adminapi.WaitBulk(ctx, c, b, func(now engine.Bulk) {
		if now.Started != last {
			last = now.Started
			idle.Reset(wt.idle)
			wt.progress.count("Bulk Exalate", now.Started, "items started")
		}
		if now.Error != "" && now.Error != lastErr {
			lastErr = now.Error
			wt.progress.end()
			fmt.Fprintf(w, "Bulk Exalate: %s\n", shown(now.Error))
		}
	})
	wt.progress.end()
	if err != nil && ctx.Err() != nil {
		why := "interrupted"
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, errListingIdle):
			why = fmt.Sprintf("no item started for %v (--idle-timeout)", wt.idle)
		case errors.Is(cause, context.DeadlineExceeded):
			why = fmt.Sprintf("--timeout %v reached", wt.timeout)
		}
		return started, fmt.Errorf("stopped waiting, %s, with %d items started: the Bulk Exalate goes on in the background (tandem console shows it)", why, max(started.Started, last))
	}
	return started, err
}

// followBulk prints a line per item as it reaches Synchronized.
func followBulk(ctx context.Context, w io.Writer, c *remote.Client, events <-chan engine.StageEvent, bulk engine.BulkStarted, wt watch) error {
	started := bulk.Events
	pending := map[string]engine.StageEvent{}
	for _, ev := range started {
		pending[ev.EventID] = ev
	}
	total := len(started)
	if total > 0 && started[0].Held != "" {
		// One connection, held as a whole: nothing moves until it is not.
		fmt.Fprintf(w, "Bulk Exalate: %d items queued, %s; they go on by themselves then.\n", bulk.Started, shown(started[0].Held))
		return nil
	}
	if !bulk.All() {
		// The node lists the first adminapi.BulkEventsListed syncs it
		// started, not every one: those are followed here.
		fmt.Fprintf(w, "Bulk Exalate: %d items; following the first %d here, the others go on by themselves (tandem console shows them)\n", bulk.Started, total)
	} else {
		fmt.Fprintf(w, "Bulk Exalate: %d items\n", total)
	}
	done := func(ev engine.StageEvent) {
		if _, ok := pending[ev.EventID]; !ok {
			return
		}
		delete(pending, ev.EventID)
		wt.progress.end()
		fmt.Fprintf(w, "  [%d/%d] %s → %s\n", total-len(pending), total, shown(ev.LocalKey), shown(ev.RemoteKey))
	}
	// What happened while no stream was open (before it, or after a cut)
	// comes from each sync's status.
	catchUp := func() {
		for id, ev := range pending {
			if st, err := c.EventStatus(ctx, ev.ConnectionID, id); err == nil && st.Stage == engine.StageSynchronized {
				done(st.StageEvent)
			}
		}
	}
	catchUp()
	idle := time.NewTimer(wt.idle)
	best := furthest{}
	defer idle.Stop()
	for len(pending) > 0 {
		select {
		case <-ctx.Done():
			return wt.gaveUp(ctx, fmt.Sprintf("%d of %d items", len(pending), total), "tandem status REF for an item, or tandem console")
		case <-idle.C:
			return wt.gaveUp(ctx, fmt.Sprintf("%d of %d items", len(pending), total), "tandem status REF for an item, or tandem console")
		case ev, ok := <-events:
			if !ok {
				wt.progress.end()
				var err error
				if events, err = reopen(ctx, w, c); err != nil {
					return err
				}
				catchUp()
				continue
			}
			if _, ours := pending[ev.EventID]; !ours || ev.Direction != "out" || ev.Error != "" {
				continue
			}
			// Any item moving on, or getting further, is progress.
			if ev.Progress == nil || best.advanced(ev.EventID, *ev.Progress) {
				idle.Reset(wt.idle)
			}
			switch {
			case ev.Progress != nil:
				wt.progress.show(ev.LocalKey, *ev.Progress)
			case ev.Stage == engine.StageSynchronized:
				done(ev)
			}
		}
	}
	if !bulk.All() {
		fmt.Fprintf(w, "The %d items followed are Synchronized; %d more go on by themselves.\n", total, bulk.Started-total)
		return nil
	}
	fmt.Fprintf(w, "All %d items Synchronized.\n", total)
	return nil
}

func newStatusCmd() *cobra.Command {
	var (
		cf         clientFlags
		connection string
		history    int
	)
	cmd := &cobra.Command{
		Use:   "status REF",
		Short: "Show an item's latest sync, both links and its recent syncs",
		Long: `Show an item's latest sync: its stage, the stages it went through, both links;
then its recent syncs, each with its time, direction, stages, error and the
rules version it ran under.
REF is what you would paste from either tracker: an Asana task gid or task
link, or a Jira issue key (such as KAN-19), issue id or issue link.`,
		Example: `  tandem status 1200000000000012
  tandem status KAN-19 --connection Acme_to_Globex`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			st, err := c.Status(cmd.Context(), args[0], connection)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s: %s (sync %s, %s)\n", shown(args[0]), shown(engine.StageName(st.Stage)), shown(st.EventID), shown(st.Direction))
			for _, s := range st.Stages {
				line := fmt.Sprintf("  %s  %s", s.At.Local().Format(time.DateTime+".000"), shown(engine.StageName(s.Stage)))
				if s.Error != "" {
					line += ": " + shown(s.Error)
				}
				fmt.Fprintln(w, line)
			}
			switch st.Deleted {
			case "here":
				fmt.Fprintln(w, "Deleted on this side since; its twin was kept (deletes are not propagated).")
			case "there":
				fmt.Fprintln(w, "Its twin was deleted on the other side since; this item was kept (deletes are not propagated).")
			}
			if st.RemoteType != "" {
				fmt.Fprintf(w, "Type: %s on the other side, which this side could not give its item; it is kept for the way back.\n", shown(st.RemoteType))
			}
			if st.Held != "" {
				fmt.Fprintf(w, "Held at %s: %s; it goes on by itself then.\n", shown(engine.StageName(st.Stage)), shown(st.Held))
			}
			switch {
			case !st.ResolvedAt.IsZero():
				fmt.Fprintf(w, "Resolved at %s, not retried: %s\n", st.ResolvedAt.Local().Format(time.DateTime), shown(st.Resolution))
			case st.Error != "" && !st.NextRetry.IsZero():
				fmt.Fprintf(w, "Next try at %s\n", st.NextRetry.Local().Format(time.DateTime))
			}
			if err := links(w, st); err != nil || history <= 0 {
				return err
			}
			h, err := c.ItemHistory(cmd.Context(), st.ConnectionID, args[0], history)
			if err != nil {
				return err
			}
			printHistory(w, h)
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&connection, "connection", "", "the connection to look on, by id or name (default: any)")
	cmd.Flags().IntVar(&history, "history", 10, "how many of the item's recent syncs to list (0: none)")
	return cmd
}
