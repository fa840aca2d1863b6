package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/demo"
	"github.com/tandem-sync/tandem/store"
)

// benchProject is the project both sides sync: the demo seed's Test,
// emptied on the source before seeding, so every task synced is a seeded
// one with a known shape.
const benchProject = "Test"

// Each seeded task's shape; the minimum calls per task follow from it.
const (
	commentsPerTask    = 3
	attachmentsPerTask = 1
	attachmentBytes    = 1024
	seedWorkers        = 6
)

// unthrottled is an Asana client on n's sandbox with no client budget, for
// seeding: its requests don't show in the node's own client's counts.
func unthrottled(n *demo.Node) (*asana.Client, error) {
	return asana.New(asana.Config{BaseURL: n.SandboxURL, Token: n.Sandbox.Token(), RequestsPerMinute: -1})
}

// projectGID finds a project of n's sandbox by name.
func projectGID(n *demo.Node, name string) (string, error) {
	for _, p := range n.Sandbox.Projects() {
		if p.Name == name {
			return p.GID, nil
		}
	}
	return "", fmt.Errorf("no project %q in %s's sandbox", name, n.Name)
}

// seed empties n's bench project, then creates count tasks in it through
// c: with full, each with commentsPerTask comments and one attachment;
// without, bare tasks (the scale section's).
func seed(ctx context.Context, c *asana.Client, n *demo.Node, count int, full bool) error {
	project, err := projectGID(n, benchProject)
	if err != nil {
		return err
	}
	return seedProject(ctx, c, n.Name, project, count, full)
}

// seedProject is seed on the project with the given gid of the tracker
// behind the node called name.
func seedProject(ctx context.Context, c *asana.Client, name, project string, count int, full bool) error {
	old, err := c.ProjectTasks(ctx, project, asana.TaskQuery{})
	if err != nil {
		return fmt.Errorf("listing %s's %s project: %w", name, benchProject, err)
	}
	for _, t := range old {
		if err := c.DeleteTask(ctx, t.GID); err != nil {
			return fmt.Errorf("emptying %s's %s project, task %s: %w", name, benchProject, t.GID, err)
		}
	}
	file := bytes.Repeat([]byte("tandem bench attachment\n"), attachmentBytes/24+1)[:attachmentBytes]
	work := make(chan int)
	errs := make(chan error, seedWorkers)
	var wg sync.WaitGroup
	for range seedWorkers {
		wg.Go(func() {
			for i := range work {
				if err := seedOne(ctx, c, project, i, file, full); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var failed error
feed:
	for i := range count {
		select {
		case work <- i:
		case failed = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if failed == nil {
		failed = <-errs
	}
	return failed
}

// seedOne creates bench task i, with full its comments and attachment.
func seedOne(ctx context.Context, c *asana.Client, project string, i int, file []byte, full bool) error {
	name := fmt.Sprintf("Bench task %05d", i+1)
	task, err := c.CreateTask(ctx, asana.NewTask{Project: project, Name: name,
		HTMLNotes: "<body>Seeded by <strong>tandem bench</strong>: " + name + ".</body>"})
	if err != nil {
		return fmt.Errorf("seeding %s: %w", name, err)
	}
	if !full {
		return nil
	}
	for j := range commentsPerTask {
		body := fmt.Sprintf("<body>Comment %d on %s.</body>", j+1, name)
		if _, err := c.AddComment(ctx, task.GID, body); err != nil {
			return fmt.Errorf("seeding comment %d on %s: %w", j+1, name, err)
		}
	}
	_, err = c.UploadAttachment(ctx, asana.Upload{Parent: task.GID, Name: fmt.Sprintf("bench-%05d.txt", i+1),
		Size: int64(len(file)), ContentType: "text/plain",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(file)), nil }})
	if err != nil {
		return fmt.Errorf("seeding the attachment of %s: %w", name, err)
	}
	return nil
}

// connect links the source's bench project to the destination's.
func connect(ctx context.Context, src, dst *demo.Node) (engine.Connection, error) {
	c, err := src.Connect(ctx, engine.ConnectRequest{To: dst.URL, DestToken: dst.AdminToken,
		DestProject: benchProject, Project: benchProject})
	if err != nil {
		return engine.Connection{}, fmt.Errorf("connecting %s to %s: %w", src.Name, dst.Name, err)
	}
	return c, nil
}

// stallAfter is how long a bulk sync may go without one more task reaching
// Synchronized before the harness gives up on it.
const stallAfter = 2 * time.Minute

// waitSynced waits until want of n's outgoing syncs on connID are
// Synchronized. Stage events tell it roughly how far the sync is; the
// store, asked at most four times a second (so the wait itself costs
// little of the CPU being measured) and when the events say it may be
// done, has the final word, since a slow listener may miss events.
func waitSynced(ctx context.Context, n *demo.Node, connID string, want int) (int, error) {
	events, stop := n.Subscribe()
	defer stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last, progressed, seen := -1, time.Now(), 0
	for {
		done, err := syncedOut(ctx, n, connID)
		if err != nil {
			return done, err
		}
		if done >= want {
			return done, nil
		}
		if done > last {
			last, progressed = done, time.Now()
		} else if time.Since(progressed) > stallAfter {
			return done, fmt.Errorf("%d of %d tasks synchronized, none for %v: %w", done, want, stallAfter, errStalled)
		}
		seen = max(seen, done)
	wait:
		for {
			select {
			case <-ctx.Done():
				return done, fmt.Errorf("%d of %d tasks synchronized: %w", done, want, ctx.Err())
			case e := <-events:
				if e.ConnectionID == connID && e.Direction == store.DirectionOut && e.Stage == engine.StageSynchronized {
					if seen++; seen >= want {
						break wait
					}
				}
			case <-tick.C:
				break wait
			}
		}
	}
}

// syncedOut counts n's outgoing syncs on connID that reached Synchronized.
func syncedOut(ctx context.Context, n *demo.Node, connID string) (int, error) {
	var c int
	err := n.Store().DB().QueryRowContext(ctx, `SELECT count(*) FROM sync_events
		WHERE connection_id = ? AND direction = 'out' AND stage = 'synchronized'`, connID).Scan(&c)
	if err != nil {
		return 0, fmt.Errorf("counting %s's synchronized tasks: %w", n.Name, err)
	}
	return c, nil
}

// unfinished counts n's syncs on connID not Synchronized (still failing
// or in flight), the "unrecovered" ones at the end of a run.
func unfinished(ctx context.Context, n *demo.Node, connID string) (int, error) {
	var c int
	err := n.Store().DB().QueryRowContext(ctx, `SELECT count(*) FROM sync_events
		WHERE connection_id = ? AND stage != 'synchronized'`, connID).Scan(&c)
	if err != nil {
		return 0, fmt.Errorf("counting %s's unfinished syncs: %w", n.Name, err)
	}
	return c, nil
}

// sqliteBytes is the size of the SQLite files (database, WAL, shared
// memory) in a node's data dir.
func sqliteBytes(dir string) (int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", dir, err)
	}
	var total int64
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".db") || strings.HasSuffix(name, "-wal") || strings.HasSuffix(name, "-shm") || strings.Contains(name, ".sqlite")) {
			continue
		}
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return 0, fmt.Errorf("sizing %s: %w", name, err)
		}
		total += info.Size()
	}
	return total, nil
}
