package engine

// Script mode's rules: a connection's published outgoing and incoming
// scripts (engine/script) behind the Rules seam. Each side runs its own
// scripts and never sees the other's; what crosses the wire is the
// replica the outgoing script filled.

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tandem-sync/tandem/engine/script"
	"github.com/tandem-sync/tandem/engine/tracker"
	"github.com/tandem-sync/tandem/store"
)

// scriptRules runs one published version of a connection's scripts.
type scriptRules struct {
	version  int
	out, in  *script.Program
	outLines int
	inLines  int
	budget   script.Budget
	users    tracker.UserFinder

	mu sync.Mutex
	// values caches the outgoing script's replica of an item, by the
	// item's content: Value is asked for each field in turn.
	values map[[32]byte]script.Replica
}

var (
	_ Rules     = (*scriptRules)(nil)
	_ versioned = (*scriptRules)(nil)
)

// compileScripts compiles a version's two scripts; an error names the
// script, line and message.
func compileScripts(sc store.Scripts, budget script.Budget) (*scriptRules, error) {
	out, err := script.Compile("outgoing.star", sc.Outgoing)
	if err != nil {
		return nil, err
	}
	in, err := script.Compile("incoming.star", sc.Incoming)
	if err != nil {
		return nil, err
	}
	if out.Kind() != script.KindOutgoing {
		return nil, fmt.Errorf("outgoing.star: defines incoming(...); the outgoing script must define outgoing(item, replica)")
	}
	if in.Kind() != script.KindIncoming {
		return nil, fmt.Errorf("incoming.star: defines outgoing(...); the incoming script must define incoming(item, replica, previous, first_sync)")
	}
	return &scriptRules{version: sc.Version, out: out, in: in, budget: budget,
		outLines: strings.Count(sc.Outgoing, "\n"), inLines: strings.Count(sc.Incoming, "\n"),
		values: map[[32]byte]script.Replica{}}, nil
}

// Version implements versioned: "script v3".
func (s *scriptRules) Version() string { return fmt.Sprintf("script v%d", s.version) }

// Rows implements Rules: the two scripts, as the Rules tab lists them.
func (s *scriptRules) Rows() []Rule {
	return []Rule{
		{Order: 1, ThisSide: "Outgoing script", OtherSide: "Replica",
			Note: fmt.Sprintf("version %d, %d lines: fills the replica sent to the other side", s.version, s.outLines)},
		{Order: 2, ThisSide: "Incoming script", OtherSide: "Replica",
			Note: fmt.Sprintf("version %d, %d lines: applies the other side's replica here", s.version, s.inLines)},
	}
}

// Fields implements Rules: every field a replica can carry, by the
// replica's names.
func (s *scriptRules) Fields() []string { return script.Fields() }

// replicaOf runs the outgoing script on e (cached by e's content).
func (s *scriptRules) replicaOf(ctx context.Context, e Entity) (script.OutgoingResult, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return script.OutgoingResult{}, err
	}
	key := sha256.Sum256(b)
	s.mu.Lock()
	rep, ok := s.values[key]
	s.mu.Unlock()
	if ok {
		return script.OutgoingResult{Replica: rep}, nil
	}
	res, err := s.out.Outgoing(ctx, scriptEnv(s.budget, s.users), e)
	if err != nil {
		return res, err
	}
	s.mu.Lock()
	if len(s.values) >= 512 {
		clear(s.values)
	}
	s.values[key] = res.Replica
	s.mu.Unlock()
	return res, nil
}

// Value implements Rules: the item's value of a replica field is what the
// outgoing script puts there, so a change the script does not carry is
// no change, and an item an incoming sync just wrote is recognised by the
// value it would send back. A failing script gives a value no replica
// has; Outgoing reports the error.
func (s *scriptRules) Value(e Entity, f string) string {
	res, err := s.replicaOf(context.Background(), e)
	if err != nil {
		return "\x00script error"
	}
	return res.Replica.Value(f)
}

// Sent implements Rules.
func (s *scriptRules) Sent(r ReplicaEntity, f string) string { return toScriptReplica(r).Value(f) }

// toScriptReplica is a replica's fields as the scripts see them. A replica
// from a Basic side names no fields set: it carries Basic's three.
func toScriptReplica(r ReplicaEntity) script.Replica {
	set := r.Set
	if set == nil {
		set = []string{FieldType, FieldSummary, FieldDescription}
	}
	return script.Replica{ID: r.ID, Key: r.Key, URL: r.URL, Type: r.Type, Summary: r.Summary,
		Description: r.Description, Fields: r.Fields, Set: set}
}

// Outgoing implements Rules: the replica is what the outgoing script
// filled; the comments and attachments sent are those it merged.
func (s *scriptRules) Outgoing(ctx context.Context, e Entity, twin *store.Twin) (Outgoing, error) {
	res, err := s.replicaOf(ctx, e)
	if err != nil {
		return Outgoing{}, err
	}
	rep := res.Replica
	out := Outgoing{Item: e}
	out.Item.Comments, out.Item.Attachments = rep.Comments, rep.Attachments
	out.Source = ReplicaEntity{Type: rep.Type, Summary: rep.Summary, Description: rep.Description,
		Fields: rep.Fields, Set: rep.Set}
	if out.Source.Set == nil {
		out.Source.Set = []string{} // a script that sets nothing sends nothing
	}
	if sum := NormalizeSummary(rep.Summary); rep.Has(FieldSummary) && sum != rep.Summary {
		// As Basic: a summary goes normalised, and the item here gets it
		// too when it is the item's own.
		out.Source.Summary = sum
		if rep.Summary == e.Summary {
			out.Item.Summary, out.Local = sum, &EntityUpdate{Summary: &sum}
		}
	}
	if rep.Has(FieldType) && twin != nil && twin.RemoteType != "" && fieldFP(*twin, FieldType) == fingerprint(rep.Type) {
		out.Source.Type = twin.RemoteType
	}
	return out, nil
}

// Incoming implements Rules: the incoming script makes the changes; the
// fields it may take from the replica are those the pipeline found
// changed and not beaten by a newer write here (replica.changed).
func (s *scriptRules) Incoming(ctx context.Context, in Incoming) (Applied, error) {
	rep := toScriptReplica(in.Source)
	changed := in.Fields
	if in.Current == nil {
		changed = rep.Set
	}
	env := scriptEnv(s.budget, s.users)
	if in.MapType != nil {
		env.MapType = func(_ context.Context, typ string) (string, string, error) { return in.MapType(typ) }
	}
	input := script.IncomingInput{Item: in.Current, Replica: rep, Changed: slices.Clone(changed)}
	if in.Previous != nil {
		prev := toScriptReplica(*in.Previous)
		input.Previous = &prev
	}
	res, err := s.in.Incoming(ctx, env, input)
	if err != nil {
		return Applied{}, err
	}
	if res.Update.Summary != nil {
		sum := NormalizeSummary(*res.Update.Summary)
		res.Update.Summary = &sum
	}
	ch := Applied{Update: res.Update, RemoteType: res.RemoteType, Notes: res.Notes,
		NoComments: !res.MergeComments, NoAttachments: !res.MergeAttachments}
	if mine, ok := in.Overwritten[FieldDescription]; ok && mine != "" && res.Update.Description != nil && mine != *res.Update.Description {
		ch.Comments = append(ch.Comments, keptDescription(mine, in.Origin))
	}
	return ch, nil
}

// Comment implements Rules as Basic does.
func (s *scriptRules) Comment(c ReplicaComment, origin string) string {
	return Basic{}.Comment(c, origin)
}

// KeepsRemote implements Rules as Basic does.
func (s *scriptRules) KeepsRemote(f string) bool { return Basic{}.KeepsRemote(f) }

// Refused implements Rules as Basic does.
func (s *scriptRules) Refused(asked EntityUpdate, got Entity, src ReplicaEntity) (string, bool) {
	return Basic{}.Refused(asked, got, src)
}

// trigger runs the outgoing script's trigger(item) on a new item: whether
// it starts syncing on its own. A failing trigger is an error naming the
// script and line; the item is considered again on its next change.
func (s *scriptRules) trigger(ctx context.Context, e Entity) (bool, error) {
	res, err := s.out.Trigger(ctx, scriptEnv(s.budget, s.users), e)
	if err != nil {
		return false, fmt.Errorf("the trigger of script v%d on %s: %w", s.version, e.Key, err)
	}
	return res.Sync, nil
}

// scriptEnv is what a run gets from the node: its budget, and
// user_by_email when the tracker finds users.
func scriptEnv(budget script.Budget, users tracker.UserFinder) script.Env {
	env := script.Env{Budget: budget}
	if users != nil {
		env.UserByEmail = users.UserByEmail
	}
	return env
}
