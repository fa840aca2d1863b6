// Package heapprof keeps a heap profile of this process as of its Go
// heap's peak, for finding what holds memory at scale (`tandem serve
// --memprofile`, `tandem bench --memprofile`). A profile written at exit
// shows the heap after the work, not what it held at its highest; this
// one is rewritten each time the live heap reaches a new high. A heap
// profile holds allocation sites and sizes, never the data allocated.
package heapprof

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"
)

// every is how often the live heap is looked at.
const every = 250 * time.Millisecond

// Watcher rewrites a heap profile at each new peak of the live heap.
type Watcher struct {
	path string
	stop chan struct{}
	done sync.WaitGroup

	mu   sync.Mutex
	best uint64 // live heap bytes when the profile was last written
	err  error
}

// Watch starts keeping the profile at path; Stop ends it. A profile is
// taken when the live heap (as of the last GC) has grown by a tenth over
// the one the file holds, so the file is written a few dozen times over a
// run, not every tick; "at the peak" means within a GC cycle and a tenth
// of it. The file is replaced whole (written beside it, then renamed), so
// a reader, or a process stopped meanwhile, never sees half a profile.
func Watch(path string) *Watcher {
	w := &Watcher{path: path, stop: make(chan struct{})}
	w.done.Add(1)
	go w.run()
	return w
}

func (w *Watcher) run() {
	defer w.done.Done()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		metrics.Read(sample)
		if live := sample[0].Value.Uint64(); live > w.best+w.best/10 {
			err := w.write()
			w.mu.Lock()
			if err == nil {
				w.best = live
			}
			w.err = err
			w.mu.Unlock()
		}
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
	}
}

func (w *Watcher) write() error {
	tmp, err := os.CreateTemp(filepath.Dir(w.path), ".heap-*.pprof")
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing
	if err := pprof.Lookup("heap").WriteTo(tmp, 0); err != nil {
		tmp.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	if err := os.Rename(tmp.Name(), w.path); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return nil
}

// Stop ends the watch; it returns the last write's error, if it failed.
func (w *Watcher) Stop() error {
	close(w.stop)
	w.done.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
