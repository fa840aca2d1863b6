// Package sandboxkit is the machinery the tracker emulators (the Asana and
// Jira sandboxes) share: the per-key rate limiter and its Retry-After, the
// run-time knobs (latency, fault injection, request counters), the locked
// deterministic randomness, ordered JSON objects and JSON answers, signed
// opaque tokens and URLs, the strictly increasing write clock, and the
// read-only item page both sandboxes serve at their item links (page.go).
//
// What a tracker says stays in its sandbox: error bodies, rate-limit
// headers, routes and data. The kit only decides; the sandbox writes.
package sandboxkit
