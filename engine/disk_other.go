//go:build !(linux || darwin || freebsd)

package engine

import "errors"

// freeSpace can't tell on this system: the free-space minimum is not
// checked, and a full disk shows as the writes' own errors.
func freeSpace(string) (uint64, error) {
	return 0, errors.New("free space unknown on this system")
}
