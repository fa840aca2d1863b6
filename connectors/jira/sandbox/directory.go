package sandbox

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/tandem-sync/tandem/connectors/internal/sandboxkit"
)

// Version details reported by serverInfo: a plausible Jira Cloud build.
const (
	serverVersion = "1001.0.0-SNAPSHOT"
	buildNumber   = 100287
)

// getMyself serves GET /myself.
func (s *Sandbox) getMyself(c *call) error {
	me := s.st.me
	o := &object{}
	o.Set("self", c.link("/user?accountId="+me.accountID))
	o.Set("accountId", me.accountID)
	o.Set("accountType", "atlassian")
	o.Set("emailAddress", me.email)
	o.Set("displayName", me.displayName)
	o.Set("active", true)
	o.Set("timeZone", me.loc.String())
	o.Set("locale", "en_US")
	writeJSON(c.w, http.StatusOK, o)
	return nil
}

// userDetails is the sandbox's own account as Jira embeds an author.
func (c *call) userDetails() *object { return c.renderUser(c.s.st.me) }

// renderIssueType writes an issue type as Jira's IssueTypeDetails, as
// projects list them and issues embed them.
func (c *call) renderIssueType(t *issueType) *object {
	o := &object{}
	o.Set("self", c.link("/issuetype/"+t.id))
	o.Set("id", t.id)
	o.Set("description", t.description)
	o.Set("name", t.name)
	o.Set("subtask", false)
	o.Set("hierarchyLevel", t.level)
	return o
}

// getServerInfo serves GET /serverInfo.
func (s *Sandbox) getServerInfo(c *call) error {
	o := &object{}
	o.Set("baseUrl", c.base)
	o.Set("displayUrl", c.base)
	o.Set("version", serverVersion)
	o.Set("versionNumbers", []int{1001, 0, 0})
	o.Set("deploymentType", "Cloud")
	o.Set("buildNumber", buildNumber)
	o.Set("buildDate", "2026-11-02T00:00:00.000+0000")
	o.Set("serverTime", c.stamp(c.now))
	o.Set("scmInfo", "57a0ca5b4a0bb0ac5f3fee4764acb1c14e4d7e71")
	o.Set("serverTitle", s.site)
	writeJSON(c.w, http.StatusOK, o)
	return nil
}

// renderProject writes a project as Jira's Project; full adds what
// GET /project/{key} carries beyond the search page (issue types).
func (c *call) renderProject(p *project, full bool) *object {
	o := &object{}
	o.Set("expand", "description,lead,issueTypes,url,projectKeys,permissions,insight")
	o.Set("self", c.link("/project/"+p.id))
	o.Set("id", p.id)
	o.Set("key", p.key)
	o.Set("name", p.name)
	if full {
		o.Set("description", p.description)
		types := make([]any, len(p.types))
		for i, t := range p.types {
			types[i] = c.renderIssueType(t)
		}
		o.Set("issueTypes", types)
	}
	o.Set("projectTypeKey", "software")
	o.Set("simplified", true)
	o.Set("style", "next-gen")
	o.Set("isPrivate", false)
	o.Set("properties", map[string]any{})
	return o
}

// searchProjects serves GET /project/search: offset paging, at most 100 a
// page, nextPage only when more follow.
func (s *Sandbox) searchProjects(c *call) error {
	startAt, maxResults, err := c.pageParams(50, 100)
	if err != nil {
		return err
	}
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	all := s.st.projects
	page := window(all, startAt, maxResults)
	values := make([]any, len(page))
	for i, p := range page {
		values[i] = c.renderProject(p, false)
	}
	last := startAt+len(page) >= len(all)
	q := c.r.URL.Query()
	o := &object{}
	o.Set("self", c.base+c.r.URL.RequestURI())
	if !last {
		q.Set("startAt", itoa(startAt+len(page)))
		q.Set("maxResults", itoa(maxResults))
		o.Set("nextPage", c.link("/project/search?"+q.Encode()))
	}
	o.Set("maxResults", maxResults)
	o.Set("startAt", startAt)
	o.Set("total", len(all))
	o.Set("isLast", last)
	o.Set("values", values)
	writeJSON(c.w, http.StatusOK, o)
	return nil
}

// getProject serves GET /project/{projectIdOrKey}.
func (s *Sandbox) getProject(c *call) error {
	ref := c.r.PathValue("projectIdOrKey")
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	p := s.st.project(ref)
	if p == nil {
		return newError(http.StatusNotFound, "No project could be found with key '%s'.", ref)
	}
	writeJSON(c.w, http.StatusOK, c.renderProject(p, true))
	return nil
}

// browse serves the web page an issue link (/browse/KEY) points at, so
// links printed by tandem open in a browser: the summary, the description,
// the comments with their authors and the attachments with working
// download links. Like Jira's, it needs no API token here.
func (s *Sandbox) browse(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	is := s.st.issue(key)
	if is == nil {
		sandboxkit.WritePageNotFound(w, "Issue "+key+" does not exist or you do not have permission to see it.")
		return
	}
	me := s.st.me
	p := sandboxkit.Page{Site: s.site + " · Jira sandbox", Ref: is.key, Kind: is.cur.itype.name,
		Project: is.project.name, Summary: is.cur.summary, Description: adfLines(is.cur.description)}
	for _, cm := range is.cur.comments {
		p.Comments = append(p.Comments, sandboxkit.PageComment{Author: me.displayName,
			When: cm.created.In(me.loc).Format(sandboxkit.PageTime), Text: adfLines(cm.body)})
	}
	exp := strconv.FormatInt(s.clk.now().Add(sandboxkit.PageLinkLifetime).Unix(), 10)
	for _, a := range is.cur.attachments {
		q := url.Values{"name": {a.filename}, "expires": {exp}, "sig": {s.mediaSig(a.id, exp)}}
		p.Attachments = append(p.Attachments, sandboxkit.PageAttachment{Name: a.filename,
			URL: mediaPrefix + a.id + "/binary?" + q.Encode(), Size: int64(len(a.data))})
	}
	sandboxkit.WritePage(w, p)
}
