package main

import (
	"bufio"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is this module's path, the prefix of every package of the
// project's.
const module = "github.com/tandem-sync/tandem"

// importRule is one line of ARCHITECTURE.md's rules block: the packages
// (a path below the module, "/..." for a whole tree) and what none of
// them may import, directly or not.
type importRule struct {
	line      int
	packages  string
	forbidden []string // paths below the module or full paths of other modules; "/..." for a tree
	leaf      bool     // imports nothing of the project's but its own tree
	allowed   []string // what a leaf may import besides its own tree ("+path"), itself leaves
}

// architectureRules reads the rules block of ARCHITECTURE.md, so the rules
// a newcomer reads are the rules this test checks.
func architectureRules(t *testing.T) []importRule {
	t.Helper()
	f, err := os.Open("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		rules []importRule
		in    bool
		n     int
	)
	for sc := bufio.NewScanner(f); sc.Scan(); {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "```import-rules":
			in = true
			continue
		case in && line == "```":
			in = false
			continue
		case !in || line == "" || strings.HasPrefix(line, "#"):
			continue
		}
		fields := strings.Fields(line)
		r := importRule{line: n, packages: fields[0]}
		for _, f := range fields[1:] {
			switch {
			case f == "leaf":
				r.leaf = true
			case strings.HasPrefix(f, "!"):
				r.forbidden = append(r.forbidden, strings.TrimPrefix(f, "!"))
			case strings.HasPrefix(f, "+"):
				r.allowed = append(r.allowed, strings.TrimPrefix(f, "+"))
			default:
				t.Fatalf("ARCHITECTURE.md:%d: %q is neither !PATH, +PATH nor leaf", n, f)
			}
		}
		if len(r.allowed) > 0 && !r.leaf {
			t.Fatalf("ARCHITECTURE.md:%d: +PATH widens a leaf, and %s is not one", n, r.packages)
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 {
		t.Fatal("ARCHITECTURE.md has no ```import-rules block")
	}
	return rules
}

// matches says whether import path p is the path pat names: below the
// module unless pat is another module's (it has a dot in its first
// element), a whole tree when pat ends in "/...".
func matches(p, pat string) bool {
	if first, _, _ := strings.Cut(pat, "/"); !strings.Contains(first, ".") {
		pat = module + "/" + pat
	}
	if tree, ok := strings.CutSuffix(pat, "/..."); ok {
		return p == tree || strings.HasPrefix(p, tree+"/")
	}
	return p == pat
}

// TestImportRules holds the code to ARCHITECTURE.md's import rules: for
// every rule, the non-test dependencies of its packages (go list -deps)
// include none it forbids, and a leaf's include nothing of the project's
// outside its own tree but what its rule allows (+PATH).
func TestImportRules(t *testing.T) {
	for _, r := range architectureRules(t) {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", "./"+r.packages).CombinedOutput()
		if err != nil {
			t.Fatalf("ARCHITECTURE.md:%d: go list %s: %v\n%s", r.line, r.packages, err, out)
		}
		tree := strings.TrimSuffix(r.packages, "/...")
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			p, std, _ := strings.Cut(l, " ")
			if std == "true" {
				continue
			}
			for _, f := range r.forbidden {
				if matches(p, f) {
					t.Errorf("ARCHITECTURE.md:%d: %s must not import %s, and depends on %s", r.line, r.packages, f, p)
				}
			}
			if r.leaf && !matches(p, tree+"/...") && !slices.ContainsFunc(r.allowed, func(a string) bool { return matches(p, a) }) {
				t.Errorf("ARCHITECTURE.md:%d: %s is a leaf, and depends on %s", r.line, r.packages, p)
			}
		}
	}
}

// TestImportRulesCatch: the rules check finds a forbidden import where
// there is one (the engine does import the store), so a passing check
// means something.
func TestImportRulesCatch(t *testing.T) {
	if !matches(module+"/store", "store") || !matches(module+"/engine/api", "engine/...") || matches(module+"/engine/api", "engine") ||
		!matches("github.com/mattn/go-sqlite3", "github.com/mattn/go-sqlite3") || matches(module+"/engineer", "engine/...") {
		t.Fatal("matches reads the rules' paths wrong")
	}
	out, err := exec.Command("go", "list", "-deps", "./engine").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), module+"/store\n") {
		t.Fatal("go list -deps ./engine does not list the store: the rules check would see nothing")
	}
}

// TestBuildsWithoutCgo: the tracker connectors, the contracts, the admin
// API's client and the console build with cgo off, which they could not
// while they linked SQLite through the engine. Building cold takes a
// while, so -short skips it.
func TestBuildsWithoutCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds packages")
	}
	cmd := exec.Command("go", "build", "./connectors/asana/...", "./connectors/jira/...", "./connectors/internal/...",
		"./engine/tracker/...", "./engine/adminapi", "./connectors/remote", "./tui/...")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
}
