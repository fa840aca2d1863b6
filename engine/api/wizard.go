package api

import (
	"net/http"
	"strconv"

	"github.com/tandem-sync/tandem/engine"
)

// limitParam reads the optional ?limit=N; absent is 0 (the engine's
// default).
func limitParam(r *http.Request) (int, error) {
	raw := r.URL.Query().Get("limit")
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, engine.Errorf(engine.ErrBadRequest, "limit=%q is not a number", raw)
	}
	return n, nil
}

// connectionRules answers a connection's rules rows, for the Rules tab.
func (s *server) connectionRules(w http.ResponseWriter, r *http.Request) {
	rules, err := s.node.Rules(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rules)
}

func (s *server) connectionStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.node.Stats(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *server) connectionEvents(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	evs, err := s.node.RecentEvents(r.Context(), r.PathValue("id"), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, evs)
}

func (s *server) recentItems(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items, err := s.node.RecentItems(r.Context(), r.URL.Query().Get("project"), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, items)
}

func (s *server) destinationProjects(w http.ResponseWriter, r *http.Request) {
	var req DestinationRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	info, ps, err := s.node.DestinationProjects(r.Context(), req.URL, req.Token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, DestinationResponse{Instance: info, Projects: ps})
}

func (s *server) previewInvitation(w http.ResponseWriter, r *http.Request) {
	var req PreviewRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.node.PreviewInvitation(r.Context(), req.Code)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *server) checkInvitation(w http.ResponseWriter, r *http.Request) {
	var req engine.InvitationCheck
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	resp, err := s.node.CheckInvitation(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
