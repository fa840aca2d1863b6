package api

import (
	"net/http"
	"strconv"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

// The item operations: unexalate, link and history on the admin API, and
// the peer side of unexalate and link.

func (s *server) unexalate(w http.ResponseWriter, r *http.Request) {
	var req adminapi.UnexalateRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.node.Unexalate(r.Context(), req.Connection, req.Ref)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *server) linkItems(w http.ResponseWriter, r *http.Request) {
	var req adminapi.LinkRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.node.LinkItems(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *server) itemHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.writeError(w, r, engine.Errorf(engine.ErrBadRequest, "limit is a number of syncs, not %q", v))
			return
		}
		limit = n
	}
	h, err := s.node.ItemHistory(r.Context(), q.Get("connection"), q.Get("ref"), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *server) receiveUnexalate(w http.ResponseWriter, r *http.Request, c engine.Connection, body []byte) {
	var d engine.UnexalateNotice
	if err := decodeBytes(body, &d); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.node.ReceiveUnexalate(r.Context(), c, d); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": d.ID})
}

func (s *server) receiveLink(w http.ResponseWriter, r *http.Request, c engine.Connection, body []byte) {
	var o engine.LinkOffer
	if err := decodeBytes(body, &o); err != nil {
		s.writeError(w, r, err)
		return
	}
	ans, err := s.node.ReceiveLink(r.Context(), c, o)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}
