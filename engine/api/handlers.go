package api

import (
	"net/http"

	"github.com/tandem-sync/tandem/engine"
)

func (s *server) listConnections(w http.ResponseWriter, r *http.Request) {
	cs, err := s.node.Connections(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if cs == nil {
		cs = []engine.Connection{}
	}
	writeJSON(w, http.StatusOK, cs)
}

func (s *server) getConnection(w http.ResponseWriter, r *http.Request) {
	c, err := s.node.ConnectionByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *server) setActive(active bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.node.SetActive(r.Context(), r.PathValue("id"), active)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	}
}

func (s *server) deleteConnection(w http.ResponseWriter, r *http.Request) {
	if err := s.node.Delete(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) projects(w http.ResponseWriter, r *http.Request) {
	ps, err := s.node.Projects(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ps == nil {
		ps = []engine.Project{}
	}
	writeJSON(w, http.StatusOK, ps)
}

func (s *server) probe(w http.ResponseWriter, r *http.Request) {
	var req ProbeRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	info, err := s.node.Probe(r.Context(), req.URL)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *server) invite(w http.ResponseWriter, r *http.Request) {
	var req InviteRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, code, err := s.node.Invite(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, InviteResponse{Connection: c, Code: code})
}

func (s *server) renewInvitation(w http.ResponseWriter, r *http.Request) {
	c, code, err := s.node.RenewInvitation(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, InviteResponse{Connection: c, Code: code})
}

func (s *server) accept(w http.ResponseWriter, r *http.Request) {
	var req engine.AcceptRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.node.Accept(r.Context(), req.Code, req.Project)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (s *server) connect(w http.ResponseWriter, r *http.Request) {
	var req ConnectRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.node.Connect(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (s *server) redeem(w http.ResponseWriter, r *http.Request) {
	var req engine.RedeemRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	resp, err := s.node.Redeem(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *server) ping(w http.ResponseWriter, r *http.Request, c engine.Connection, body []byte) {
	var req engine.PingRequest
	if err := decodeBytes(body, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.node.HandlePing(r.Context(), c, req); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"connection": c.ID})
}

func (s *server) setTrigger(w http.ResponseWriter, r *http.Request) {
	var req TriggerRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.node.SetTrigger(r.Context(), r.PathValue("id"), req.On)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
