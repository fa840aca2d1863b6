package bench

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tandem-sync/tandem/store/pgtest"
)

// TestBenchReplicasSection runs section 3 and section 6 at a small scale
// on `tandem serve` children whose databases are on TANDEM_TEST_DATABASE's
// server: every node gets a database of its own, Acme runs as 1, 2 and 3
// replicas behind the round-robin proxy, each run syncs every task, each
// replica answers requests, the leader's kill is timed, the targets carry
// the section's rows, and the run leaves no database behind.
//
//	.ci/postgres go test -count=1 -run TestBenchReplicasSection ./internal/bench
func TestBenchReplicasSection(t *testing.T) {
	if !pgtest.Available() {
		t.Skip(pgtest.SkipMessage)
	}
	if runtime.GOOS != "linux" {
		t.Skip("the sections read the children's /proc")
	}
	bin := buildTandem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before := benchDatabases(t)
	cfg := Quick()
	cfg.EngineTasks = 12
	cfg.Sections = []int{3, 6}
	cfg.Dir = t.TempDir()
	cfg.Subprocess = &Subprocess{Binary: bin}
	cfg.Database = os.Getenv(pgtest.Env)
	cfg.Progress = func(line string) { t.Log(line) }
	r, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("sections 3 and 6 on PostgreSQL: %v", err)
	}
	if r.Engine == nil || r.Engine.Synchronized != 12 {
		t.Errorf("section 3 on PostgreSQL: %+v; want 12 synchronized", r.Engine)
	}
	u, _ := url.Parse(cfg.Database)
	pw, _ := u.User.Password()
	if r.Config.Database == "sqlite" || (pw != "" && strings.Contains(r.Config.Database, pw)) {
		t.Errorf("report's database %q: want the server's URL without its password", r.Config.Database)
	}
	rep := r.Replicas
	if rep == nil || len(rep.Runs) != 3 {
		t.Fatalf("section 6: %+v; want three runs", rep)
	}
	for i, run := range rep.Runs {
		if run.Replicas != i+1 || run.Synchronized != 12 || run.TasksPerSec <= 0 || run.CPUMSPerTask <= 0 {
			t.Errorf("run %d: %+v; want %d replicas, 12 synchronized, tasks/s and CPU measured", i, run, i+1)
		}
		if run.Replicas > 1 {
			if len(run.Served) != run.Replicas {
				t.Errorf("run %d: requests per replica %v; want one count per replica", i, run.Served)
			}
			for j, n := range run.Served {
				if n == 0 {
					t.Errorf("run %d: replica %d answered no request through the proxy: %v", i, j+1, run.Served)
				}
			}
		}
	}
	if rep.Ratio <= 0 || rep.Note == "" {
		t.Errorf("ratio %v, note %q; want both", rep.Ratio, rep.Note)
	}
	if rep.FailoverSeconds == nil || *rep.FailoverSeconds <= 0 {
		t.Errorf("fail-over not timed: %v (%s)", rep.FailoverSeconds, rep.FailoverReason)
	}
	found := map[string]bool{}
	for _, tg := range r.Targets {
		if strings.HasPrefix(tg.Name, "replicas_") {
			found[tg.Name] = tg.Measured != nil
		}
	}
	if !found["replicas_throughput_3_to_1"] || !found["replicas_failover_seconds"] {
		t.Errorf("targets: replicas rows measured %v; want both", found)
	}
	if after := benchDatabases(t); after != before {
		t.Errorf("%d bench databases on the server after the run, %d before: the run left some behind", after, before)
	}
}

// TestBenchDatabaseRefused checks a server the harness can't use fails
// the run at its start, naming the flag and not the password.
func TestBenchDatabaseRefused(t *testing.T) {
	cfg := Quick()
	cfg.Sections = []int{3}
	cfg.Subprocess = &Subprocess{Binary: "/nonexistent/tandem"}
	cfg.Database = "postgres://bench:s3cret-pw@127.0.0.1:1/postgres?connect_timeout=2"
	_, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "--database") || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("Run on a server nobody listens on: %v; want an error naming --database without the password", err)
	}
	cfg.Subprocess = nil
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "--subprocess") {
		t.Errorf("--database in process: %v; want an error asking for --subprocess", err)
	}
	cfg.Database, cfg.Sections = "", []int{6}
	cfg.Subprocess = &Subprocess{Binary: "/nonexistent/tandem"}
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "--database") {
		t.Errorf("section 6 without --database: %v; want an error asking for it", err)
	}
}

// buildTandem builds the tandem binary the children run.
func buildTandem(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build tandem for the children")
	}
	bin := filepath.Join(t.TempDir(), "tandem")
	cmd := exec.Command(gobin, "build", "-o", bin, "github.com/tandem-sync/tandem")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build tandem: %v\n%s", err, out)
	}
	return bin
}

// benchDatabases counts the harness's databases on the test server.
func benchDatabases(t *testing.T) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pg, err := openPG(ctx, os.Getenv(pgtest.Env))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.close(ctx)
	var n int
	if err := pg.admin.QueryRowContext(ctx, "SELECT count(*) FROM pg_database WHERE datname LIKE 'tandem_bench_%'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
