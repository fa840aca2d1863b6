package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/connectors/remote"
	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/engine/api"
	"github.com/tandem-sync/tandem/tui/termtext"
)

// clientFlags reach a running node.
type clientFlags struct{ node, token string }

func (c *clientFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.node, "node", "", "the node's URL (or TANDEM_NODE; default http://127.0.0.1:7001)")
	cmd.Flags().StringVar(&c.token, "admin-token", "", "the node's admin token; prefer TANDEM_ADMIN_TOKEN: a flag's value is visible to every local user in ps")
}

func (c *clientFlags) client() (*remote.Client, error) {
	node := firstNonEmpty(c.node, os.Getenv("TANDEM_NODE"), "http://127.0.0.1:7001")
	return remote.New(node, firstNonEmpty(c.token, os.Getenv("TANDEM_ADMIN_TOKEN")))
}

func newConnectionsCmd() *cobra.Command {
	var cf clientFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "connections",
		Short: "List the node's connections (table, or --json)",
		Long: `List the node's connections (table, or --json).

The subcommands, and --connection of exalate and status, take a connection
by its id or by its name as listed here (names match exactly, case included).
Names are unique on a node: a second connection between the same two nodes
is Acme_to_Globex_2. Should two share a name (a data dir from an older
version), give the id for those.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			cs, err := c.Connections(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), cs)
			}
			if len(cs) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "No connections yet. Start one with `tandem invite` or `tandem connect`.")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tOTHER SIDE\tPROJECTS\tMODE\tSTATUS\tQUEUED\tCREATED")
			for _, conn := range cs {
				other := conn.RemoteName
				switch {
				case conn.Local:
					other = "this node (local)"
				case other == "":
					other = "(invitation not accepted yet)"
				}
				status := titleCase(conn.Status)
				if conn.StatusReason != "" {
					status += ": " + conn.StatusReason
				}
				// Each cell cleaned: a tab would break the table, an escape
				// sequence (an inviter's name) would reach the terminal.
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s ↔ %s\t%s\t%s\t%d\t%s\n", shown(conn.ID), shown(conn.Name), shown(other), shown(conn.LocalProjectName),
					shown(orDash(conn.RemoteProjectName)), shown(conn.Mode.Name()), shown(status), conn.Queued, conn.CreatedAt.Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
	cf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	for _, sub := range []struct {
		use, short string
		active     bool
	}{
		{"activate ID|NAME", "Re-activate a deactivated connection", true},
		{"deactivate ID|NAME", "Deactivate a connection (it stops syncing until activated again)", false},
	} {
		cmd.AddCommand(clientCommand(sub.use, sub.short, cobra.ExactArgs(1),
			func(cmd *cobra.Command, c *remote.Client, args []string) error {
				conn, err := c.SetActive(cmd.Context(), args[0], sub.active)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Connection %s is now %s.\n", shown(conn.Name), shown(titleCase(conn.Status)))
				return nil
			}))
	}
	cmd.AddCommand(clientCommand("trigger ID|NAME on|off", "Sync new items (tasks or issues) of the connection's project automatically, or not",
		cobra.ExactArgs(2), func(cmd *cobra.Command, c *remote.Client, args []string) error {
			if args[1] != "on" && args[1] != "off" {
				return fmt.Errorf("say on or off, not %q", args[1])
			}
			conn, err := c.SetTrigger(cmd.Context(), args[0], args[1] == "on")
			if err != nil {
				return err
			}
			state := "off: only items exalated or already synced sync"
			if conn.TriggerNewTasks {
				state = "on: new tasks of " + conn.LocalProjectName + " sync automatically"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Trigger of %s is %s.\n", shown(conn.Name), shown(state))
			return nil
		}))
	cmd.AddCommand(clientCommand("invitation ID|NAME", "Show a Pending connection's invitation code again: a new code, the old one stops working",
		cobra.ExactArgs(1), func(cmd *cobra.Command, c *remote.Client, args []string) error {
			conn, code, err := c.RenewInvitation(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "New invitation code for %s (works once, for 72 hours; the old code no longer works):\n\n%s\n\n", shown(conn.Name), shown(code))
			fmt.Fprintf(w, "On the other node: tandem accept <code> --project <their project>\n")
			fmt.Fprintf(w, "To cancel the invitation instead: tandem connections delete %s\n", shown(conn.Name))
			return nil
		}))
	cmd.AddCommand(clientCommand("delete ID|NAME", "Delete a connection on this node (synced items stay in both trackers); a Pending one's invitation is cancelled",
		cobra.ExactArgs(1), func(cmd *cobra.Command, c *remote.Client, args []string) error {
			if err := c.Delete(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Connection %s deleted.\n", shown(args[0]))
			return nil
		}))
	return cmd
}

// clientCommand is a subcommand that talks to a node: it carries --node
// and --admin-token and hands run a client built from them.
func clientCommand(use, short string, args cobra.PositionalArgs,
	run func(cmd *cobra.Command, c *remote.Client, args []string) error) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{Use: use, Short: short, Args: args,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			return run(cmd, c, args)
		}}
	cf.register(cmd)
	return cmd
}

func newInviteCmd() *cobra.Command {
	var cf clientFlags
	var to, project, mode string
	var noURL bool
	cmd := &cobra.Command{
		Use:   "invite",
		Short: `Create a connection and print its invitation code (the "No, I don't have admin access" path)`,
		Long: `Create a Pending connection with this node's project for incoming sync and print
its invitation code. Send the code to the other node's admin, who runs
"tandem accept CODE --project P" there. The code works once, for 72 hours.`,
		Example: `  tandem invite --to http://globex.example:7001 --project Company
  tandem invite --no-url --project Company --mode basic`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (to == "") == !noURL {
				return fmt.Errorf("give the destination's URL with --to, or --no-url if you don't have it")
			}
			m, err := adminapi.ParseMode(mode)
			if err != nil {
				return err
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			conn, code, err := c.Invite(cmd.Context(), adminapi.InviteRequest{To: to, Project: project, Mode: m})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Connection %s created (Pending, %s mode) with project %s for incoming sync.\n\n", shown(conn.Name), shown(conn.Mode.Name()), shown(conn.LocalProjectName))
			fmt.Fprintf(w, "Invitation code (works once, for 72 hours):\n\n%s\n\n", shown(code))
			fmt.Fprintf(w, "On the other node: tandem accept <code> --project <their project>\n")
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&to, "to", "", "the destination node's URL")
	cmd.Flags().BoolVar(&noURL, "no-url", false, "I don't have the destination's URL")
	cmd.Flags().StringVar(&project, "project", "", "this node's project for incoming sync (name or id)")
	modeFlag(cmd, &mode)
	return cmd
}

// modeFlag registers --mode, the connection's configuration mode; the
// modes it names are adminapi's list.
func modeFlag(cmd *cobra.Command, mode *string) {
	var names []string
	for _, m := range adminapi.Modes() {
		names = append(names, string(m))
	}
	cmd.Flags().StringVar(mode, "mode", string(adminapi.ModeBasic),
		"the connection's configuration mode: "+strings.Join(names, " or ")+" (both nodes must support it)")
}

func newAcceptCmd() *cobra.Command {
	var cf clientFlags
	var project string
	cmd := &cobra.Command{
		Use:     "accept CODE",
		Short:   "Accept an invitation on this node",
		Example: `  tandem accept tdm1.eyJ1Ijo... --project Test`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			// A code split by a terminal arrives as several arguments.
			conn, err := c.Accept(cmd.Context(), strings.Join(args, ""), project)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Connection established successfully ✓\n%s: %s (%s) ↔ %s here. Status: %s.\n",
				shown(conn.Name), shown(conn.RemoteName), shown(conn.RemoteProjectName), shown(conn.LocalProjectName), shown(titleCase(conn.Status)))
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&project, "project", "", "this node's project for incoming sync (name or id)")
	return cmd
}

func newConnectCmd() *cobra.Command {
	var cf clientFlags
	var r api.ConnectRequest
	var mode string
	cmd := &cobra.Command{
		Use:   "connect",
		Short: `Set a connection up in one step (the "Yes, I have admin access" path)`,
		Long: `Set a connection up through the destination node's admin API, in one step.
With --to set to this node's own URL, it links two of this node's projects (a
local connection) and needs no destination token.`,
		Example: `  TANDEM_DEST_TOKEN=... tandem connect --to http://globex.example:7001 --dest-project Test --project Company
  tandem connect --to http://127.0.0.1:7001 --project Company --dest-project Test`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := adminapi.ParseMode(mode)
			if err != nil {
				return err
			}
			r.Mode = m
			c, err := cf.client()
			if err != nil {
				return err
			}
			r.DestToken = firstNonEmpty(r.DestToken, os.Getenv("TANDEM_DEST_TOKEN"))
			conn, err := c.Connect(cmd.Context(), r)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Connection established successfully ✓\n%s: %s here ↔ %s (%s). Status: %s.\n",
				shown(conn.Name), shown(conn.LocalProjectName), shown(conn.RemoteName), shown(conn.RemoteProjectName), shown(titleCase(conn.Status)))
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&r.To, "to", "", "the destination node's URL (this node's own URL: a local connection)")
	cmd.Flags().StringVar(&r.DestToken, "dest-token", "", "the destination node's admin token; prefer TANDEM_DEST_TOKEN: a flag's value is visible to every local user in ps")
	cmd.Flags().StringVar(&r.DestProject, "dest-project", "", "the destination's project for incoming sync")
	cmd.Flags().StringVar(&r.Project, "project", "", "this node's project for incoming sync")
	modeFlag(cmd, &mode)
	return cmd
}

// writeJSON writes v as indented JSON. encoding/json escapes C0 controls
// (ESC among them) but leaves C1 controls and bidi controls in strings as
// they are; those are escaped too (\u009b, \u202e), so --json on a terminal
// is as safe as the tables and decodes to exactly the same strings.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	out := buf.Bytes()
	if bytes.ContainsFunc(out, jsonEscaped) {
		var b strings.Builder
		for _, r := range buf.String() {
			if jsonEscaped(r) {
				fmt.Fprintf(&b, "\\u%04x", r)
			} else {
				b.WriteRune(r)
			}
		}
		out = []byte(b.String())
	}
	_, err := w.Write(out)
	return err
}

// jsonEscaped is a rune writeJSON escapes beyond what encoding/json does.
// Outside strings JSON has only ASCII, so escaping never changes meaning.
func jsonEscaped(r rune) bool { return (r >= 0x80 && r <= 0x9f) || termtext.Bidi(r) }

// shown is s as it may be written to the operator's terminal: most of what
// these commands print came from outside (another node's instance name,
// a tracker item's key or link, an error quoting either), and a terminal
// acts on the escape sequences such text can carry. --json keeps the text
// exact and escapes it instead (writeJSON).
func shown(s string) string { return termtext.Line(s) }

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
