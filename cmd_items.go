package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

func newUnexalateCmd() *cobra.Command {
	var (
		cf         clientFlags
		connection string
	)
	cmd := &cobra.Command{
		Use:   "unexalate REF",
		Short: "Stop syncing an item pair; nothing is deleted in either tracker",
		Long: `Stop syncing an item pair. REF is either side's item: an Asana task gid or
task link, or a Jira issue key (such as KAN-19), issue id or issue link.

Both nodes remove the link between the two items, and the links of their
comments and attachments; nothing is deleted in either tracker. Later edits
on either side stay where they are made, and new-item sync leaves them alone:
only "tandem exalate REF" syncs the item again, as a fresh pair (a new twin).

Both nodes must agree: when the other node can't be reached, or the item has
a sync on its way, nothing changes and the command says so; run it again
later.`,
		Example: `  tandem unexalate 1200000000000012
  tandem unexalate KAN-19 --connection Acme_to_Globex`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			res, err := c.Unexalate(cmd.Context(), connection, args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Unexalated: %s and its twin %s no longer sync; nothing was deleted in either tracker.\n",
				shown(res.LocalKey), shown(res.RemoteKey))
			fmt.Fprintf(w, "To sync it again as a fresh pair: tandem exalate %s\n", shown(res.LocalKey))
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&connection, "connection", "", "the connection the pair syncs on, by id or name (default: the one that has it)")
	return cmd
}

func newLinkCmd() *cobra.Command {
	var (
		cf         clientFlags
		connection string
		to, winner string
	)
	cmd := &cobra.Command{
		Use:   "link REF --to REMOTE_REF",
		Short: "Make two items that exist already, one on each side, twins (Connect)",
		Long: `Make two items that exist already twins: REF on this node, REMOTE_REF on the
other side of the connection (an Asana task gid or link, a Jira issue key such
as KAN-19, or a link). The other node checks its item exists, is in the
connection's project and is not a twin already.

--winner says whose fields (type, summary, description) win the first sync:
local (REF's, the default) or remote (REMOTE_REF's). Comments with the same
text and attachments with the same name and size on both items are linked,
not copied again; the other comments and attachments sync both ways as usual.`,
		Example: `  tandem link 1200000000000012 --to KAN-19
  tandem link KAN-19 --to 1200000000000012 --winner remote --connection Globex_to_Acme`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(to) == "" {
				return errors.New("give the other side's item with --to (an Asana task gid or link, a Jira issue key such as KAN-19)")
			}
			if winner != adminapi.WinnerLocal && winner != adminapi.WinnerRemote {
				return fmt.Errorf("--winner is local or remote, not %q", winner)
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			res, err := c.LinkItems(cmd.Context(), adminapi.LinkRequest{Ref: args[0], RemoteRef: to, Connection: connection, Winner: winner})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			win := res.LocalKey
			if res.Winner == adminapi.WinnerRemote {
				win = res.RemoteKey
			}
			fmt.Fprintf(w, "Linked %s ↔ %s; %s's fields win the first sync.\n", shown(res.LocalKey), shown(res.RemoteKey), shown(win))
			fmt.Fprintf(w, "Already on both sides, linked and not copied: %d comments, %d attachments.\n", res.MatchedComments, res.MatchedAttachments)
			if res.Event != nil {
				fmt.Fprintf(w, "First sync from this side: %s (sync %s); follow it with tandem status %s\n",
					shown(adminapi.StageName(res.Event.Stage)), shown(res.Event.EventID), shown(res.LocalKey))
			}
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&to, "to", "", "the other side's item (required)")
	cmd.Flags().StringVar(&winner, "winner", adminapi.WinnerLocal, "whose fields win the first sync: local or remote")
	cmd.Flags().StringVar(&connection, "connection", "", "the connection to link on, by id or name (needed when several sync the item's project)")
	return cmd
}

// printHistory writes an item's latest syncs, newest first: when, which
// way, the rules version, each stage with the time it took to reach it,
// and the error a stage ended with.
func printHistory(w io.Writer, h adminapi.ItemHistory) {
	if !h.UnexalatedAt.IsZero() {
		fmt.Fprintf(w, "Unexalated at %s (its twin was %s): it does not sync until exalated again.\n",
			h.UnexalatedAt.Local().Format(time.DateTime), shown(h.UnexalatedTwin))
	}
	if len(h.Syncs) == 0 {
		return
	}
	fmt.Fprintf(w, "Recent syncs on %s (newest first):\n", shown(h.ConnectionName))
	for _, s := range h.Syncs {
		dir := "sent"
		if s.Direction == "in" {
			dir = "received"
		}
		rules := s.RulesVersion
		if rules == "" {
			rules = "not recorded"
		}
		start := s.At
		if len(s.Stages) > 0 {
			start = s.Stages[0].At
		}
		fmt.Fprintf(w, "  %s  %-8s  %s  rules %s  sync %s\n", start.Local().Format(time.DateTime), dir,
			shown(adminapi.StageName(s.Stage)), shown(rules), shown(s.EventID))
		var steps []string
		for _, st := range s.Stages {
			step := fmt.Sprintf("%s +%s", adminapi.StageName(st.Stage), st.At.Sub(start).Round(time.Millisecond))
			if st.Error != "" {
				step += " (failed: " + shown(st.Error) + ")"
			}
			steps = append(steps, step)
		}
		if len(steps) > 0 {
			fmt.Fprintf(w, "    %s\n", strings.Join(steps, ", "))
		}
		if s.Error != "" {
			fmt.Fprintf(w, "    error: %s\n", shown(s.Error))
		}
		if !s.ResolvedAt.IsZero() {
			fmt.Fprintf(w, "    resolved at %s, not retried: %s\n", s.ResolvedAt.Local().Format(time.DateTime), shown(s.Resolution))
		}
	}
}
