// Package store keeps a node's state in one SQLite file: embedded numbered
// migrations, the queries the engine needs, and the River job queue on the
// same file.
//
// The store lands with the engine (issue 3); until then this package holds
// only this description so the layout of DESIGN.md §1 is in place.
package store
