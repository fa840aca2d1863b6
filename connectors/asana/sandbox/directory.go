package sandbox

import (
	"net/http"
	"strings"
)

// getUser serves GET /users/{user_gid}: "me", a gid or an e-mail address.
func (s *Sandbox) getUser(c *call) error {
	ref := c.r.PathValue("user_gid")
	sel, err := c.selection(s.schema.user, false)
	if err != nil {
		return err
	}
	if ws := c.r.URL.Query().Get("workspace"); ws != "" && ws != s.st.ws.gid {
		return unknownParam("workspace", ws)
	}
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	u := s.st.user(ref)
	if u == nil {
		if ref != "me" && !isGID(ref) && !strings.Contains(ref, "@") {
			return badRequest("user_gid: Not a Long: %s", ref)
		}
		return unknownObject(ref)
	}
	return c.writeFull(http.StatusOK, s.schema.user, u, sel)
}

// getWorkspaces serves GET /workspaces: the one workspace of the sandbox.
func (s *Sandbox) getWorkspaces(c *call) error {
	return listPage(c, s.schema.workspace, func() ([]*workspace, error) {
		return []*workspace{s.st.ws}, nil
	})
}

// getProjects serves GET /projects (optionally filtered by workspace).
func (s *Sandbox) getProjects(c *call) error {
	ws, err := c.queryGID("workspace")
	if err != nil {
		return err
	}
	if _, err := c.queryGID("team"); err != nil {
		return err
	}
	if c.r.URL.Query().Get("team") != "" {
		// The sandbox's workspace is not an organization, so it has no teams.
		return badRequest("team: The workspace %s is not an organization and has no teams", s.st.ws.gid)
	}
	if ws != "" && ws != s.st.ws.gid {
		return unknownParam("workspace", ws)
	}
	return s.listProjects(c)
}

// getWorkspaceProjects serves GET /workspaces/{workspace_gid}/projects.
func (s *Sandbox) getWorkspaceProjects(c *call) error {
	ws, err := c.pathGID("workspace_gid")
	if err != nil {
		return err
	}
	if ws != s.st.ws.gid {
		return unknownObject(ws)
	}
	return s.listProjects(c)
}

func (s *Sandbox) listProjects(c *call) error {
	sel, err := c.selection(s.schema.project, true)
	if err != nil {
		return err
	}
	archived := false
	switch v := c.r.URL.Query().Get("archived"); v {
	case "", "false":
	case "true":
		archived = true
	default:
		return badRequest("archived: Not a boolean: %s", v)
	}
	pg, err := c.paging()
	if err != nil {
		return err
	}
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	projects := s.st.projects
	if archived {
		projects = nil // no project of the sandbox is ever archived
	}
	return writePage(c, s.schema.project, projects, sel, pg)
}
