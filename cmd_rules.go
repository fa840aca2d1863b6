package main

// Script mode on the command line: tandem upgrade, and tandem rules with
// show, edit, test, publish, diff, history, export and import.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/connectors/remote"
	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/tui/termtext"
)

// The files a connection's scripts are exported to and imported from.
const (
	outgoingFile = "outgoing.star"
	incomingFile = "incoming.star"
)

// scriptFlags are the flags every rules command takes.
type scriptFlags struct {
	cf         clientFlags
	connection string
}

func (f *scriptFlags) register(cmd *cobra.Command) {
	f.cf.register(cmd)
	cmd.Flags().StringVar(&f.connection, "connection", "", "the connection, by name or id (required)")
}

// on makes cmd a command on one connection's rules: the node's flags and
// --connection, and run given the node's client once they check out.
func (f *scriptFlags) on(cmd *cobra.Command, run func(cmd *cobra.Command, c *remote.Client, args []string) error) *cobra.Command {
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := f.client()
		if err != nil {
			return err
		}
		return run(cmd, c, args)
	}
	f.register(cmd)
	return cmd
}

// client is the node's client, with --connection checked.
func (f *scriptFlags) client() (*remote.Client, error) {
	if strings.TrimSpace(f.connection) == "" {
		return nil, errors.New("--connection is required: name the connection (tandem connections lists them)")
	}
	return f.cf.client()
}

func newUpgradeCmd() *cobra.Command {
	var f scriptFlags
	cmd := f.on(&cobra.Command{
		Use:   "upgrade --connection C",
		Short: "Upgrade a connection to Script mode on this side",
		Long: `Upgrade a Basic connection to Script mode on this node's side. This side gets
an outgoing and an incoming script that do exactly what the Basic rules do
(published as version 1), so nothing changes until you edit them with
"tandem rules edit" and publish them. It can't be undone, and the other
side is not changed: it keeps its own rules.`,
		Example: `  tandem upgrade --connection Acme_to_Globex`,
		Args:    cobra.NoArgs,
	}, func(cmd *cobra.Command, c *remote.Client, _ []string) error {
		sc, err := c.Upgrade(cmd.Context(), f.connection)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Upgraded %s to Script mode on this side: version %d, the Basic rules as scripts, is in force.\n",
			shown(f.connection), sc.Published)
		fmt.Fprintf(cmd.OutOrStdout(), "Edit them with: tandem rules edit --connection %s\n", shown(f.connection))
		return nil
	})
	return cmd
}

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Show and change a connection's sync rules (Script mode's scripts)",
		Long: `A connection's sync rules on this node's side. In Basic mode they are fixed
(tandem rules show lists them); in Script mode (tandem upgrade) they are an
outgoing script, which fills the replica sent to the other side, and an
incoming script, which applies the other side's replica here. SCRIPTING.md
is their reference.

Editing changes a draft; test runs it on a real item without writing; publish
makes it the version in force, which every sync records.`,
	}
	cmd.AddCommand(newRulesShowCmd(), newRulesEditCmd(), newRulesTestCmd(), newRulesPublishCmd(),
		newRulesDiffCmd(), newRulesHistoryCmd(), newRulesExportCmd(), newRulesImportCmd())
	return cmd
}

func newRulesShowCmd() *cobra.Command {
	var (
		f     scriptFlags
		draft bool
	)
	cmd := f.on(&cobra.Command{
		Use:   "show --connection C",
		Short: "Show the rules in force (or the draft)",
		Args:  cobra.NoArgs,
	}, func(cmd *cobra.Command, c *remote.Client, _ []string) error {
		ctx, w := cmd.Context(), cmd.OutOrStdout()
		conn, err := c.Connection(ctx, f.connection)
		if err != nil {
			return err
		}
		if conn.Mode != adminapi.ModeScript {
			rows, err := c.Rules(ctx, f.connection)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s is in %s mode on this side; its rules can't be edited (tandem upgrade --connection %s moves it to Script mode).\n",
				shown(conn.Name), conn.Mode.Name(), shown(conn.Name))
			for _, r := range rows {
				fmt.Fprintf(w, "  %d. %s → %s", r.Order, shown(r.ThisSide), shown(r.OtherSide))
				if r.Note != "" {
					fmt.Fprintf(w, "  (%s)", shown(r.Note))
				}
				fmt.Fprintln(w)
			}
			return nil
		}
		sc, err := c.Scripts(ctx, f.connection)
		if err != nil {
			return err
		}
		printScriptsHeader(w, conn.Name, sc)
		out, in, which := sc.Outgoing, sc.Incoming, fmt.Sprintf("version %d", sc.Published)
		if draft {
			out, in, which = sc.DraftOutgoing, sc.DraftIncoming, "the draft"
		}
		fmt.Fprintf(w, "\n# %s, %s\n%s\n# %s, %s\n%s", outgoingFile, which, termtext.Text(out), incomingFile, which, termtext.Text(in))
		return nil
	})
	cmd.Flags().BoolVar(&draft, "draft", false, "show the draft instead of the version in force")
	return cmd
}

// printScriptsHeader says which version is in force and how the draft
// stands.
func printScriptsHeader(w io.Writer, name string, sc adminapi.Scripts) {
	fmt.Fprintf(w, "%s: Script mode, version %d in force", shown(name), sc.Published)
	switch {
	case len(sc.DraftErrors) > 0:
		fmt.Fprintf(w, "; the draft differs and does not compile:\n")
		for _, e := range sc.DraftErrors {
			fmt.Fprintf(w, "  %s\n", shown(e))
		}
	case sc.DraftDiffers:
		fmt.Fprintf(w, "; the draft differs (tandem rules diff shows how, tandem rules publish makes it the version in force).\n")
	default:
		fmt.Fprintf(w, "; the draft is the same.\n")
	}
}

func newRulesEditCmd() *cobra.Command {
	var f scriptFlags
	cmd := f.on(&cobra.Command{
		Use:   "edit --connection C",
		Short: "Edit the draft scripts in $EDITOR",
		Long: `Open the draft's two scripts in $EDITOR (then $VISUAL, then vi), and save what
you write back as the draft. A draft that does not compile is kept, with
its errors shown by line; it can't be published until they are fixed.`,
		Args: cobra.NoArgs,
	}, func(cmd *cobra.Command, c *remote.Client, _ []string) error {
		ctx := cmd.Context()
		sc, err := c.Scripts(ctx, f.connection)
		if err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "tandem-rules-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := writeScripts(dir, sc.DraftOutgoing, sc.DraftIncoming); err != nil {
			return err
		}
		if err := runEditor(ctx, cmd, filepath.Join(dir, outgoingFile), filepath.Join(dir, incomingFile)); err != nil {
			return err
		}
		out, in, err := readScripts(dir)
		if err != nil {
			return err
		}
		if out == sc.DraftOutgoing && in == sc.DraftIncoming {
			fmt.Fprintln(cmd.OutOrStdout(), "No change: the draft is as it was.")
			return nil
		}
		saved, err := c.SaveDraft(ctx, f.connection, adminapi.DraftRequest{Outgoing: out, Incoming: in})
		if err != nil {
			return err
		}
		fmt.Fprint(cmd.OutOrStdout(), "Draft saved. ")
		printScriptsHeader(cmd.OutOrStdout(), f.connection, saved)
		return nil
	})
	return cmd
}

// runEditor runs the user's editor on files, on the command's terminal.
func runEditor(ctx context.Context, cmd *cobra.Command, files ...string) error {
	editor := os.Getenv("EDITOR")
	if editor == "" {
		editor = os.Getenv("VISUAL")
	}
	if editor == "" {
		editor = "vi"
	}
	args := strings.Fields(editor)
	e := exec.CommandContext(ctx, args[0], append(args[1:], files...)...)
	e.Stdin, e.Stdout, e.Stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := e.Run(); err != nil {
		return fmt.Errorf("the editor (%s) failed: %w; the draft is unchanged", editor, err)
	}
	return nil
}

func writeScripts(dir, out, in string) error {
	if err := os.WriteFile(filepath.Join(dir, outgoingFile), []byte(out), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, incomingFile), []byte(in), 0o600)
}

func readScripts(dir string) (out, in string, err error) {
	read := func(name string) (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s has no %s: a connection's rules are two files, %s and %s", dir, name, outgoingFile, incomingFile)
		}
		return string(b), err
	}
	if out, err = read(outgoingFile); err != nil {
		return "", "", err
	}
	in, err = read(incomingFile)
	return out, in, err
}

func newRulesTestCmd() *cobra.Command {
	var (
		f           scriptFlags
		incoming    bool
		version     int
		replicaFile string
	)
	cmd := f.on(&cobra.Command{
		Use:   "test REF --connection C",
		Short: "Run the draft on an item, writing nothing",
		Long: `Run the draft (or --version N) on a real item of this side, writing nothing.
Outgoing (the default): the replica the outgoing script would send for the
item. --incoming: the changes the incoming script would make to the item, on
the last replica this side received for it, or on --replica FILE (a replica
as a test run prints one: JSON, with "set" naming its fields). The script's
print output and any error (with its line) are shown.`,
		Example: `  tandem rules test 1200000000000012 --connection Acme_to_Globex
  tandem rules test KAN-2 --incoming --connection Globex_to_Acme
  tandem rules test KAN-2 --incoming --replica done.json --connection Globex_to_Acme`,
		Args: cobra.ExactArgs(1),
	}, func(cmd *cobra.Command, c *remote.Client, args []string) error {
		dir := adminapi.TestOutgoing
		if incoming {
			dir = adminapi.TestIncoming
		}
		var given string
		if replicaFile != "" {
			if !incoming {
				return errors.New("--replica is the replica an incoming script applies: add --incoming")
			}
			b, err := os.ReadFile(replicaFile)
			if err != nil {
				return fmt.Errorf("reading the replica: %w", err)
			}
			given = string(b)
		}
		run, err := c.TestRun(cmd.Context(), f.connection, adminapi.TestRunRequest{Ref: args[0], Direction: dir, Version: version, Replica: given})
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		which := "the draft"
		if run.Version != adminapi.DraftVersion {
			which = fmt.Sprintf("version %d", run.Version)
		}
		fmt.Fprintf(w, "Test run of %s's %s script on %s (nothing written)\n", which, run.Direction, shown(run.Item))
		if run.Log != "" {
			fmt.Fprintf(w, "\nprinted:\n%s", indent(termtext.Text(run.Log)))
		}
		if run.Error != "" {
			fmt.Fprintf(w, "\nerror: %s\n", shown(run.Error))
			return errors.New("the script failed; fix the draft (tandem rules edit) and test again")
		}
		if run.Direction == adminapi.TestIncoming {
			fmt.Fprintf(w, "\nchanges:\n")
			for _, ch := range run.Changes {
				fmt.Fprintf(w, "  %s\n", shown(ch))
			}
		}
		label := "replica"
		if run.Direction == adminapi.TestIncoming {
			label = "replica received"
		}
		fmt.Fprintf(w, "\n%s:\n%s\n", label, indent(termtext.Text(run.Replica)))
		for _, n := range run.Notes {
			fmt.Fprintf(w, "note: %s\n", shown(n))
		}
		return nil
	})
	cmd.Flags().BoolVar(&incoming, "incoming", false, "run the incoming script on the last replica received for the item")
	cmd.Flags().IntVar(&version, "version", adminapi.DraftVersion, "the version to run (0: the draft)")
	cmd.Flags().StringVar(&replicaFile, "replica", "", "with --incoming, a file holding the replica to apply (JSON, as a test run prints one)")
	return cmd
}

// indent indents each line of s by two spaces.
func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}

func newRulesPublishCmd() *cobra.Command {
	var (
		f    scriptFlags
		note string
	)
	cmd := f.on(&cobra.Command{
		Use:   "publish --connection C",
		Short: "Make the draft the version in force",
		Args:  cobra.NoArgs,
	}, func(cmd *cobra.Command, c *remote.Client, _ []string) error {
		v, err := c.Publish(cmd.Context(), f.connection, adminapi.PublishRequest{Note: note})
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Published version %d of %s's scripts: syncs from now on run it.\n", v.Version, shown(f.connection))
		return nil
	})
	cmd.Flags().StringVar(&note, "note", "", "what this version changes, shown in tandem rules history")
	return cmd
}

func newRulesDiffCmd() *cobra.Command {
	var (
		f        scriptFlags
		from, to int
	)
	cmd := f.on(&cobra.Command{
		Use:   "diff --connection C",
		Short: "Compare the draft with the version in force, or two versions",
		Example: `  tandem rules diff --connection Acme_to_Globex
  tandem rules diff --from 1 --to 3 --connection Acme_to_Globex`,
		Args: cobra.NoArgs,
	}, func(cmd *cobra.Command, c *remote.Client, _ []string) error {
		ctx := cmd.Context()
		if !cmd.Flags().Changed("from") {
			sc, err := c.Scripts(ctx, f.connection)
			if err != nil {
				return err
			}
			from = sc.Published
		}
		d, err := c.CompareScripts(ctx, f.connection, from, to)
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		if d.Outgoing == "" && d.Incoming == "" {
			fmt.Fprintln(w, "No difference.")
			return nil
		}
		fmt.Fprint(w, termtext.Text(d.Outgoing+d.Incoming))
		return nil
	})
	cmd.Flags().IntVar(&from, "from", 0, "the version to compare from (default: the version in force)")
	cmd.Flags().IntVar(&to, "to", adminapi.DraftVersion, "the version to compare to (0: the draft)")
	return cmd
}

func newRulesHistoryCmd() *cobra.Command {
	var f scriptFlags
	cmd := f.on(&cobra.Command{
		Use:   "history --connection C",
		Short: "List the published versions",
		Args:  cobra.NoArgs,
	}, func(cmd *cobra.Command, c *remote.Client, _ []string) error {
		vs, err := c.ScriptVersions(cmd.Context(), f.connection)
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		for i, v := range vs {
			mark := ""
			if i == 0 {
				mark = "  (in force)"
			}
			fmt.Fprintf(w, "v%-3d %s  %s%s\n", v.Version, v.At.Local().Format("2006-01-02 15:04"), shown(v.Note), mark)
		}
		return nil
	})
	return cmd
}

func newRulesExportCmd() *cobra.Command {
	var (
		f       scriptFlags
		version int
	)
	cmd := f.on(&cobra.Command{
		Use:   "export DIR --connection C",
		Short: "Write the scripts to DIR as outgoing.star and incoming.star",
		Long: `Write a version of the scripts (default: the one in force; --version 0: the
draft) to DIR as outgoing.star and incoming.star, so they can live in git.
DIR is made if missing; files there of the same names are replaced.`,
		Args: cobra.ExactArgs(1),
	}, func(cmd *cobra.Command, c *remote.Client, args []string) error {
		sc, err := c.Scripts(cmd.Context(), f.connection)
		if err != nil {
			return err
		}
		out, in := sc.Outgoing, sc.Incoming
		switch {
		case !cmd.Flags().Changed("version") || version == sc.Published:
		case version == adminapi.DraftVersion:
			out, in = sc.DraftOutgoing, sc.DraftIncoming
		default:
			return fmt.Errorf("--version %d: export takes the version in force (%d) or the draft (0)", version, sc.Published)
		}
		if err := os.MkdirAll(args[0], 0o700); err != nil {
			return err
		}
		if err := writeScripts(args[0], out, in); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Wrote %s and %s.\n", filepath.Join(args[0], outgoingFile), filepath.Join(args[0], incomingFile))
		return nil
	})
	cmd.Flags().IntVar(&version, "version", 0, "0 for the draft (default: the version in force)")
	return cmd
}

func newRulesImportCmd() *cobra.Command {
	var f scriptFlags
	cmd := f.on(&cobra.Command{
		Use:   "import DIR --connection C",
		Short: "Make DIR's outgoing.star and incoming.star the draft",
		Args:  cobra.ExactArgs(1),
	}, func(cmd *cobra.Command, c *remote.Client, args []string) error {
		out, in, err := readScripts(args[0])
		if err != nil {
			return err
		}
		saved, err := c.SaveDraft(cmd.Context(), f.connection, adminapi.DraftRequest{Outgoing: out, Incoming: in})
		if err != nil {
			return err
		}
		fmt.Fprint(cmd.OutOrStdout(), "Draft imported. ")
		printScriptsHeader(cmd.OutOrStdout(), f.connection, saved)
		return nil
	})
	return cmd
}
