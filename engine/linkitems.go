package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-sync/tandem/engine/adminapi"
	"github.com/tandem-sync/tandem/engine/tracker/richtext"
	"github.com/tandem-sync/tandem/store"
)

// PathLink is where a node asks its peer to make two existing items, one
// on each side, twins.
const PathLink = "/api/v1/peer/link"

// LinkOffer is the body of a signed POST /api/v1/peer/link: the sender's
// item with its comments and attachments (to match those the receiver's
// item has already), and the receiver's item as the user named it.
type LinkOffer struct {
	Source      ReplicaEntity    `json:"source"`
	Comments    []ReplicaComment `json:"comments"`
	Attachments []Attachment     `json:"attachments"`
	// Ref is the receiver's item: an id, key or link.
	Ref string `json:"ref"`
	// ReceiverWins says the receiver's fields win the first sync.
	ReceiverWins bool `json:"receiver_wins"`
}

// LinkAnswer is the receiver's answer: its item, and the pairs of
// comments and attachments it found on both sides (Source is the
// sender's, Dest the receiver's).
type LinkAnswer struct {
	EntityID    string     `json:"entity_id"`
	Key         string     `json:"key"`
	URL         string     `json:"url"`
	Comments    []LinkPair `json:"comments"`
	Attachments []LinkPair `json:"attachments"`
}

// LinkItems makes two items that exist already, one on each side of a
// connection, twins. The fields of r.Winner's side win the first sync;
// comments and attachments both sides have (the same text; the same file
// name and size) are linked, not copied again, and the rest syncs as
// usual, both ways. Both nodes agree over the peer API before either
// records the pair: the other side's item must exist, be in the
// connection's project and not be a twin already.
func (n *pipeline) LinkItems(ctx context.Context, r adminapi.LinkRequest) (adminapi.LinkResult, error) {
	winner := r.Winner
	switch winner {
	case "":
		winner = adminapi.WinnerLocal
	case adminapi.WinnerLocal, adminapi.WinnerRemote:
	default:
		return adminapi.LinkResult{}, Errorf(ErrBadRequest, "--winner is local or remote, not %q", r.Winner)
	}
	if strings.TrimSpace(r.RemoteRef) == "" {
		return adminapi.LinkResult{}, Errorf(ErrBadRequest, "give the other side's item to link to (--to REF)")
	}
	et, err := n.entities()
	if err != nil {
		return adminapi.LinkResult{}, err
	}
	id, err := et.ParseRef(r.Ref)
	if err != nil {
		return adminapi.LinkResult{}, Errorf(ErrBadRequest, "%v", err)
	}
	e, err := et.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return adminapi.LinkResult{}, n.noSuchItem(r.Ref)
	}
	if err != nil {
		return adminapi.LinkResult{}, fmt.Errorf("reading %s from %s: %w", r.Ref, n.inst.Tracker, err)
	}
	c, err := n.connectionFor(ctx, r.Connection, e.Project)
	if err != nil {
		return adminapi.LinkResult{}, err
	}
	if c.Status != StatusActive {
		return adminapi.LinkResult{}, Errorf(ErrConflict, "connection %s is %s; link items on an active connection", c.Name, c.Status)
	}
	if t, err := n.st.Twin(ctx, nil, c.ID, e.ID); err == nil {
		return adminapi.LinkResult{}, Errorf(ErrConflict, "%s is already the twin of %s on %s; unexalate it first", e.Key, t.RemoteKey, c.RemoteName)
	} else if !errors.Is(err, store.ErrNotFound) {
		return adminapi.LinkResult{}, err
	}
	if open, err := n.st.UnfinishedEvents(ctx, c.ID, e.ID); err != nil {
		return adminapi.LinkResult{}, err
	} else if len(open) > 0 {
		return adminapi.LinkResult{}, Errorf(ErrConflict, "%s has a sync on its way (%s); try again once it is Synchronized", e.Key, StageName(open[0].Stage))
	}

	offer := LinkOffer{Source: ReplicaEntity{ID: e.ID, Key: e.Key, URL: e.URL, ModifiedAt: e.ModifiedAt},
		Attachments: e.Attachments, Ref: r.RemoteRef, ReceiverWins: winner == adminapi.WinnerRemote}
	for _, cm := range e.Comments {
		offer.Comments = append(offer.Comments, ReplicaComment{ID: cm.ID, Author: cm.Author, Body: cm.Body})
	}
	var ans LinkAnswer
	pctx, cancel := context.WithTimeout(ctx, peerCallTimeout)
	defer cancel()
	if err := n.signedPost(pctx, c, PathLink, "link-"+uuid.NewString(), offer, &ans); err != nil {
		return adminapi.LinkResult{}, peerRefusal(c, "link "+r.RemoteRef+" with "+e.Key, err)
	}
	twin := store.Twin{ConnectionID: c.ID, LocalID: e.ID, RemoteID: ans.EntityID, LocalKey: e.Key, LocalURL: e.URL,
		RemoteKey: ans.Key, RemoteURL: ans.URL}
	if err := n.recordLink(ctx, c, e, twin, winner == adminapi.WinnerRemote, ans.Comments, ans.Attachments, false); err != nil {
		return adminapi.LinkResult{}, fmt.Errorf("%s linked %s with %s, but this node could not record it: %w", c.RemoteName, ans.Key, e.Key, err)
	}
	res := adminapi.LinkResult{ConnectionID: c.ID, LocalKey: e.Key, LocalURL: e.URL, RemoteKey: ans.Key, RemoteURL: ans.URL,
		Winner: winner, MatchedComments: len(ans.Comments), MatchedAttachments: len(ans.Attachments)}
	if ev, err := n.firstSync(ctx, c, e, winner == adminapi.WinnerLocal); err != nil {
		return res, fmt.Errorf("%s and %s are linked, but their first sync could not start (exalate %s to try again): %w", e.Key, ans.Key, e.Key, err)
	} else if ev.EventID != "" {
		res.Event = &ev
	}
	n.log.Info("linked two existing items", "connection", c.ID, "entity", e.Key, "twin", ans.Key, "winner", winner)
	return res, nil
}

// ReceiveLink is the peer's side of LinkItems: it finds the item the user
// named, checks it may be linked, records the pair with the comments and
// attachments both sides have, and starts its side's first sync.
func (n *pipeline) ReceiveLink(ctx context.Context, c Connection, o LinkOffer) (LinkAnswer, error) {
	if o.Source.ID == "" || o.Ref == "" {
		return LinkAnswer{}, Errorf(ErrBadRequest, "the link offer lacks the item's id or the reference to link it to")
	}
	sc, err := n.st.Connection(ctx, c.ID)
	if err != nil {
		return LinkAnswer{}, err
	}
	et, err := n.entities()
	if err != nil {
		return LinkAnswer{}, err
	}
	id, err := et.ParseRef(o.Ref)
	if err != nil {
		return LinkAnswer{}, Errorf(ErrBadRequest, "%v", err)
	}
	e, err := et.Get(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && e.Deleted) {
		return LinkAnswer{}, n.noSuchItem(o.Ref)
	}
	if err != nil {
		return LinkAnswer{}, fmt.Errorf("reading %s: %w", o.Ref, err)
	}
	if e.Project != sc.LocalProject {
		return LinkAnswer{}, Errorf(ErrBadRequest, "%s is not in %s, the project this connection syncs on %s", e.Key, sc.LocalProjectName, n.inst.Name)
	}
	if t, err := n.st.Twin(ctx, nil, c.ID, e.ID); err == nil && t.RemoteID == o.Source.ID {
		return n.linkAnswer(ctx, t) // asked again: the sender may have failed to record its side
	} else if err == nil {
		return LinkAnswer{}, Errorf(ErrConflict, "%s is already the twin of %s; unexalate it first", e.Key, t.RemoteKey)
	} else if !errors.Is(err, store.ErrNotFound) {
		return LinkAnswer{}, err
	}
	if t, err := n.st.TwinByRemote(ctx, nil, c.ID, o.Source.ID); err == nil {
		return LinkAnswer{}, Errorf(ErrConflict, "%s is already linked with %s here", o.Source.Key, t.LocalKey)
	}
	if open, err := n.st.UnfinishedEvents(ctx, c.ID, e.ID); err != nil {
		return LinkAnswer{}, err
	} else if len(open) > 0 {
		return LinkAnswer{}, Errorf(ErrConflict, "%s has a sync on its way (%s); try again once it is Synchronized", e.Key, StageName(open[0].Stage))
	}
	ans := LinkAnswer{EntityID: e.ID, Key: e.Key, URL: e.URL}
	used := map[string]bool{}
	for _, theirs := range o.Comments {
		for _, mine := range e.Comments {
			if !used[mine.ID] && sameText(mine.Body, theirs.Body) {
				used[mine.ID] = true
				ans.Comments = append(ans.Comments, LinkPair{Source: theirs.ID, Dest: mine.ID})
				break
			}
		}
	}
	for _, theirs := range o.Attachments {
		for _, mine := range e.Attachments {
			if !used[mine.ID] && mine.Name == theirs.Name && mine.Size == theirs.Size {
				used[mine.ID] = true
				ans.Attachments = append(ans.Attachments, LinkPair{Source: theirs.ID, Dest: mine.ID})
				break
			}
		}
	}
	twin := store.Twin{ConnectionID: c.ID, LocalID: e.ID, RemoteID: o.Source.ID, LocalKey: e.Key, LocalURL: e.URL,
		RemoteKey: o.Source.Key, RemoteURL: o.Source.URL}
	if err := n.recordLink(ctx, sc, e, twin, !o.ReceiverWins, ans.Comments, ans.Attachments, true); err != nil {
		return LinkAnswer{}, err
	}
	if _, err := n.firstSync(ctx, sc, e, o.ReceiverWins); err != nil {
		// The pair stands; the next change or exalate syncs it.
		n.log.Warn("linked two existing items, but the first sync from this side could not start", "entity", e.Key, "err", err)
	}
	n.log.Info("linked two existing items at the other side's request", "connection", c.ID, "entity", e.Key, "twin", o.Source.Key)
	return ans, nil
}

// recordLink records a new pair, the comment and attachment pairs both
// sides had (mineIsDest: the local item's ids are the pairs' Dest), and
// clears an unexalated mark, in one transaction. On the losing side
// (loses) the twin takes the item's fields as already synced, so its first
// sync sends none of them and the winner's replace them.
func (n *pipeline) recordLink(ctx context.Context, c store.Connection, e Entity, twin store.Twin, loses bool,
	comments, attachments []LinkPair, mineIsDest bool) error {
	twin.Fields = map[string]string{}
	if loses {
		rules, err := n.connRules(ctx, c.ID, Mode(c.Mode))
		if err != nil {
			return err
		}
		out, err := rules.Outgoing(ctx, e, nil)
		if err != nil {
			return err
		}
		for _, f := range rules.Fields() {
			// No time: the winner's write is never older than this.
			setField(&twin, f, fingerprint(rules.Value(out.Item, f)), time.Time{})
		}
	}
	body := map[string]string{}
	for _, cm := range e.Comments {
		body[cm.ID] = cm.Body
	}
	local := func(p LinkPair) (mine, theirs string) {
		if mineIsDest {
			return p.Dest, p.Source
		}
		return p.Source, p.Dest
	}
	return n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.PutTwin(ctx, tx, twin); err != nil {
			return err
		}
		for _, p := range comments {
			mine, theirs := local(p)
			if err := n.st.PutLink(ctx, tx, store.ItemLink{ConnectionID: c.ID, Kind: store.LinkComment, LocalID: mine,
				RemoteID: theirs, EntityID: e.ID, Fingerprint: fingerprint(body[mine])}); err != nil {
				return err
			}
		}
		for _, p := range attachments {
			mine, theirs := local(p)
			if err := n.st.PutLink(ctx, tx, store.ItemLink{ConnectionID: c.ID, Kind: store.LinkAttachment, LocalID: mine,
				RemoteID: theirs, EntityID: e.ID}); err != nil {
				return err
			}
		}
		return n.st.ClearUnexalated(ctx, tx, c.ID, e.ID)
	})
}

// firstSync starts a new pair's first sync from this side: the winner's
// sends every field (always), the loser's only what it has of its own
// (comments and attachments the other side lacks), if anything.
func (n *pipeline) firstSync(ctx context.Context, c store.Connection, e Entity, wins bool) (StageEvent, error) {
	unlock, err := n.writing.read(ctx, e.ID) // see consider
	if err != nil {
		return StageEvent{}, err
	}
	defer unlock()
	return n.prepare(ctx, c, e, wins, n.now(), nil)
}

// sameText says whether two comments say the same, whatever each
// tracker's rich text made of the spacing.
func sameText(a, b string) bool {
	plain := func(s string) string {
		if p, err := richtext.ToPlain(s); err == nil {
			s = p
		}
		return strings.Join(strings.Fields(s), " ")
	}
	return plain(a) == plain(b)
}

// linkAnswer is the answer to a link already made: the pair and its links.
func (n *pipeline) linkAnswer(ctx context.Context, t store.Twin) (LinkAnswer, error) {
	ans := LinkAnswer{EntityID: t.LocalID, Key: t.LocalKey, URL: t.LocalURL}
	for _, kind := range []string{store.LinkComment, store.LinkAttachment} {
		links, err := n.st.Links(ctx, nil, t.ConnectionID, kind, t.LocalID)
		if err != nil {
			return ans, err
		}
		for _, l := range links {
			p := LinkPair{Source: l.RemoteID, Dest: l.LocalID}
			if kind == store.LinkComment {
				ans.Comments = append(ans.Comments, p)
			} else {
				ans.Attachments = append(ans.Attachments, p)
			}
		}
	}
	return ans, nil
}
