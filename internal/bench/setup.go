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

// seedProject empties the bench project with the given gid of the
// tracker behind the node called name, then creates count tasks in it
// through c: with full, each with commentsPerTask comments and one
// attachment; without, bare tasks (the scale section's).
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

// stallAfter is how long a bulk sync may go without one more task reaching
// Synchronized before the harness gives up on it.
const stallAfter = 2 * time.Minute

// stalled returns a check of a sync's progress towards want tasks
// synchronized: it fails once done hasn't grown for stallAfter.
func stalled(want int) func(done int) error {
	last, progressed := -1, time.Now()
	return func(done int) error {
		if done > last {
			last, progressed = done, time.Now()
		} else if time.Since(progressed) > stallAfter {
			return fmt.Errorf("%d of %d tasks synchronized, none for %v: %w", done, want, stallAfter, errStalled)
		}
		return nil
	}
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
