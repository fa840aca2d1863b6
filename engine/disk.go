package engine

import (
	"github.com/tandem-sync/tandem/engine/adminapi"

	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// Attachments in transit are written to the data dir (attachment-*.part)
// between the peer's download and the tracker's upload. They are what a
// hostile or broken peer could fill this node's disk with, so they are
// bounded three ways: each copy by its own limit (receiveAttachment), all
// copies at once by the node's budget, and all of them by the free space
// the data dir's filesystem must keep for SQLite, whose writes (the nonce
// of every signed request, every sync's state) fail when it runs out.
const (
	// DefaultAttachmentBudget is Config.AttachmentBudget's default: room
	// for the pipeline's workers to copy Asana-sized files at once, and a
	// couple of Jira-sized ones.
	DefaultAttachmentBudget = 2 << 30
	// DefaultMinFreeDisk is Config.MinFreeDisk's default: what SQLite needs
	// to go on recording syncs and nonces.
	DefaultMinFreeDisk = 64 << 20

	// partPattern names the temporary files of attachments in transit.
	partPattern = "attachment-*.part"
	// freeCheckEvery is how many bytes a copy writes between two looks at
	// the free space.
	freeCheckEvery = 4 << 20
)

// Errors of the disk guard and of bounded attachment copies, for callers
// that branch on them (the HTTP layer answers ErrDiskFull with 507).
var (
	// ErrDiskFull is the data dir's filesystem under its minimum of free
	// space, or out of it.
	ErrDiskFull = adminapi.ErrDiskFull
	// ErrDiskBudget is a copy that would take the attachments in transit
	// over the node's budget; it is retried like any failed step.
	ErrDiskBudget = errors.New("the disk budget for attachments in transit is used up")
	// ErrAttachmentRefused is a peer that sent more bytes than it
	// announced, or than this node's tracker takes.
	ErrAttachmentRefused = errors.New("attachment refused")
)

// diskGuard counts the bytes of attachments in transit against the node's
// budget and watches the data dir's free space.
type diskGuard struct {
	dir     string
	budget  int64
	minFree int64
	free    func(dir string) (uint64, error)

	mu    sync.Mutex
	inUse int64
}

func newDiskGuard(cfg Config) *diskGuard {
	g := &diskGuard{dir: cfg.DataDir, budget: cfg.AttachmentBudget, minFree: cfg.MinFreeDisk, free: cfg.FreeSpace}
	if g.budget <= 0 {
		g.budget = DefaultAttachmentBudget
	}
	if g.minFree <= 0 {
		g.minFree = DefaultMinFreeDisk
	}
	if g.free == nil {
		g.free = freeSpace
	}
	return g
}

// check says whether the data dir's filesystem has the free space the
// node needs. A filesystem that can't say is taken as fine: the writes
// themselves still fail clearly (ENOSPC) if it is not.
func (g *diskGuard) check() error {
	free, err := g.free(g.dir)
	if err != nil {
		return nil
	}
	if free < uint64(g.minFree) {
		return Errorf(ErrDiskFull, "disk full: %s free in %s, need %s", megabytes(int64(min(free, 1<<62))), g.dir, megabytes(g.minFree))
	}
	return nil
}

// take counts n more bytes in transit, or refuses them past the budget.
func (g *diskGuard) take(n int64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inUse+n > g.budget {
		return Errorf(ErrDiskBudget, "the attachments being copied would take more than this node's budget of %s for attachments in transit (%s in use); trying again later",
			megabytes(g.budget), megabytes(g.inUse))
	}
	g.inUse += n
	return nil
}

// give returns n bytes to the budget.
func (g *diskGuard) give(n int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inUse -= n
}

// partFile is an attachment in transit: a temporary file whose bytes count
// against the budget and whose writes watch the free space.
type partFile struct {
	f         *os.File
	g         *diskGuard
	written   int64
	unchecked int64 // written since the last look at the free space
	closed    bool
}

// newPart creates a temporary file for an attachment in transit, if the
// disk has room for one.
func (g *diskGuard) newPart() (*partFile, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(g.dir, partPattern)
	if err != nil {
		return nil, g.diskError(err)
	}
	return &partFile{f: f, g: g}, nil
}

// Write writes p to the file, within the budget and the free space.
func (p *partFile) Write(b []byte) (int, error) {
	if err := p.g.take(int64(len(b))); err != nil {
		return 0, err
	}
	n, err := p.f.Write(b)
	p.g.give(int64(len(b) - n))
	p.written += int64(n)
	p.unchecked += int64(n)
	if err != nil {
		return n, p.g.diskError(err)
	}
	if p.unchecked >= freeCheckEvery {
		p.unchecked = 0
		if err := p.g.check(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Name is the file's path, to open it again for the upload.
func (p *partFile) Name() string { return p.f.Name() }

// discard closes and deletes the file and returns its bytes to the budget.
// It is safe to call more than once.
func (p *partFile) discard() {
	if p.closed {
		return
	}
	p.closed = true
	p.f.Close()
	os.Remove(p.f.Name())
	p.g.give(p.written)
}

// diskError turns a write that ran out of space into the one clear disk
// full error; other errors pass unchanged.
func (g *diskGuard) diskError(err error) error {
	if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EDQUOT) {
		return err
	}
	if cerr := g.check(); cerr != nil {
		return cerr
	}
	return Errorf(ErrDiskFull, "disk full: writing in %s: %v", g.dir, err)
}

// removeLeftoverParts deletes the attachments in transit a crash left
// behind: no copy is running before the node starts its workers.
func (g *diskGuard) removeLeftoverParts() (int, error) {
	parts, err := filepath.Glob(filepath.Join(g.dir, partPattern))
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, p := range parts {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, fmt.Errorf("removing the leftover %s: %w", p, err)
		}
		removed++
	}
	return removed, nil
}

// Health says whether the node can do its work: its store answers and its
// data dir's filesystem has the free space it needs. The error is one line
// for /healthz.
func (n *Node) Health(ctx context.Context) error {
	if err := n.st.DB().PingContext(ctx); err != nil {
		return fmt.Errorf("store unavailable: %w", err)
	}
	return n.disk.check()
}

// megabytes shows a size for people.
func megabytes(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 10<<10:
		return fmt.Sprintf("%d KB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
