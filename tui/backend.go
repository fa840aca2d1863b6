package tui

import (
	"github.com/tandem-sync/tandem/connectors/remote"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

// Node is what the console needs of a tandem node: the admin API's
// contract, which a node in process ((*engine.Node).Admin) and a node
// reached over HTTP (*remote.Client) both implement, so the console needs
// no adapter of its own, and links no engine: it builds without cgo.
type Node = adminapi.Node

// RemoteNode is the console's view of a node reached through its admin
// API: the client itself.
func RemoteNode(c *remote.Client) Node { return c }
