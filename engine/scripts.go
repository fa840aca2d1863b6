package engine

// Script mode's scripts on this side of a connection: the upgrade from
// Basic, the draft, publishing, versions, comparing them, and test runs.
// The rules they make are in scriptrules.go.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aymanbagabas/go-udiff"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/engine/script"
	"github.com/tandem-sync/tandem/engine/tracker"
	"github.com/tandem-sync/tandem/store"
)

// Scripts are a connection's scripts on this side (adminapi.Scripts).
type Scripts = adminapi.Scripts

// scriptBook compiles a connection's published scripts into its rules,
// once per version.
type scriptBook struct {
	st     *store.Store
	now    func() time.Time
	budget script.Budget
	// users finds this side's users by e-mail (user_by_email); nil when
	// the tracker can't.
	users tracker.UserFinder

	mu       sync.Mutex
	compiled map[string]*scriptRules // by connection id
}

// rules are the rules of a Script mode connection: its published
// version, compiled. A connection made in Script mode starts with the
// scripts that do what Basic does, published as version 1 on first use.
func (b *scriptBook) rules(ctx context.Context, connID string) (Rules, error) {
	sc, err := b.st.PublishedScripts(ctx, nil, connID)
	if errors.Is(err, store.ErrNotFound) {
		basic := script.BasicScripts()
		err = b.st.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := b.st.PublishedScripts(ctx, tx, connID); err == nil {
				return nil // published meanwhile
			}
			if _, err := b.st.PublishScripts(ctx, tx, connID, basic.Outgoing, basic.Incoming, "Basic's rules, as scripts", b.now()); err != nil {
				return err
			}
			if _, err := b.st.Scripts(ctx, tx, connID, adminapi.DraftVersion); errors.Is(err, store.ErrNotFound) {
				return b.st.SaveDraft(ctx, tx, connID, basic.Outgoing, basic.Incoming, b.now())
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sc, err = b.st.PublishedScripts(ctx, nil, connID)
	}
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if r := b.compiled[connID]; r != nil && r.version == sc.Version {
		return r, nil
	}
	r, err := compileScripts(sc, b.budget)
	if r != nil {
		r.users = b.users
	}
	if err != nil {
		return nil, fmt.Errorf("version %d of the scripts: %w", sc.Version, err)
	}
	b.compiled[connID] = r
	return r, nil
}

// env is what a test run's scripts get from the node.
func (b *scriptBook) env() script.Env {
	return scriptEnv(b.budget, b.users)
}

// scriptConnection finds a connection (by id or name) for its scripts:
// one in Script mode.
func (n *connections) scriptConnection(ctx context.Context, ref string) (store.Connection, error) {
	c, err := n.findConnection(ctx, ref)
	if err != nil {
		return c, err
	}
	if Mode(c.Mode) != ModeScript {
		return c, Errorf(ErrBadRequest, "connection %s is in %s mode on this side; upgrade it to Script mode first (tandem upgrade --connection %s)",
			c.Name, Mode(c.Mode).Name(), c.Name)
	}
	return c, nil
}

// Upgrade moves a Basic connection to Script mode on this side: its
// scripts do exactly what Basic does, published as version 1 and copied
// into the draft, so nothing changes until an admin edits them. It can't
// be undone; the other side is not changed.
func (n *connections) Upgrade(ctx context.Context, connID string) (Scripts, error) {
	c, err := n.findConnection(ctx, connID)
	if err != nil {
		return Scripts{}, err
	}
	if Mode(c.Mode) == ModeScript {
		return Scripts{}, Errorf(ErrBadRequest, "connection %s is already in Script mode on this side", c.Name)
	}
	basic := script.BasicScripts()
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := n.st.PublishScripts(ctx, tx, c.ID, basic.Outgoing, basic.Incoming, "upgraded from Basic", n.now()); err != nil {
			return err
		}
		if err := n.st.SaveDraft(ctx, tx, c.ID, basic.Outgoing, basic.Incoming, n.now()); err != nil {
			return err
		}
		return n.st.SetMode(ctx, tx, c.ID, string(ModeScript))
	})
	if err != nil {
		return Scripts{}, err
	}
	n.log.Info("connection upgraded to Script mode", "connection", c.Name)
	return n.Scripts(ctx, c.ID)
}

// Scripts returns a Script mode connection's scripts on this side.
func (n *connections) Scripts(ctx context.Context, connID string) (Scripts, error) {
	c, err := n.scriptConnection(ctx, connID)
	if err != nil {
		return Scripts{}, err
	}
	if _, err := n.scripts.rules(ctx, c.ID); err != nil && !isScriptError(err) {
		return Scripts{}, err // makes version 1 of a connection made in Script mode
	}
	out := Scripts{ConnectionID: c.ID, Mode: ModeScript}
	pub, err := n.st.PublishedScripts(ctx, nil, c.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Scripts{}, err
	}
	out.Published, out.PublishedAt, out.Outgoing, out.Incoming = pub.Version, pub.At, pub.Outgoing, pub.Incoming
	draft, err := n.st.Scripts(ctx, nil, c.ID, adminapi.DraftVersion)
	if errors.Is(err, store.ErrNotFound) {
		draft = store.Scripts{Outgoing: pub.Outgoing, Incoming: pub.Incoming}
	} else if err != nil {
		return Scripts{}, err
	}
	out.DraftOutgoing, out.DraftIncoming, out.DraftAt = draft.Outgoing, draft.Incoming, draft.At
	out.DraftDiffers = draft.Outgoing != pub.Outgoing || draft.Incoming != pub.Incoming
	out.DraftErrors = checkScripts(draft.Outgoing, draft.Incoming)
	return out, nil
}

// isScriptError says err is a script's own (it does not compile), not the
// node's.
func isScriptError(err error) bool {
	var se *script.Error
	return errors.As(err, &se) || errors.Is(err, script.ErrInvalid)
}

// checkScripts compiles a draft's two scripts and returns their errors,
// each "file:line:col: message".
func checkScripts(outgoing, incoming string) []string {
	var errs []string
	for _, s := range []struct{ name, src string }{{"outgoing.star", outgoing}, {"incoming.star", incoming}} {
		p, err := script.Compile(s.name, s.src)
		switch {
		case err != nil:
			errs = append(errs, err.Error())
		case s.name == "outgoing.star" && p.Kind() != script.KindOutgoing:
			errs = append(errs, "outgoing.star: must define outgoing(item, replica), not incoming")
		case s.name == "incoming.star" && p.Kind() != script.KindIncoming:
			errs = append(errs, "incoming.star: must define incoming(item, replica, previous, first_sync), not outgoing")
		}
	}
	return errs
}

// maxScript bounds one script's size.
const maxScript = 256 << 10

// SaveDraft replaces a Script mode connection's draft. A draft that does
// not compile is kept (an admin saves work in progress); its errors come
// back in Scripts.DraftErrors.
func (n *connections) SaveDraft(ctx context.Context, connID string, r adminapi.DraftRequest) (Scripts, error) {
	c, err := n.scriptConnection(ctx, connID)
	if err != nil {
		return Scripts{}, err
	}
	if len(r.Outgoing) > maxScript || len(r.Incoming) > maxScript {
		return Scripts{}, Errorf(ErrBadRequest, "a script is over %d KiB; split what it does into smaller functions", maxScript>>10)
	}
	if strings.TrimSpace(r.Outgoing) == "" || strings.TrimSpace(r.Incoming) == "" {
		return Scripts{}, Errorf(ErrBadRequest, "both scripts are needed: the outgoing one and the incoming one")
	}
	if err := n.st.SaveDraft(ctx, nil, c.ID, r.Outgoing, r.Incoming, n.now()); err != nil {
		return Scripts{}, err
	}
	return n.Scripts(ctx, c.ID)
}

// Publish makes the draft the version in force; a draft that does not
// compile is refused with its errors.
func (n *connections) Publish(ctx context.Context, connID string, r adminapi.PublishRequest) (adminapi.ScriptVersion, error) {
	sc, err := n.Scripts(ctx, connID)
	if err != nil {
		return adminapi.ScriptVersion{}, err
	}
	if len(sc.DraftErrors) > 0 {
		return adminapi.ScriptVersion{}, Errorf(ErrBadRequest, "the draft can't be published: %s", strings.Join(sc.DraftErrors, "; "))
	}
	if !sc.DraftDiffers {
		return adminapi.ScriptVersion{}, Errorf(ErrBadRequest, "the draft is version %d already; edit it first", sc.Published)
	}
	var v int
	at := n.now()
	err = n.st.InTx(ctx, func(tx *sql.Tx) (err error) {
		v, err = n.st.PublishDraft(ctx, tx, sc.ConnectionID, strings.TrimSpace(r.Note), at)
		return err
	})
	if err != nil {
		return adminapi.ScriptVersion{}, err
	}
	n.log.Info("scripts published", "connection", sc.ConnectionID, "version", v)
	return adminapi.ScriptVersion{Version: v, At: at, Note: strings.TrimSpace(r.Note)}, nil
}

// ScriptVersions lists a Script mode connection's published versions,
// newest first.
func (n *connections) ScriptVersions(ctx context.Context, connID string) ([]adminapi.ScriptVersion, error) {
	c, err := n.scriptConnection(ctx, connID)
	if err != nil {
		return nil, err
	}
	vs, err := n.st.ScriptVersions(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]adminapi.ScriptVersion, 0, len(vs))
	for _, v := range vs {
		out = append(out, adminapi.ScriptVersion{Version: v.Version, At: v.At, Note: v.Note})
	}
	return out, nil
}

// versionScripts returns one version of a connection's scripts
// (DraftVersion: the draft), or says which versions there are.
func (n *connections) versionScripts(ctx context.Context, c store.Connection, v int) (store.Scripts, error) {
	sc, err := n.st.Scripts(ctx, nil, c.ID, v)
	if errors.Is(err, store.ErrNotFound) {
		return sc, Errorf(ErrNotFound, "connection %s has no version %d of its scripts (tandem rules history --connection %s lists them)", c.Name, v, c.Name)
	}
	return sc, err
}

// CompareScripts compares two versions of a connection's scripts
// (DraftVersion: the draft) as unified diffs.
func (n *connections) CompareScripts(ctx context.Context, connID string, from, to int) (adminapi.ScriptDiff, error) {
	c, err := n.scriptConnection(ctx, connID)
	if err != nil {
		return adminapi.ScriptDiff{}, err
	}
	a, err := n.versionScripts(ctx, c, from)
	if err != nil {
		return adminapi.ScriptDiff{}, err
	}
	b, err := n.versionScripts(ctx, c, to)
	if err != nil {
		return adminapi.ScriptDiff{}, err
	}
	name := func(v int, file string) string {
		if v == adminapi.DraftVersion {
			return "draft/" + file
		}
		return fmt.Sprintf("v%d/%s", v, file)
	}
	return adminapi.ScriptDiff{From: from, To: to,
		Outgoing: udiff.Unified(name(from, "outgoing.star"), name(to, "outgoing.star"), a.Outgoing, b.Outgoing),
		Incoming: udiff.Unified(name(from, "incoming.star"), name(to, "incoming.star"), a.Incoming, b.Incoming)}, nil
}

// TestRun runs a version of a connection's scripts on a real item and
// writes nothing: the outgoing script on the item as it is, or the
// incoming script on the last replica received for it.
func (n *connections) TestRun(ctx context.Context, connID string, r adminapi.TestRunRequest) (adminapi.TestRun, error) {
	c, err := n.scriptConnection(ctx, connID)
	if err != nil {
		return adminapi.TestRun{}, err
	}
	if r.Direction == "" {
		r.Direction = adminapi.TestOutgoing
	}
	if r.Direction != adminapi.TestOutgoing && r.Direction != adminapi.TestIncoming {
		return adminapi.TestRun{}, Errorf(ErrBadRequest, "direction %q: use %s or %s", r.Direction, adminapi.TestOutgoing, adminapi.TestIncoming)
	}
	if _, err := n.scripts.rules(ctx, c.ID); err != nil && !isScriptError(err) {
		return adminapi.TestRun{}, err
	}
	sc, err := n.versionScripts(ctx, c, r.Version)
	if err != nil {
		return adminapi.TestRun{}, err
	}
	et, ok := n.tracker.(EntityTracker)
	if !ok {
		return adminapi.TestRun{}, fmt.Errorf("this node's tracker can't read items")
	}
	id, err := et.ParseRef(strings.TrimSpace(r.Ref))
	if err != nil {
		return adminapi.TestRun{}, Errorf(ErrBadRequest, "%v", err)
	}
	e, err := et.Get(ctx, id)
	if err != nil {
		return adminapi.TestRun{}, fmt.Errorf("reading %s: %w", r.Ref, err)
	}
	run := adminapi.TestRun{Direction: r.Direction, Version: r.Version, Item: e.Key}
	env := n.scripts.env()
	if r.Direction == adminapi.TestOutgoing {
		p, err := script.Compile("outgoing.star", sc.Outgoing)
		if err != nil {
			run.Error = err.Error()
			return run, nil
		}
		res, err := p.Outgoing(ctx, env, e)
		run.Log, run.Notes = res.Log, res.Notes
		if err != nil {
			run.Error = err.Error()
			return run, nil
		}
		run.Replica = prettyJSON(res.Replica)
		return run, nil
	}
	p, err := script.Compile("incoming.star", sc.Incoming)
	if err != nil {
		run.Error = err.Error()
		return run, nil
	}
	input, err := n.testReplica(ctx, c, e, r.Replica)
	if err != nil {
		return run, err
	}
	run.Replica = prettyJSON(input.Replica)
	env.MapType = func(_ context.Context, typ string) (string, string, error) { return typ, "", nil }
	res, err := p.Incoming(ctx, env, input)
	run.Log, run.Notes = res.Log, res.Notes
	if err != nil {
		run.Error = err.Error()
		return run, nil
	}
	run.Changes = describeUpdate(res)
	return run, nil
}

// testReplica is what an incoming test run applies to e: the replica
// given (JSON, as a test run shows one; every field it sets counts as
// changed, and previous is the last replica received), or else the last
// replica received for e, with the one before it as previous.
func (n *connections) testReplica(ctx context.Context, c store.Connection, e Entity, given string) (script.IncomingInput, error) {
	in := script.IncomingInput{Item: &e}
	latest, err := n.st.LatestIncoming(ctx, c.ID, e.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return in, err
	}
	received := func(ev store.SyncEvent) (*script.Replica, []string, bool) {
		var r Replica
		if json.Unmarshal(ev.Payload, &r) != nil {
			return nil, nil, false
		}
		sr := toScriptReplica(r.Source)
		return &sr, r.Fields, true
	}
	if given != "" {
		if err := json.Unmarshal([]byte(given), &in.Replica); err != nil {
			return in, Errorf(ErrBadRequest, "the replica given is not a replica as a test run shows one (JSON): %v", err)
		}
		if in.Replica.Set == nil {
			return in, Errorf(ErrBadRequest, `the replica given sets no field: it needs "set", the fields it carries, as a test run shows`)
		}
		in.Changed = in.Replica.Set
		if err == nil && latest.ID != "" {
			in.Previous, _, _ = received(latest)
		}
		return in, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return in, Errorf(ErrNotFound, "%s has received no replica for %s yet: nothing to test the incoming script on (give one as a file)", c.Name, e.Key)
	}
	r, fields, ok := received(latest)
	if !ok {
		return in, fmt.Errorf("the replica of sync %s is unreadable", latest.ID)
	}
	in.Replica, in.Changed = *r, fields
	if prev, err := n.st.IncomingBefore(ctx, c.ID, e.ID, latest.ID); err == nil {
		in.Previous, _, _ = received(prev)
	}
	return in, nil
}

// prettyJSON is v as indented JSON, for a test run to show: rich text's
// tags as they are (<body>), not escaped for HTML.
func prettyJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err.Error()
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// describeUpdate says what an incoming run would change, a line each.
func describeUpdate(res script.IncomingResult) []string {
	u := res.Update
	var out []string
	str := func(name string, p *string) {
		if p != nil {
			out = append(out, fmt.Sprintf("%s → %q", name, *p))
		}
	}
	str("type", u.Type)
	str("summary", u.Summary)
	str("description", u.Description)
	str("status", u.Status)
	if u.Completed != nil {
		out = append(out, fmt.Sprintf("completed → %t", *u.Completed))
	}
	str("section", u.Section)
	str("assignee", u.Assignee)
	str("due date", u.DueDate)
	str("priority", u.Priority)
	if u.Labels != nil {
		out = append(out, fmt.Sprintf("labels → %q", *u.Labels))
	}
	for k, v := range u.Custom {
		out = append(out, fmt.Sprintf("custom %q → %q", k, v))
	}
	if res.MergeComments {
		out = append(out, "comments merged (each once, author shown)")
	}
	if res.MergeAttachments {
		out = append(out, "attachments merged")
	}
	if len(out) == 0 {
		out = append(out, "no change")
	}
	return out
}
