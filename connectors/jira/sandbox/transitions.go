package sandbox

import (
	"encoding/json"
	"net/http"
)

// getTransitions serves GET /issue/{issueIdOrKey}/transitions: the
// transitions the issue's status allows, as {expand, transitions}, or only
// the one transitionId names (none when it is not available, as Jira
// answers). The sandbox's transitions have no screen and no conditions.
func (s *Sandbox) getTransitions(c *call) error {
	q := c.r.URL.Query()
	for _, name := range []string{"skipRemoteOnlyCondition", "includeUnavailableTransitions", "sortByOpsBarAndStatus"} {
		if v := q.Get(name); v != "" && v != "true" && v != "false" {
			return badRequest("The value '%s' is not valid for the parameter '%s'.", v, name)
		}
	}
	only := q.Get("transitionId")
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	is := s.st.issue(c.r.PathValue("issueIdOrKey"))
	if is == nil {
		return issueNotFound()
	}
	list := []any{}
	for _, t := range is.project.workflow.available(is.cur.status) {
		if only != "" && t.id != only {
			continue
		}
		o := &object{}
		o.Set("id", t.id)
		o.Set("name", t.name)
		o.Set("to", c.renderStatus(t.to))
		o.Set("hasScreen", false)
		o.Set("isGlobal", len(t.from) == 0)
		o.Set("isInitial", false)
		o.Set("isAvailable", true)
		o.Set("isConditional", false)
		o.Set("isLooped", false)
		list = append(list, o)
	}
	o := &object{}
	o.Set("expand", "transitions")
	o.Set("transitions", list)
	writeJSON(c.w, http.StatusOK, o)
	return nil
}

// doTransition serves POST /issue/{issueIdOrKey}/transitions with
// {"transition":{"id":…}} → 204. A transition the issue's status does not
// allow is 400, as Jira answers; the sandbox's transitions have no screen,
// so fields or update operations in the body are refused too.
func (s *Sandbox) doTransition(c *call) error {
	body, err := c.decodeJSON()
	if err != nil {
		return err
	}
	var id string
	for k, v := range body {
		switch k {
		case "transition":
			ref, _, _ := reference(v)
			id = ref
		case "fields", "update":
			var m map[string]json.RawMessage
			if json.Unmarshal(v, &m) != nil {
				return badRequest("Can not deserialize '%s': it must be an object.", k)
			}
			errs := map[string]string{}
			for name := range m {
				errs[name] = "Field '" + name + "' cannot be set. It is not on the appropriate screen, or unknown."
			}
			if len(errs) > 0 {
				return fieldErrors(errs)
			}
		case "historyMetadata", "properties":
		default:
			return badRequest("Unrecognized field \"%s\".", k)
		}
	}
	if id == "" {
		return badRequest("Missing 'transition' identifier")
	}
	return s.withIssue(c, func(st *store, is *issue) error {
		for _, t := range is.project.workflow.available(is.cur.status) {
			if t.id == id {
				is.cur.status = t.to
				st.indexed(is, st.tick())
				c.w.WriteHeader(http.StatusNoContent)
				return nil
			}
		}
		return badRequest("Transition id '%s' is not valid for this issue.", id)
	})
}
