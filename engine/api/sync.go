package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

func (s *server) exalate(w http.ResponseWriter, r *http.Request) {
	var req ExalateRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var (
		resp ExalateResponse
		err  error
	)
	switch {
	case req.All && req.Connection == "":
		err = engine.Errorf(engine.ErrBadRequest, "bulk exalate needs the connection (--connection)")
	case req.All:
		// Answered once queued: the bulk is a job (see engine/bulk.go),
		// followed through PatternBulk.
		var b adminapi.Bulk
		b, err = s.node.StartBulk(r.Context(), req.Connection)
		resp = ExalateResponse{Bulk: &b}
	default:
		var ev engine.StageEvent
		ev, err = s.node.Exalate(r.Context(), req.Connection, req.Ref)
		resp.Events = []engine.StageEvent{ev}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if resp.Events == nil {
		resp.Events = []engine.StageEvent{}
	}
	writeJSON(w, http.StatusAccepted, resp)
}

// bulk says how far a Bulk Exalate got; ?events=N adds the syncs of its
// first N items.
func (s *server) bulk(w http.ResponseWriter, r *http.Request) {
	events := 0
	if q := r.URL.Query().Get("events"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 {
			s.writeError(w, r, engine.Errorf(engine.ErrBadRequest, "events must be a count, such as %d", adminapi.BulkEventsListed))
			return
		}
		events = min(n, adminapi.BulkEventsListed)
	}
	b, err := s.node.Bulk(r.Context(), r.PathValue("conn"), r.PathValue("id"), events)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (s *server) status(w http.ResponseWriter, r *http.Request) {
	st, err := s.node.Status(r.Context(), r.URL.Query().Get("connection"), r.URL.Query().Get("ref"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *server) syncStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.node.EventStatus(r.Context(), r.PathValue("conn"), r.PathValue("event"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// events streams stage events as server-sent events, one JSON StageEvent
// per "stage" event, as they happen. ?event=ID keeps one sync's.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	only := r.URL.Query().Get("event")
	ch, stop := s.node.Subscribe()
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, ": stage events follow\n\n")
	flusher.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-stopping(r.Context()):
			return // the node is stopping; the client reconnects to the next run
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if only != "" && ev.EventID != only {
				continue
			}
			data, _ := json.Marshal(ev)
			fmt.Fprintf(w, "event: stage\ndata: %s\n\n", data)
			flusher.Flush()
		}
	}
}

func (s *server) receiveEvent(w http.ResponseWriter, r *http.Request, c engine.Connection, body []byte) {
	var d engine.EventDelivery
	if err := decodeBytes(body, &d); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.node.ReceiveEvent(r.Context(), c, d); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"event": d.Replica.EventID})
}

func (s *server) receiveResult(w http.ResponseWriter, r *http.Request, c engine.Connection, body []byte) {
	var d engine.ResultDelivery
	if err := decodeBytes(body, &d); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.node.ReceiveResult(r.Context(), c, d); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"event": d.Result.EventID})
}

// receiveProgress takes a progress report of one of this node's syncs from
// the node applying it; a report is news, answered at once.
func (s *server) receiveProgress(w http.ResponseWriter, r *http.Request, c engine.Connection, body []byte) {
	var d engine.ProgressDelivery
	if err := decodeBytes(body, &d); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.node.ReceiveProgress(r.Context(), c, d); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"event": d.EventID})
}

func (s *server) attachment(w http.ResponseWriter, r *http.Request, c engine.Connection, _ []byte) {
	rc, att, err := s.node.OpenAttachment(r.Context(), c, r.URL.Query().Get("event"), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer rc.Close()
	// The bytes stream as they come from the tracker; their sha256 follows
	// in a trailer, so the peer checks what it received without either side
	// holding the file.
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Trailer", engine.HeaderContentSHA256)
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, h), rc); err != nil {
		s.log.Warn("streaming an attachment to the peer", "attachment", att.ID, "err", err)
		return
	}
	w.Header().Set(engine.HeaderContentSHA256, hex.EncodeToString(h.Sum(nil)))
}

func (s *server) receiveDeleted(w http.ResponseWriter, r *http.Request, c engine.Connection, body []byte) {
	var d engine.DeletedNotice
	if err := decodeBytes(body, &d); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.node.ReceiveDeleted(r.Context(), c, d); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": d.ID})
}
