package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestTokensAreRecommendedInTheEnvironment checks that every flag taking a
// secret says to prefer its environment variable, and why: a flag's value
// is in the process's command line, which ps shows to every local user.
func TestTokensAreRecommendedInTheEnvironment(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		flag  string
		envar string
	}{
		{[]string{"serve", "--help"}, "--asana-token", "ASANA_TOKEN"},
		{[]string{"serve", "--help"}, "--jira-token", "JIRA_TOKEN"},
		{[]string{"serve", "--help"}, "--admin-token", "TANDEM_ADMIN_TOKEN"},
		{[]string{"exalate", "--help"}, "--admin-token", "TANDEM_ADMIN_TOKEN"},
		{[]string{"connect", "--help"}, "--admin-token", "TANDEM_ADMIN_TOKEN"},
		{[]string{"connect", "--help"}, "--dest-token", "TANDEM_DEST_TOKEN"},
	} {
		var out bytes.Buffer
		root := newRootCmd(&out)
		root.SetArgs(tt.args)
		if err := root.Execute(); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		line := ""
		for l := range strings.Lines(out.String()) {
			if strings.Contains(l, tt.flag+" string") {
				line = l
			}
		}
		if !strings.Contains(line, "prefer "+tt.envar) || !strings.Contains(line, "visible to every local user in ps") {
			t.Errorf("%v: the help of %s = %q, want it to recommend %s and say why", tt.args, tt.flag, line, tt.envar)
		}
	}
}

// TestReadmePutsNoTokenOnTheCommandLine checks the README's commands pass
// tokens through the environment, never as a flag's value.
func TestReadmePutsNoTokenOnTheCommandLine(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	tokenFlag := regexp.MustCompile(`--(asana|jira|admin|dest)-token[ =]\S`)
	inBlock := false
	for i, l := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(l, "```") {
			inBlock = !inBlock
			continue
		}
		if m := tokenFlag.FindString(l); m != "" && (inBlock || strings.Contains(l, "`")) {
			t.Errorf("README.md:%d passes a token on the command line (%s…); use the environment variable", i+1, m)
		}
	}
	for _, env := range []string{"ASANA_TOKEN", "JIRA_TOKEN", "TANDEM_ADMIN_TOKEN"} {
		if !strings.Contains(string(readme), env+"=") {
			t.Errorf("README.md shows no example setting %s", env)
		}
	}
}

// TestURLFlagsHelpReadsRight checks the tracker URL flags' help: pflag takes
// a backquoted word in a usage string as the value's name, which turned
// "printed by `tandem sandbox asana`" into "--asana-url tandem sandbox asana".
func TestURLFlagsHelpReadsRight(t *testing.T) {
	var out bytes.Buffer
	root := newRootCmd(&out)
	root.SetArgs([]string{"serve", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ flag, sandbox string }{
		{"--asana-url", "tandem sandbox asana"},
		{"--jira-url", "tandem sandbox jira"},
	} {
		line := ""
		for l := range strings.Lines(out.String()) {
			if strings.Contains(l, tt.flag+" ") {
				line = l
			}
		}
		if !strings.Contains(line, tt.flag+" url ") {
			t.Errorf("the help of %s = %q, want its value named url", tt.flag, line)
		}
		if strings.Contains(line, tt.flag+" "+tt.sandbox) || !strings.Contains(line, tt.sandbox) {
			t.Errorf("the help of %s = %q, want %q in the text, not as the value's name", tt.flag, line, tt.sandbox)
		}
	}
}
