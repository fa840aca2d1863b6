package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/tandem-sync/tandem/connectors/asana"
	"github.com/tandem-sync/tandem/connectors/remote"
)

// chaos runs the bulk syncs and the editor while killer SIGKILLs node
// processes, until the killer is done and both bulk syncs went through.
func (h *crashHarness) chaos(killer func()) {
	var wg sync.WaitGroup
	bulk := make(chan error, 1)
	wg.Go(func() { bulk <- h.bulkExalate() })
	editing, stopEditing := context.WithCancel(h.ctx)
	wg.Go(func() { h.edit(editing) })
	killer()
	stopEditing()
	if err := <-bulk; err != nil {
		h.t.Error(err)
	}
	wg.Wait()
}

// bulkExalate runs Bulk Exalate on Acme until it answers, as an operator
// would again after the node died under it; then, a moment later, once
// more, as an operator making sure: the second run meets syncs of the
// first still under way.
func (h *crashHarness) bulkExalate() error {
	ctx, cancel := context.WithTimeout(h.ctx, 3*time.Minute)
	defer cancel()
	if err := h.bulkOnce(ctx); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(h.seed, 3))
	if !pause(ctx, time.Duration(500+rng.IntN(2500))*time.Millisecond) {
		return nil
	}
	return h.bulkOnce(ctx)
}

func (h *crashHarness) bulkOnce(ctx context.Context) error {
	for {
		h.bulkTries++
		_, err := h.admins[0].ExalateAll(ctx, h.conns[0])
		if err == nil {
			return nil
		}
		var refused *remote.Error
		if errors.As(err, &refused) && refused.Status < 500 {
			return fmt.Errorf("bulk exalate refused: %w", err) // not the kills: a bug to see at once
		}
		if ctx.Err() != nil {
			return fmt.Errorf("bulk exalate never went through (%d tries): %w", h.bulkTries, err)
		}
		// The node is down or restarting: wait until it answers again (a
		// node between its kill and its restart is not running at all).
		if h.nodes[0].waitHealthy(ctx, time.Minute) != nil && !pause(ctx, 50*time.Millisecond) {
			return fmt.Errorf("bulk exalate never went through (%d tries): %w", h.bulkTries, err)
		}
	}
}

// pause waits d unless ctx ends first. The harness uses it only to space
// its own actions at random (when to kill, when to edit): those moments
// are the schedule under test, not a wait for something to happen.
func pause(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// killer SIGKILLs a random node at a random moment, restarts it on the
// same data dir and port and waits until it answers, until the kills are
// done. One kill in five hits a node again while it is still starting.
func (h *crashHarness) killer() {
	rng := rand.New(rand.NewPCG(h.seed, 1))
	done := 0
	for done < *crashKills {
		// The first kill hits Acme while the bulk exalate is most likely
		// still preparing its syncs.
		i, upTo := 0, 300*time.Millisecond
		if done > 0 {
			i, upTo = rng.IntN(2), 800*time.Millisecond
		}
		n := h.nodes[i]
		if !pause(h.ctx, time.Duration(rng.Int64N(int64(upTo)))) {
			return
		}
		if !n.kill() {
			h.t.Errorf("%s was not running when the harness came to kill it", n.name)
		}
		done++
		h.kills[i]++
		if err := n.start(); err != nil {
			h.t.Fatal(err)
		}
		if done < *crashKills && rng.IntN(5) == 0 {
			if !pause(h.ctx, time.Duration(rng.Int64N(int64(200*time.Millisecond)))) {
				return
			}
			n.kill()
			done++
			h.kills[i]++
			h.startupKills++
			if err := n.start(); err != nil {
				h.t.Fatal(err)
			}
		}
		if err := n.waitHealthy(h.ctx, time.Minute); err != nil {
			h.t.Fatal(err)
		}
	}
}

// edit makes two-way edits until ctx ends (each edit runs to its end):
// comments on either side,
// summaries (each task renamed on one side only, so the last write is
// known) and files, on the tasks whose twin has appeared on Globex.
func (h *crashHarness) edit(ctx context.Context) {
	rng := rand.New(rand.NewPCG(h.seed, 2))
	twins := map[string]string{} // key → Globex gid
	globex := h.sides[1]
	for seq := 1; pause(ctx, time.Duration(30+rng.IntN(120))*time.Millisecond); seq++ {
		i := rng.IntN(len(h.crashIDs))
		key := fmt.Sprintf("%s%03d", crashPrefix, i)
		if twins[key] == "" {
			tasks, err := globex.client.ProjectTasks(h.ctx, globex.project, asana.TaskQuery{})
			if err != nil {
				h.failEdit(h.ctx, err)
				return
			}
			for _, task := range tasks {
				if k := taskKey(task.Name); strings.HasPrefix(k, crashPrefix) && twins[k] == "" {
					twins[k] = task.GID
				}
			}
			if twins[key] == "" {
				continue // not synced yet
			}
		}
		ids := [2]string{h.crashIDs[i], twins[key]}
		s := rng.IntN(2)
		switch r := rng.IntN(10); {
		case r < 6:
			h.addComment(s, key, ids[s], fmt.Sprintf("%s edit %d on %s", key, seq, h.sides[s].name))
		case r < 9:
			owner := i % 2 // even tasks are renamed on Acme, odd ones on Globex
			name := fmt.Sprintf("%s r%d@%s", key, seq, h.sides[owner].name)
			// Not ctx: an edit cut short by the end of the kills may still
			// have landed, and then it is the last summary written.
			if _, err := h.sides[owner].client.UpdateTask(h.ctx, ids[owner], asana.TaskUpdate{Name: &name}); err != nil {
				h.failEdit(h.ctx, err)
				continue
			}
			h.want.summary(key, name)
			h.count("summary@" + h.sides[owner].name)
		default:
			h.addFile(s, key, ids[s], fmt.Sprintf("%s-%d.bin", key, seq), rng)
		}
	}
}

func (h *crashHarness) failEdit(ctx context.Context, err error) {
	if ctx.Err() == nil {
		h.t.Errorf("an edit on a sandbox failed: %v", err)
	}
}

func (h *crashHarness) count(what string) {
	h.editsMu.Lock()
	defer h.editsMu.Unlock()
	h.edits[what]++
}

// addComment comments on a task of side s and expects the text on both
// sides, once.
func (h *crashHarness) addComment(s int, key, gid, text string) {
	story, err := h.sides[s].client.AddComment(h.ctx, gid, "<body>"+text+"</body>")
	if err != nil {
		h.failEdit(h.ctx, err)
		return
	}
	h.want.comment(key, normalizeComment(story.HTMLText))
	h.count("comment@" + h.sides[s].name)
}

// addFile attaches a small file of random bytes to a task of side s.
func (h *crashHarness) addFile(s int, key, gid, name string, rng *rand.Rand) {
	data := make([]byte, 64+rng.IntN(4096))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	_, err := h.sides[s].client.UploadAttachment(h.ctx, asana.Upload{Parent: gid, Name: name, Size: int64(len(data)),
		ContentType: "application/octet-stream", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
	if err != nil {
		h.failEdit(h.ctx, err)
		return
	}
	h.want.attachment(key, name)
	h.count("file@" + h.sides[s].name)
}
