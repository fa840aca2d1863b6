package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"sync"

	"github.com/tandem-sync/tandem/store"
)

// attachmentLimit is the most bytes a copy of an attachment may take: the
// size the peer announced when it announced one, never more than this
// node's tracker takes (trackerMax, when positive), and never more than the
// whole budget for attachments in transit, so a stream past any of them
// ends at the limit and is refused, rather than filling the budget and
// failing in a way a retry would download again.
func attachmentLimit(announced, trackerMax, budget int64) int64 {
	limit := budget
	if trackerMax > 0 {
		limit = min(limit, trackerMax)
	}
	if announced > 0 {
		limit = min(limit, announced)
	}
	return limit
}

// receiveAttachment downloads an attachment from the peer into a temporary
// file, counting the bytes as they arrive: the download stops one byte past
// the limit, and the file is deleted at once. A peer that announces a small
// file (or none at all) and streams a large one costs this node at most
// the limit, in bytes read and in disk. On success the caller owns the file
// and discards it when done.
func (n *pipeline) receiveAttachment(ctx context.Context, et EntityTracker, c store.Connection, eventID string, att Attachment) (_ *partFile, size int64, sum string, err error) {
	if att.Size > n.disk.budget {
		return nil, 0, "", Errorf(ErrDiskBudget, "attachment %q is %s, more than this node's whole budget of %s for attachments in transit (engine.Config.AttachmentBudget)",
			att.Name, megabytes(att.Size), megabytes(n.disk.budget))
	}
	limit := attachmentLimit(att.Size, et.MaxAttachmentSize(), n.disk.budget)
	part, err := n.disk.newPart()
	if err != nil {
		return nil, 0, "", err
	}
	defer func() {
		if err != nil {
			part.discard()
		}
	}()
	resp, err := n.signedGet(ctx, c, PathAttachments+url.PathEscape(att.ID)+"?event="+url.QueryEscape(eventID))
	if err != nil {
		return nil, 0, "", err
	}
	defer resp.Body.Close()
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(part, h), io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, 0, "", fmt.Errorf("receiving the bytes: %w", err)
	}
	// One byte more is read, never written: the file and the budget hold
	// at most the limit.
	if _, err := io.ReadFull(resp.Body, make([]byte, 1)); size == limit && err == nil {
		// Closing the body unread closes the connection: the peer's
		// stream stops here, not at its end.
		return nil, 0, "", refusal(att, c.RemoteName, limit, et.MaxAttachmentSize(), n.inst.Tracker)
	}
	if att.Size > 0 && size != att.Size {
		return nil, 0, "", fmt.Errorf("received %d bytes, the source announced %d", size, att.Size)
	}
	sum = hex.EncodeToString(h.Sum(nil))
	if want := resp.Trailer.Get(HeaderContentSHA256); want != sum {
		return nil, 0, "", fmt.Errorf("the bytes received do not match the source's sha256 (%q)", want)
	}
	return part, size, sum, nil
}

// refusal is the error of a peer that streamed more than the limit.
func refusal(att Attachment, peer string, limit, trackerMax int64, tracker string) error {
	why := fmt.Sprintf("announced %d", att.Size)
	if att.Size <= 0 && trackerMax > 0 {
		why = fmt.Sprintf("announced no size; %s takes at most %d", tracker, trackerMax)
	}
	return Errorf(ErrAttachmentRefused, "attachment %q from %s: more than %d bytes (%s); refused", att.Name, peer, limit, why)
}

// refusedAttachments remembers, for as long as the node runs, the
// attachments a peer streamed past their limit. A peer that did so once
// would do so on every retry: the sync goes on failing with the reason
// and backing off, but the bytes are not downloaded again. A restart
// forgets them, so a peer that was fixed costs at most one more bounded
// download per restart.
type refusedAttachments struct {
	mu     sync.Mutex
	reason map[[2]string]string // by connection id and attachment id
}

func (r *refusedAttachments) add(connID, attID, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reason == nil {
		r.reason = map[[2]string]string{}
	}
	if len(r.reason) >= maxRefused {
		// A peer inventing new attachment ids must not grow this
		// without end; forgetting one costs one more bounded download.
		for k := range r.reason {
			delete(r.reason, k)
			break
		}
	}
	r.reason[[2]string{connID, attID}] = reason
}

// maxRefused bounds how many refused attachments a node remembers.
const maxRefused = 10000

func (r *refusedAttachments) get(connID, attID string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reason, ok := r.reason[[2]string{connID, attID}]
	return reason, ok
}

// copyAttachment fetches an attachment's bytes from the peer into a
// temporary file (never whole in memory, never past its limit: see
// receiveAttachment), uploads it and records the link with the bytes'
// sha256. An attachment the peer streamed past its limit before is not
// downloaded again.
func (n *pipeline) copyAttachment(ctx context.Context, et EntityTracker, c store.Connection, eventID, entityID string, att Attachment) (Attachment, error) {
	if reason, ok := n.refused.get(c.ID, att.ID); ok {
		return Attachment{}, Errorf(ErrAttachmentRefused, "%s (earlier; not downloaded again until this node restarts)", reason)
	}
	tmp, size, sum, err := n.receiveAttachment(ctx, et, c, eventID, att)
	if errors.Is(err, ErrAttachmentRefused) {
		n.refused.add(c.ID, att.ID, err.Error())
		n.log.Warn("attachment refused: the peer sent more than its limit", "connection", c.ID, "attachment", att.ID, "err", err)
	}
	if err != nil {
		return Attachment{}, err
	}
	defer tmp.discard()
	unlock, err := n.writing.write(ctx, entityID)
	if err != nil {
		return Attachment{}, err
	}
	defer unlock()
	made, adopted, err := n.earlierAttachment(ctx, et, c, entityID, att, size)
	if err != nil {
		return made, err
	}
	if !adopted {
		made, err = et.AddAttachment(ctx, entityID, att.Name, size, func() (io.ReadCloser, error) { return os.Open(tmp.Name()) })
		if err != nil {
			return made, err
		}
	}
	// The tracker write is made: its record is written even if the node
	// is stopping, or the next start would have to find it again.
	ctx = context.WithoutCancel(ctx)
	err = n.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := n.st.PutLink(ctx, tx, store.ItemLink{ConnectionID: c.ID, Kind: store.LinkAttachment, LocalID: made.ID,
			RemoteID: att.ID, EntityID: entityID, Fingerprint: sum}); err != nil {
			return err
		}
		// The file added is this sync's own write (see seenTimes).
		if err := n.st.PutSeen(ctx, tx, c.ID, entityID, store.SeenWrite, made.CreatedAt); err != nil {
			return err
		}
		return n.st.EndWrite(ctx, tx, c.ID, store.LinkAttachment, att.ID)
	})
	return made, err
}

// earlierAttachment finds the file an interrupted earlier upload of att
// may have made: an unlinked attachment with the same name and size.
func (n *pipeline) earlierAttachment(ctx context.Context, et EntityTracker, c store.Connection, entityID string, att Attachment, size int64) (Attachment, bool, error) {
	earlier, err := n.st.BeginWrite(ctx, c.ID, store.LinkAttachment, att.ID, entityID, n.now())
	if err != nil || earlier.IsZero() {
		return Attachment{}, false, err
	}
	e, err := et.Get(ctx, entityID)
	if err != nil {
		return Attachment{}, false, err
	}
	links, err := n.st.Links(ctx, nil, c.ID, store.LinkAttachment, entityID)
	if err != nil {
		return Attachment{}, false, err
	}
	for _, a := range e.Attachments {
		linked := slices.ContainsFunc(links, func(l store.ItemLink) bool { return l.LocalID == a.ID })
		if !linked && a.Name == att.Name && a.Size == size {
			return a, true, nil
		}
	}
	return Attachment{}, false, nil
}

// OpenAttachment streams an attachment of an entity this node sent in
// event eventID, for the peer that is copying it. Only attachments named in
// that event's replica are served.
func (n *pipeline) OpenAttachment(ctx context.Context, c Connection, eventID, attachmentID string) (io.ReadCloser, Attachment, error) {
	ev, err := n.st.SyncEvent(ctx, nil, c.ID, eventID)
	if err != nil || ev.Direction != store.DirectionOut {
		return nil, Attachment{}, Errorf(ErrNotFound, "no outgoing sync %s on this connection", eventID)
	}
	var r Replica
	if err := json.Unmarshal(ev.Payload, &r); err != nil {
		return nil, Attachment{}, err
	}
	if !slices.ContainsFunc(r.Attachments, func(a Attachment) bool { return a.ID == attachmentID }) {
		return nil, Attachment{}, Errorf(ErrNotFound, "sync %s carries no attachment %s", eventID, attachmentID)
	}
	et, err := n.entities()
	if err != nil {
		return nil, Attachment{}, err
	}
	return et.OpenAttachment(ctx, attachmentID)
}
