package bench

import (
	"bytes"
	"io"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"
)

// heapPeak watches this process's Go heap while section 4 runs and keeps
// a heap profile taken at its highest point, for --memprofile: a profile
// written at the end would show the heap after the Bulk Exalate, not
// what it held at its peak. It samples the live heap every interval and,
// when it has grown by a tenth over the last profile's, takes another
// (the profile is of the last completed GC, so "at its peak" means
// within a GC cycle of it).
type heapPeak struct {
	stop chan struct{}
	done sync.WaitGroup

	mu   sync.Mutex
	best uint64 // live heap bytes when prof was taken
	prof bytes.Buffer
}

const heapPeakEvery = 250 * time.Millisecond

func watchHeap() *heapPeak {
	h := &heapPeak{stop: make(chan struct{})}
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		tick := time.NewTicker(heapPeakEvery)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			if live := sample[0].Value.Uint64(); live > h.best+h.best/10 {
				h.mu.Lock()
				h.prof.Reset()
				if pprof.Lookup("heap").WriteTo(&h.prof, 0) == nil {
					h.best = live
				}
				h.mu.Unlock()
			}
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

// writeTo stops the watch and writes the profile taken at the peak.
func (h *heapPeak) writeTo(w io.Writer) error {
	close(h.stop)
	h.done.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := w.Write(h.prof.Bytes())
	return err
}
