package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// Mode is a connection's configuration mode (adminapi.Mode).
type Mode = adminapi.Mode

// The configuration modes (adminapi.Modes lists them).
const (
	ModeBasic  = adminapi.ModeBasic
	ModeScript = adminapi.ModeScript
)

// ErrModeUnsupported is a configuration mode a node does not support; the
// message names the mode and the node to upgrade.
var ErrModeUnsupported = adminapi.ErrModeUnsupported

// supportedModes are the configuration modes this node supports, in the
// order of adminapi.Modes: Basic always, and each mode Config.Modes gives
// rules for.
func (n *connections) supportedModes() []Mode {
	var out []Mode
	for _, m := range adminapi.Modes() {
		if _, ok := n.rulesFor(m); ok {
			out = append(out, m)
		}
	}
	return out
}

// rulesFor is the rules implementation of a mode on this node: the lookup
// a connection's rules come from (Basic for "basic", Config.Modes for the
// others), and where Script mode plugs in. ok is false for a mode this
// node does not support.
func (n *connections) rulesFor(m Mode) (r Rules, ok bool) {
	if m == ModeBasic {
		return n.rules, true
	}
	r, set := n.modes[m]
	if !set && m == ModeScript {
		// Every node runs scripts (scripts.go), each connection its own:
		// connRules finds them.
		return nil, true
	}
	return r, r != nil
}

// modeHere checks that this node supports mode m ("" means Basic) and
// returns it: an unknown mode is a bad request, a known one this node
// lacks is ErrModeUnsupported naming this node.
func (n *connections) modeHere(m Mode) (Mode, error) {
	m, err := adminapi.ParseMode(string(m))
	if err != nil {
		return "", err
	}
	if _, ok := n.rulesFor(m); !ok {
		return "", Errorf(ErrModeUnsupported, "this node does not support %s mode; upgrade tandem on %s (it supports %s)",
			m.Name(), n.inst.Name, modeNames(n.supportedModes()))
	}
	return m, nil
}

// modeThere checks that another node (as it describes itself) supports
// mode m: a node with no mode in common with this one is ErrIncompatible,
// one lacking just m is ErrModeUnsupported naming it.
func (n *connections) modeThere(dest Instance, m Mode) error {
	if slices.Contains(dest.Modes, m) {
		return nil
	}
	if !slices.ContainsFunc(n.supportedModes(), func(x Mode) bool { return slices.Contains(dest.Modes, x) }) {
		return fmt.Errorf("%w: %s supports the modes %s and this node only %s: no mode in common", ErrIncompatible,
			dest.Name, modeNames(dest.Modes), modeNames(n.supportedModes()))
	}
	return Errorf(ErrModeUnsupported, "%s does not support %s mode; upgrade tandem on %s, or choose a mode it supports (%s)",
		dest.Name, m.Name(), dest.Name, modeNames(dest.Modes))
}

// modeNames lists modes for a message: "Basic, Script".
func modeNames(ms []Mode) string {
	if len(ms) == 0 {
		return "none"
	}
	s := ""
	for i, m := range ms {
		if i > 0 {
			s += ", "
		}
		s += m.Name()
	}
	return s
}

// connRules is the rules connection connID, in mode m, syncs with: its
// mode's, and in Script mode its published scripts. A connection whose
// mode this node does not support (made by a newer tandem, or a mode
// since taken out of Config.Modes) fails its syncs with this error rather
// than syncing by another mode's rules.
func (n *connections) connRules(ctx context.Context, connID string, m Mode) (Rules, error) {
	if m == "" {
		m = ModeBasic
	}
	if _, set := n.modes[m]; m == ModeScript && !set {
		return n.scripts.rules(ctx, connID)
	}
	r, ok := n.rulesFor(m)
	if !ok {
		return nil, Errorf(ErrModeUnsupported, "this connection is in %s mode, which this node does not support; upgrade tandem on %s",
			m.Name(), n.inst.Name)
	}
	return r, nil
}
