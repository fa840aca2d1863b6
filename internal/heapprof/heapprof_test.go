package heapprof

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestWatchWritesAProfileAtAPeak: the file appears once the heap grows,
// and is a whole pprof profile (gzip-compressed protobuf).
func TestWatchWritesAProfileAtAPeak(t *testing.T) {
	path := filepath.Join(t.TempDir(), "heap.pprof")
	w := Watch(path)
	held := make([][]byte, 0, 64)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no heap profile written")
		}
		held = append(held, make([]byte, 1<<20))
		runtime.GC() // the profile and the live heap are as of the last GC
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(held)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Errorf("the profile is not gzip-compressed protobuf: % x", b[:min(len(b), 8)])
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".heap-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
