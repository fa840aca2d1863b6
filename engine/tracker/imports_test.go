package tracker_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// module is the project's import path; the rules below are about its
// packages.
const module = "github.com/tandem-sync/tandem"

// pendingHeavy lists connector packages still allowed to import the engine
// (and so SQLite and River), each with the work that will take it off the
// list. They are checked all the same against importing another connector,
// and the test fails once one no longer needs its exemption, so the list
// only shrinks.
func pendingHeavy() map[string]string {
	return map[string]string{
		// The admin API client uses engine's DTOs and engine/api's paths
		// until the API contract gets its own leaf package.
		module + "/connectors/remote": "the node API contract (issue 13, item 4)",
	}
}

// goCmd runs the go command in the module and returns its output, failing
// the test with the command's own message if it fails.
func goCmd(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// deps maps each package matching patterns to its non-test dependencies,
// transitively (what a binary importing it links).
func deps(t *testing.T, patterns ...string) map[string][]string {
	t.Helper()
	args := append([]string{"list", "-f", `{{.ImportPath}} {{join .Deps " "}}`}, patterns...)
	m := map[string][]string{}
	for line := range strings.Lines(goCmd(t, nil, args...)) {
		f := strings.Fields(line)
		if len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	if len(m) == 0 {
		t.Fatalf("go list %v matched no packages", patterns)
	}
	return m
}

// within says whether pkg is dir or inside it.
func within(pkg, dir string) bool {
	return pkg == dir || strings.HasPrefix(pkg, dir+"/")
}

// connectorOf names the connector a package under connectors/ belongs to
// ("asana" for connectors/asana/sandbox); "internal" is the kit they share.
func connectorOf(pkg string) string {
	rest, ok := strings.CutPrefix(pkg, module+"/connectors/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// heavy says why dep must not be linked into a connector, or "" if it may.
func heavy(dep string) string {
	switch {
	case within(dep, "github.com/mattn/go-sqlite3"):
		return "SQLite (cgo)"
	case within(dep, "github.com/riverqueue"):
		return "River"
	case within(dep, module+"/store"):
		return "the store"
	case within(dep, module+"/engine/tracker"):
		return ""
	case within(dep, module+"/engine"):
		return "the engine (only engine/tracker is the contract)"
	case within(dep, module+"/tui"):
		return "the console"
	}
	return ""
}

// TestConnectorImports holds the import rules of issue 13: a connector
// links the tracker contract, not the engine, the store, SQLite or River;
// no connector imports another (connectors/internal is the kit they share).
func TestConnectorImports(t *testing.T) {
	all := deps(t, module+"/connectors/...")
	pending := pendingHeavy()
	stillHeavy := map[string]bool{}
	for pkg, ds := range all {
		own := connectorOf(pkg)
		reported := map[string]bool{} // one line per reason, not per River package
		for _, dep := range ds {
			if why := heavy(dep); why != "" {
				if _, ok := pending[pkg]; ok {
					stillHeavy[pkg] = true
				} else if !reported[why] {
					reported[why] = true
					t.Errorf("%s links %s (%s); connectors import %s/engine/tracker instead", pkg, dep, why, module)
				}
			}
			other := connectorOf(dep)
			if other != "" && other != "internal" && other != own {
				t.Errorf("%s imports %s: one connector must not import another; move what they share to connectors/internal or the contract", pkg, dep)
			}
		}
	}
	for pkg, work := range pending {
		if _, ok := all[pkg]; !ok {
			t.Errorf("pendingHeavy lists %s, which no longer exists: remove it", pkg)
		} else if !stillHeavy[pkg] {
			t.Errorf("%s no longer links the engine or the store: remove its exemption (%s) from pendingHeavy", pkg, work)
		}
	}
}

// TestContractIsLeaf checks that the contract and its sub-packages import
// the standard library and each other only, so importing it costs a
// connector nothing else.
func TestContractIsLeaf(t *testing.T) {
	for pkg, ds := range deps(t, module+"/engine/tracker/...") {
		for _, dep := range ds {
			first, _, _ := strings.Cut(dep, "/")
			if within(dep, module+"/engine/tracker") || !strings.Contains(first, ".") {
				continue
			}
			t.Errorf("%s imports %s; the tracker contract may import only the standard library", pkg, dep)
		}
	}
}

// TestConnectorsBuildWithoutCgo builds every connector (but those in
// pendingHeavy) with cgo off: what the rules above are for. Building cold
// takes a while, so -short skips it.
func TestConnectorsBuildWithoutCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds packages; skipped with -short")
	}
	args := []string{"build"}
	pending := pendingHeavy()
	for pkg := range deps(t, module+"/connectors/...") {
		if _, ok := pending[pkg]; !ok {
			args = append(args, pkg)
		}
	}
	goCmd(t, []string{"CGO_ENABLED=0"}, args...)
}
