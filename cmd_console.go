package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/internal/demo"
	"github.com/tandem-sync/tandem/tui"
)

func newDemoCmd() *cobra.Command {
	var data string
	var poll time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Two sandbox nodes and the console in one terminal: the place to start",
		Long: `demo starts, in this one process and on loopback, two tracker sandboxes
seeded with demo data and two tandem nodes in front of them: Acme on an Asana
sandbox (projects Company and Test) and Globex on a Jira sandbox (projects
KAN and OPS). Then it opens the console on Acme. ctrl+t switches the console
to the other node, so one person can play both admins.

While it runs, A (see ? for every key) shows where the trackers and nodes
listen, and demo.env in the data dir has their URLs, tokens and a curl line
listing each project.

Data lives in a temporary directory removed on exit, unless --data names a
directory to keep: a new or empty one starts a fresh demo, one an earlier
demo kept resumes it (the sandboxes keep their data there too).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), data, poll)
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "keep the demo's data in this directory: new or empty for a fresh demo, an earlier demo's to resume it")
	cmd.Flags().DurationVar(&poll, "poll", time.Second, "how often the nodes ask their sandbox what changed")
	return cmd
}

func runDemo(ctx context.Context, w io.Writer, data string, poll time.Duration) error {
	if poll <= 0 {
		return fmt.Errorf("--poll %v must be positive, e.g. 1s", poll)
	}
	keep := data != ""
	if keep {
		if err := demo.CheckDir(data); err != nil {
			return fmt.Errorf("--data: %w", err)
		}
		if err := os.MkdirAll(data, 0o700); err != nil {
			return fmt.Errorf("creating --data %s: %w", data, err)
		}
	} else {
		dir, err := os.MkdirTemp("", "tandem-demo-")
		if err != nil {
			return fmt.Errorf("creating a temporary data dir: %w", err)
		}
		data = dir
		defer os.RemoveAll(dir)
	}
	if abs, err := filepath.Abs(data); err == nil {
		data = abs
	}
	logger, closeLog, err := openLog(data)
	if err != nil {
		return err
	}
	defer closeLog()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start, stop := context.WithTimeout(ctx, time.Minute)
	nodes, resumed, err := demo.Kept(start, data, func(s *demo.Spec) {
		s.Logger, s.Poll, s.RequestsPerMinute, s.Webhooks = logger, poll, 1500, true
	})
	stop()
	if err != nil {
		return fmt.Errorf("--data %s: %w", data, err)
	}
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	envPath, err := demo.WriteEnv(data, nodes)
	if err != nil {
		return err
	}
	if resumed {
		logger.Info("resumed the demo kept in the data dir", "dir", data)
	}
	acme, globex := nodes[0], nodes[1]
	targets := []tui.Target{
		{Name: acme.Name, URL: acme.URL, Node: acme.Node.Admin(), Suggest: globex.URL, SuggestName: globex.Name + ", the other demo node", SuggestToken: globex.AdminToken,
			Project: acme.Project, SuggestProject: globex.Project},
		{Name: globex.Name, URL: globex.URL, Node: globex.Node.Admin(), Suggest: acme.URL, SuggestName: acme.Name + ", the other demo node", SuggestToken: acme.AdminToken,
			Project: globex.Project, SuggestProject: acme.Project},
	}
	if err := runConsole(ctx, targets, data, demo.About(nodes, data, envPath, keep)); err != nil {
		return err
	}
	demoSummary(w, nodes, data, keep)
	return nil
}

// demoSummary is what the demo leaves on the terminal when it ends: where
// things were, never a token (those are in demo.env alone).
func demoSummary(w io.Writer, nodes []*demo.Node, data string, keep bool) {
	fmt.Fprintf(w, "The demo ran, in this process, two tracker sandboxes and two tandem nodes:\n")
	for _, n := range nodes {
		fmt.Fprintf(w, "  %-7s node    %s\n          %-7s %s\n", n.Name, n.URL, n.Tracker, n.SandboxURL)
	}
	if keep {
		fmt.Fprintf(w, "Their data (SQLite files, sandboxes, log) is kept in %s;\ntandem demo --data %s resumes it.\n", data, data)
		fmt.Fprintf(w, "%s there has the sandboxes' URLs and tokens.\n", demo.EnvName)
	} else {
		fmt.Fprintf(w, "Their data was in a temporary directory, now removed (--data DIR keeps it).\n")
	}
	fmt.Fprint(w, `
To run the pieces yourself, each in its own terminal:
  tandem sandbox asana --workspace Acme --listen 127.0.0.1:8091
  ASANA_TOKEN=TOKEN tandem serve --name Acme --data ./acme --listen 127.0.0.1:7001 \
    --asana-url http://127.0.0.1:8091/api/1.0
  TANDEM_ADMIN_TOKEN=ADMIN tandem console --node http://127.0.0.1:7001
  tandem sandbox jira --site Globex --listen 127.0.0.1:8092
  JIRA_TOKEN=TOKEN tandem serve --name Globex --data ./globex --listen 127.0.0.1:7002 \
    --tracker jira --jira-url http://127.0.0.1:8092 --jira-email EMAIL
TOKEN (and EMAIL) are what each sandbox printed, ADMIN what serve printed.
Tokens go in the environment: a flag's value is visible to every local user in ps.
README.md walks through it.
`)
}

func newConsoleCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "console",
		Short: "The console (connection wizard, live sync status), attached to a running node",
		Example: `  TANDEM_ADMIN_TOKEN=... tandem console --node http://127.0.0.1:7001
  TANDEM_NODE=http://127.0.0.1:7001 TANDEM_ADMIN_TOKEN=... tandem console`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
			info, err := c.Info(ctx)
			cancel()
			if err != nil {
				return err
			}
			if _, err := c.Connections(cmd.Context()); err != nil {
				return err // a wrong admin token is told here, not on the first screen
			}
			dir, err := codeDir()
			if err != nil {
				return err
			}
			return runConsole(cmd.Context(), []tui.Target{{Name: info.Name, URL: info.URL, Node: tui.RemoteNode(c)}}, dir, "")
		},
	}
	cf.register(cmd)
	return cmd
}

// codeDir is where the console attached to a remote node writes the
// invitation codes it copies.
func codeDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", errors.New("no cache directory to write invitation codes to: set XDG_CACHE_HOME")
	}
	dir := filepath.Join(base, "tandem")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	return dir, nil
}

// runConsole runs the console full screen until the user quits; about is
// its about panel ("" for none).
func runConsole(ctx context.Context, targets []tui.Target, dir, about string) error {
	out := termenv.NewOutput(os.Stdout)
	app := tui.New(ctx, tui.Options{Targets: targets, CodeDir: dir, About: about,
		Clipboard: func(s string) error { out.Copy(s); return nil }})
	_, err := tea.NewProgram(app, tea.WithAltScreen(), tea.WithContext(ctx)).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}
