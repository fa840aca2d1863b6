package sandbox

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tandem-sync/tandem/connectors/internal/sandboxkit"
)

// taskPage serves a task's permalink_url (/0/<project>/<task>) as a
// read-only web page, so the links tandem prints open in a browser: the
// summary, the description, the comments with their authors and the
// attachments with working download links. Like Asana's web app it is
// outside /api/1.0 and needs no token; the project part of the path is
// not checked, as a task moved to another project keeps its old links.
func (s *Sandbox) taskPage(w http.ResponseWriter, r *http.Request) {
	gid := r.PathValue("task")
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	var t *task
	if isGID(gid) {
		t = s.st.task(gid)
	}
	if t == nil {
		sandboxkit.WritePageNotFound(w, "No task "+gid+" in the "+s.st.ws.name+" Asana sandbox: it may have been deleted.")
		return
	}
	p := sandboxkit.Page{Site: s.st.ws.name + " · Asana sandbox", Ref: t.gid, Kind: "Task",
		Summary: t.name, Description: htmlToText(t.htmlNotes)}
	if t.subtype == "milestone" {
		p.Kind = "Milestone"
	}
	if len(t.memberships) > 0 {
		p.Project = t.memberships[0].project.name
	}
	for _, x := range t.stories {
		if !x.comment {
			continue
		}
		author := "someone"
		if x.createdBy != nil {
			author = x.createdBy.name
		}
		p.Comments = append(p.Comments, sandboxkit.PageComment{Author: author,
			When: x.createdAt.Format(sandboxkit.PageTime), Text: x.plainText()})
	}
	exp := strconv.FormatInt(time.Now().Add(sandboxkit.PageLinkLifetime).Unix(), 10)
	for _, a := range t.attachments {
		u := a.url
		if !a.external {
			u = filesPrefix + a.gid + "?expires=" + exp + "&sig=" + s.fileSig(a.gid, exp)
		}
		p.Attachments = append(p.Attachments, sandboxkit.PageAttachment{Name: a.name, URL: u, Size: a.size})
	}
	sandboxkit.WritePage(w, p)
}
