package engine

import "context"

// ConnectionKeyForTest returns a connection's key in clear, so tests can
// check it never leaks into logs or files.
func ConnectionKeyForTest(ctx context.Context, n *Node, id string) ([]byte, error) {
	c, err := n.st.Connection(ctx, id)
	if err != nil {
		return nil, err
	}
	return n.connectionKey(c)
}

// PollStateForTest is where adaptive polling stands on a project of n.
func PollStateForTest(n *Node, project string) PollState {
	return n.detector.sched.state(project)
}

// SameNodeKeyForTest reports whether what a seals, b opens: whether two
// replicas of a node share its key.
func SameNodeKeyForTest(a, b *Node) bool {
	_, err := b.box.open(a.box.seal([]byte("tandem")))
	return err == nil
}

// RiverClientIDForTest is the id of n's River client, which the jobs it
// runs name in attempted_by.
func RiverClientIDForTest(n *Node) string { return n.pipeline.river.ID() }
