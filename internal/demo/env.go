package demo

import (
	"fmt"
	"path/filepath"
	"strings"
)

// WriteEnv writes demo.env in dir: per node its tracker kind, sandbox URL,
// credentials and node URL as shell variables, and a curl line listing the
// node's project. The credentials are the demo sandboxes' own (demo data
// only), so they may be written down; the file is 0600 all the same, and
// nothing else shows them. It returns the file's path.
func WriteEnv(dir string, nodes []*Node) (string, error) {
	path := filepath.Join(dir, EnvName)
	var b strings.Builder
	fmt.Fprintf(&b, "# tandem demo: the trackers behind its nodes, to query them yourself.\n")
	fmt.Fprintf(&b, "# Load with: . %s\n", shellQuote(path))
	fmt.Fprintf(&b, "# The tokens are the demo sandboxes' own (demo data only); this file is yours alone (0600).\n")
	for _, n := range nodes {
		p := EnvPrefix(n.Name)
		fmt.Fprintf(&b, "\n# %s (%s): the sandbox, and the tandem node in front of it\n", n.Name, n.Tracker)
		fmt.Fprintf(&b, "%s_TRACKER=%s\n", p, n.Tracker)
		fmt.Fprintf(&b, "%s_SANDBOX_URL=%s\n", p, shellQuote(n.SandboxURL))
		for _, c := range n.Credentials {
			fmt.Fprintf(&b, "%s_%s=%s\n", p, c[0], shellQuote(c[1]))
		}
		fmt.Fprintf(&b, "%s_NODE_URL=%s\n", p, shellQuote(n.URL))
		if line := n.listLine(); line != "" {
			fmt.Fprintf(&b, "# The items of %s:\n#   %s\n", n.Project, line)
		}
	}
	if err := writeFileAtomic(path, []byte(b.String())); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// listLine is the curl line listing the node's project, reading
// demo.env's variables; "" without one.
func (n *Node) listLine() string {
	if n.ListItems == nil || n.Project == "" {
		return ""
	}
	return n.ListItems(EnvPrefix(n.Name), n.Project)
}

// About is the console's about panel for a running demo: where its
// trackers and nodes are, where demo.env is and how to list a project.
// It shows no token: those are in the file alone.
func About(nodes []*Node, dir, envPath string, kept bool) string {
	var b strings.Builder
	b.WriteString("A tracker sandbox and a tandem node per company, in this process, on loopback:\n\n")
	for _, n := range nodes {
		fmt.Fprintf(&b, "  %-7s %-5s sandbox  %s\n", n.Name, n.Tracker, n.SandboxURL)
		fmt.Fprintf(&b, "  %-7s tandem node    %s\n", "", n.URL)
	}
	b.WriteString("\nItem links (task permalinks, /browse/KEY) open as read-only pages.\n")
	fmt.Fprintf(&b, "Tokens and URLs: %s (yours alone). To list a project:\n", envPath)
	fmt.Fprintf(&b, "  . %s\n", shellQuote(envPath))
	for _, n := range nodes {
		if line := n.listLine(); line != "" {
			// Cut before the URL with a shell continuation, so the two
			// lines fit 80 columns and still paste as one command.
			if i := strings.LastIndex(line, ` "$`); i > 0 {
				line = line[:i] + " \\\n  " + line[i+1:]
			}
			fmt.Fprintf(&b, "  %s\n", line)
		}
	}
	if kept {
		fmt.Fprintf(&b, "\nData is kept in %s; to resume this demo later:\n  tandem demo --data %s", dir, shellQuote(dir))
	} else {
		b.WriteString("\nData is in a temporary directory, removed on exit (--data DIR keeps it).")
	}
	return b.String()
}

// EnvPrefix is a node's variable prefix in demo.env: its name in capitals,
// anything but letters and digits as _ ("Acme" gives ACME).
func EnvPrefix(name string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:.@_-+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
