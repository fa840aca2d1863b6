// Package engine is tandem's core: connections, invitations, the Basic
// rules, replicas, the five-stage sync pipeline, change detection and the
// events the console and the HTTP API listen to. It knows nothing of the
// terminal; trackers reach it through connector packages.
//
// The engine lands with issue 3; until then this package holds only this
// description so the layout of DESIGN.md §1 is in place.
package engine
