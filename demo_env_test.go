package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/internal/demo"
)

// TestDemoShowsNoToken: what tandem demo prints when it ends and its about
// panel name demo.env and the sandboxes' URLs, never a token; the file
// holds those.
func TestDemoShowsNoToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	nodes, _, err := demo.Kept(ctx, dir, func(s *demo.Spec) { s.Poll = -1 })
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	envPath, err := demo.WriteEnv(dir, nodes)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	demoSummary(&out, nodes, dir, true)
	about := demo.About(nodes, dir, envPath, true)
	for what, text := range map[string]string{"the summary": out.String(), "the about panel": about} {
		if !strings.Contains(text, nodes[0].SandboxURL) || !strings.Contains(text, demo.EnvName) {
			t.Errorf("%s names no sandbox URL or %s:\n%s", what, demo.EnvName, text)
		}
		for _, n := range nodes {
			secrets := []string{n.AdminToken}
			for _, c := range n.Credentials {
				if c[0] == "TOKEN" {
					secrets = append(secrets, c[1])
				}
			}
			for _, s := range secrets {
				if s == "" || strings.Contains(text, s) {
					t.Errorf("%s shows one of %s's tokens (or it has none):\n%s", what, n.Name, text)
				}
			}
		}
	}
}
