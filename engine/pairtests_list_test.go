package engine_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// TestPairTestsListed: every test run over the tracker pairs
// (forEachPair(t, f) in any test file of the package) is in pairTests, so
// the test-only kinds (fakekind_test.go) run it too. A pair test left out
// of the list would silently skip them.
func TestPairTestsListed(t *testing.T) {
	listed := map[string]bool{}
	for _, pt := range pairTests() {
		name := runtime.FuncForPC(reflect.ValueOf(pt.run).Pointer()).Name()
		listed[name[strings.LastIndex(name, ".")+1:]] = true
	}
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset, seen := token.NewFileSet(), 0
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			if fn, ok := call.Fun.(*ast.Ident); !ok || fn.Name != "forEachPair" {
				return true
			}
			seen++
			arg, ok := call.Args[1].(*ast.Ident)
			if !ok {
				t.Errorf("%s: forEachPair's test is not a named function; name it and list it in pairTests", fset.Position(call.Pos()))
			} else if !listed[arg.Name] {
				t.Errorf("%s: %s runs over the tracker pairs but is not in pairTests (pairs_test.go): add it there", fset.Position(call.Pos()), arg.Name)
			}
			return true
		})
	}
	if seen < len(listed) {
		t.Errorf("found %d forEachPair calls for %d listed pair tests: the search no longer finds them", seen, len(listed))
	}
}
