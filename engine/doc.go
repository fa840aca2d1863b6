// Package engine is tandem's core: nodes, connections, invitations, the
// Basic rules, replicas, the five-stage sync pipeline, change detection and
// the events the console and the HTTP API listen to. It knows nothing of the
// terminal; trackers reach it through connector packages implementing
// Tracker and EntityTracker, and other nodes through the peer protocol in
// peer.go and peers.go.
//
// What a node is made of:
//
//   - node.go: the instance (created on first start with an admin token kept
//     only as a hash) on a data dir holding the store and node.key, which
//     seals connection keys at rest (secrets.go); on PostgreSQL the store
//     and the key are in the database, shared by the node's replicas.
//   - connections.go: Invite, Accept, Redeem, Connect and the connection
//     lifecycle (DESIGN.md §4). An invitation code (invitation.go) carries a
//     one-time secret; redeeming it derives the connection key from the
//     secret, both connection ids and the acceptor's nonce.
//   - signing.go: every peer request is signed with the connection key over
//     method, path, timestamp, idempotency key and body hash; a signature is
//     accepted once, within ±5 minutes.
//   - tracker.go: the tracker contract and the tracker-neutral entities the
//     sync pipeline moves, aliased from the leaf package engine/tracker.
//
// The sync pipeline (DESIGN.md §3, §5) builds on these: an event per sync of
// one entity, its replica and stage stored in one transaction with the
// outbox row; a River job per send, retried until the peer durably accepts;
// the peer applying it idempotently on (connection, event id); the twin,
// comment and attachment links and the echo fingerprints written in the
// same transaction as the step that creates them.
package engine
