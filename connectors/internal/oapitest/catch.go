package oapitest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Catch stands in for a test's testing.TB so that a test of a validator
// can assert on what it reports without failing. What it does not
// override (Helper, Fatal, Cleanup, ...) reaches the real test.
type Catch struct {
	testing.TB
	mu   sync.Mutex
	errs []string
	logs []string
}

// Errorf records a violation.
func (c *Catch) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

// Error records a violation.
func (c *Catch) Error(args ...any) { c.Errorf("%s", fmt.Sprint(args...)) }

// Logf records a note.
func (c *Catch) Logf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logs = append(c.logs, fmt.Sprintf(format, args...))
}

// Reported returns the violations recorded so far.
func (c *Catch) Reported() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

// Logs returns the notes recorded so far.
func (c *Catch) Logs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.logs...)
}

// WantClean fails t if any violation was recorded.
func (c *Catch) WantClean(t testing.TB) {
	t.Helper()
	if errs := c.Reported(); len(errs) > 0 {
		t.Errorf("violations reported for a conforming exchange:\n%s", strings.Join(errs, "\n"))
	}
}

// WantViolation fails t unless exactly one violation was recorded and it
// mentions every one of parts.
func (c *Catch) WantViolation(t testing.TB, parts ...string) {
	t.Helper()
	errs := c.Reported()
	if len(errs) != 1 {
		t.Fatalf("got %d violations, want 1: %q", len(errs), errs)
	}
	t.Logf("reported: %s", errs[0])
	for _, p := range parts {
		if !strings.Contains(errs[0], p) {
			t.Errorf("violation %q does not mention %q", errs[0], p)
		}
	}
}
