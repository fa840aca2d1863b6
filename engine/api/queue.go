package api

import (
	"net/http"
	"strconv"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

// The failing syncs and the sync queue on the admin API.

// listLimit reads ?limit=N; 0 when absent.
func listLimit(r *http.Request, what string) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, engine.Errorf(engine.ErrBadRequest, "limit is a number of %s, not %q", what, v)
	}
	return n, nil
}

func (s *server) syncErrors(w http.ResponseWriter, r *http.Request) {
	limit, err := listLimit(r, "syncs")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.node.Errors(r.Context(), r.URL.Query().Get("connection"), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *server) syncQueue(w http.ResponseWriter, r *http.Request) {
	limit, err := listLimit(r, "syncs")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := s.node.Queue(r.Context(), r.URL.Query().Get("connection"), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

func (s *server) retry(w http.ResponseWriter, r *http.Request) {
	var req adminapi.RetryRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, err := s.node.Retry(r.Context(), req.Connection, req.Event)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

func (s *server) retryAll(w http.ResponseWriter, r *http.Request) {
	var req adminapi.RetryAllRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.node.RetryAll(r.Context(), req.Connection)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, adminapi.RetryAllResult{Retried: n})
}

func (s *server) resolve(w http.ResponseWriter, r *http.Request) {
	var req adminapi.ResolveRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, err := s.node.Resolve(r.Context(), req.Connection, req.Event, req.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ev)
}
