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
