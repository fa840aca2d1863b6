package api

import (
	"net/http"
	"strconv"

	"github.com/tandem-sync/tandem/engine"
	"github.com/tandem-sync/tandem/engine/adminapi"
)

// Script mode's admin routes: thin, as the rest.

func (s *server) upgrade(w http.ResponseWriter, r *http.Request) {
	sc, err := s.node.Upgrade(r.Context(), r.PathValue("id"))
	s.answer(w, r, sc, err)
}

func (s *server) scripts(w http.ResponseWriter, r *http.Request) {
	sc, err := s.node.Scripts(r.Context(), r.PathValue("id"))
	s.answer(w, r, sc, err)
}

func (s *server) saveDraft(w http.ResponseWriter, r *http.Request) {
	var req adminapi.DraftRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	sc, err := s.node.SaveDraft(r.Context(), r.PathValue("id"), req)
	s.answer(w, r, sc, err)
}

func (s *server) publish(w http.ResponseWriter, r *http.Request) {
	var req adminapi.PublishRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.node.Publish(r.Context(), r.PathValue("id"), req)
	s.answer(w, r, v, err)
}

func (s *server) scriptVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := s.node.ScriptVersions(r.Context(), r.PathValue("id"))
	s.answer(w, r, vs, err)
}

func (s *server) compareScripts(w http.ResponseWriter, r *http.Request) {
	version := func(name string) (int, error) {
		raw := r.URL.Query().Get(name)
		v, err := strconv.Atoi(raw)
		if err != nil || v < 0 {
			return 0, engine.Errorf(engine.ErrBadRequest, "%s=%q is not a version (0 is the draft)", name, raw)
		}
		return v, nil
	}
	from, err := version("from")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	to, err := version("to")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.node.CompareScripts(r.Context(), r.PathValue("id"), from, to)
	s.answer(w, r, d, err)
}

func (s *server) testRun(w http.ResponseWriter, r *http.Request) {
	var req adminapi.TestRunRequest
	if err := decode(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	run, err := s.node.TestRun(r.Context(), r.PathValue("id"), req)
	s.answer(w, r, run, err)
}

// answer writes v, or err.
func (s *server) answer(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
