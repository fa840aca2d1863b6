package trackers

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// TestKinds walks the list: every kind is complete (a name, words, flags
// with an environment twin for the secret, a constructor, a sandbox and
// its command), and no two kinds share a name, a flag or a variable.
func TestKinds(t *testing.T) {
	names, flags, envs := map[string]bool{}, map[string]string{}, map[string]string{}
	for i, k := range All() {
		v := k.Vocabulary
		if v.Kind == "" || strings.ToLower(v.Kind) != v.Kind || strings.ContainsAny(v.Kind, " -") {
			t.Errorf("kind %d: name %q, want a lower-case word", i, v.Kind)
		}
		if names[v.Kind] {
			t.Errorf("two kinds are named %q", v.Kind)
		}
		names[v.Kind] = true
		for what, s := range map[string]string{"title": v.Title, "article": k.Article, "item noun": v.Item,
			"plural": v.Items, "reference hint": v.RefHint, "elsewhere": v.Elsewhere, "default type": v.DefaultType, "stray hint": k.StrayHint,
			"sandbox project": k.SandboxProject} {
			if s == "" {
				t.Errorf("%s has no %s", v.Kind, what)
			}
		}
		if k.Check == nil || k.New == nil || k.Sandbox == nil || k.SandboxCommand == nil {
			t.Errorf("%s lacks a check, a constructor, a sandbox or a sandbox command", v.Kind)
		}
		secret, identifies := false, false
		for _, f := range k.Flags {
			if !strings.HasPrefix(f.Name, v.Kind+"-") || f.Usage == "" {
				t.Errorf("%s's flag --%s: want a name starting with %s- and a usage line", v.Kind, f.Name, v.Kind)
			}
			if other, ok := flags[f.Name]; ok {
				t.Errorf("--%s is a flag of %s and of %s", f.Name, other, v.Kind)
			}
			flags[f.Name] = v.Kind
			if f.Env != "" {
				if !strings.HasPrefix(f.Env, strings.ToUpper(v.Kind)+"_") {
					t.Errorf("%s's --%s reads %s; want a variable starting with %s_", v.Kind, f.Name, f.Env, strings.ToUpper(v.Kind))
				}
				if other, ok := envs[f.Env]; ok {
					t.Errorf("%s is read by %s and by %s", f.Env, other, v.Kind)
				}
				envs[f.Env] = v.Kind
				secret = secret || strings.HasSuffix(f.Env, "_TOKEN")
			}
			identifies = identifies || f.Identifies
		}
		if !secret || !identifies {
			t.Errorf("%s: want a token flag with its environment twin (…_TOKEN) and an identifying flag", v.Kind)
		}
		if cmd := k.SandboxCommand(nil); cmd.Name() != v.Kind || cmd.Short == "" {
			t.Errorf("%s's sandbox command is %q (%q), want `tandem sandbox %s` with a summary", v.Kind, cmd.Name(), cmd.Short, v.Kind)
		}
	}
	if len(names) < 2 {
		t.Errorf("%d kinds; the pair tests want at least two", len(names))
	}
}

// TestKindSandboxes starts each kind's emulator and checks that the
// tracker built on it is of that kind, reaches it, and has the default
// type its vocabulary says.
func TestKindSandboxes(t *testing.T) {
	for _, k := range All() {
		t.Run(k.Name(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			srv := httptest.NewUnstartedServer(nil)
			sb, err := k.Sandbox(srv.Listener.Addr().String(), SandboxSpec{Name: "Acme", Seed: "demo", RequestsPerMinute: -1})
			if err != nil {
				t.Fatal(err)
			}
			srv.Config.Handler = sb.Handler
			srv.Start()
			defer srv.Close()
			if sb.Tracker.Kind() != k.Name() || sb.Emulator == nil || sb.Client == nil || len(sb.Settings) == 0 {
				t.Fatalf("sandbox of %s: tracker %q, emulator %v, client %v, settings %v", k.Name(), sb.Tracker.Kind(), sb.Emulator, sb.Client, sb.Settings)
			}
			if _, err := sb.Tracker.Check(ctx); err != nil {
				t.Fatal(err)
			}
			ps, err := sb.Tracker.Projects(ctx)
			if err != nil || len(ps) == 0 {
				t.Fatalf("projects: %v %v, want the demo seed's", ps, err)
			}
			// The pair tests and the demo sync SandboxProject, found as a
			// node finds a project: by id or by name.
			if !slices.ContainsFunc(ps, func(p tracker.Project) bool {
				return p.ID == k.SandboxProject || strings.EqualFold(p.Name, k.SandboxProject)
			}) {
				t.Errorf("%s's demo seed has no project %q to sync: %v", k.Name(), k.SandboxProject, ps)
			}
			et, ok := sb.Tracker.(tracker.EntityTracker)
			if !ok {
				t.Fatalf("%s's tracker cannot sync entities", k.Name())
			}
			types, def, err := et.Types(ctx, ps[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if def != k.Vocabulary.DefaultType {
				t.Errorf("%s's default type is %q, its vocabulary says %q (types %v)", k.Name(), def, k.Vocabulary.DefaultType, types)
			}
			if len(sb.Credentials) == 0 || sb.ListItems == nil || !strings.Contains(sb.ListItems("ACME", ps[0].Name), "$ACME_SANDBOX_URL") {
				t.Errorf("%s's sandbox names no credentials %v or no way to list %s", k.Name(), sb.Credentials, ps[0].Name)
			}
			// Its state starts an emulator with the same token and items.
			state, err := sb.State()
			if err != nil {
				t.Fatal(err)
			}
			again, err := k.Sandbox(srv.Listener.Addr().String(), SandboxSpec{Name: "Acme", Seed: "demo", State: state, RequestsPerMinute: -1})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(again.Credentials) != fmt.Sprint(sb.Credentials) {
				t.Errorf("%s's sandbox restarted from its state has other credentials", k.Name())
			}
		})
	}
}

// TestCheck keeps the node's flag errors word for word: the command
// line's tests and users' scripts read them.
func TestCheck(t *testing.T) {
	t.Setenv("ASANA_TOKEN", "")
	t.Setenv("JIRA_URL", "")
	t.Setenv("JIRA_EMAIL", "")
	t.Setenv("JIRA_TOKEN", "")
	for _, c := range []struct {
		args []string
		kind string
		want string
	}{
		{nil, "gitlab", `--tracker "gitlab" is not supported; use asana or jira`},
		{[]string{"--jira-url", "https://globex.atlassian.net"}, "asana", "--jira-url, --jira-email and --jira-token are for a Jira node: add --tracker jira"},
		{[]string{"--asana-workspace", "x"}, "jira", "--asana-url, --asana-token and --asana-workspace are for an Asana node; a Jira node takes --jira-url, --jira-email and --jira-token"},
		{[]string{"--asana-rate-limit", "1500"}, "jira", "a Jira site is required: --jira-url https://<site>.atlassian.net or JIRA_URL"},
		{nil, "asana", "an Asana token is required: --asana-token or ASANA_TOKEN"},
		{[]string{"--asana-token", "x"}, "asana", ""},
		{[]string{"--jira-url", "https://g.atlassian.net/", "--jira-email", "a@g.com", "--jira-token", "x"}, "jira", ""},
	} {
		fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		v := Register(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		_, err := Check(c.kind, v)
		if got := errString(err); got != c.want {
			t.Errorf("%s %v: %q, want %q", c.kind, c.args, got, c.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestVocabulary(t *testing.T) {
	jira, _ := Find("jira")
	asana, _ := Find("asana")
	if got := jira.Vocabulary.Hint("OPS-3"); got != "an issue key or link (such as OPS-3)" {
		t.Errorf("Jira's hint with OPS-3 is %q", got)
	}
	if got := jira.Vocabulary.Hint(""); got != "an issue key or link" {
		t.Errorf("Jira's hint without an example is %q", got)
	}
	names := tracker.NewTypeNames(Vocabularies()...)
	if !names.Same("default_task", "Task") || !names.Same("Milestone", "milestone") || names.Same("default_task", "Bug") || names.Same("", "") {
		t.Error("type names: want default_task a Task, case ignored, and no type named by an empty name")
	}
	if Names() != "asana or jira" || asana.Vocabulary.Item != "task" || jira.Vocabulary.Items != "issues" {
		t.Errorf("names %q, nouns %q %q", Names(), asana.Vocabulary.Item, jira.Vocabulary.Items)
	}
}
