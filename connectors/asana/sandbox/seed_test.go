package sandbox

import (
	"encoding/json"
	"testing"
)

// TestSeedIsDeterministic: two sandboxes, even with different rand seeds,
// start with the same gids and content.
func TestSeedIsDeterministic(t *testing.T) {
	snapshot := func(seed int64) string {
		sb, err := New(WithRandSeed(seed))
		if err != nil {
			t.Fatal(err)
		}
		sb.st.mu.RLock()
		defer sb.st.mu.RUnlock()
		rc := &renderCtx{s: sb, st: sb.st, base: "http://x"}
		var out []any
		for _, p := range sb.st.projects {
			for _, tk := range p.tasks {
				out = append(out, rc.render(sb.schema.task, tk, parseFields([]string{"name,html_notes,resource_subtype,memberships.section.name,assignee,completed"}), nil))
				for _, s := range tk.stories {
					out = append(out, rc.render(sb.schema.story, s, parseFields([]string{"text,type,resource_subtype,created_by"}), nil))
				}
				for _, a := range tk.attachments {
					out = append(out, rc.render(sb.schema.attachment, a, parseFields([]string{"name,size"}), nil))
				}
			}
		}
		b, _ := json.Marshal(out)
		return string(b)
	}
	a, b := snapshot(1), snapshot(2)
	if a != b {
		t.Fatalf("seed differs between runs")
	}
}

func TestSeedContent(t *testing.T) {
	e := newEnv(t)
	company := e.project("Company")
	subtypes := map[string]int{}
	var withComments, withNotes int
	for _, tk := range e.ok(200, "GET", "/projects/"+company+"/tasks?opt_fields=resource_subtype,html_notes", nil).list() {
		subtypes[tk["resource_subtype"].(string)]++
		if tk["html_notes"] != "<body></body>" {
			withNotes++
		}
		if err := validateRichText("html_notes", tk["html_notes"].(string)); err != nil {
			t.Errorf("seed task %v has invalid rich text: %v", tk["gid"], err)
		}
		for _, s := range e.ok(200, "GET", "/tasks/"+tk["gid"].(string)+"/stories", nil).list() {
			if s["resource_subtype"] == "comment_added" {
				withComments++
				break
			}
		}
	}
	if subtypes["default_task"] < 6 || subtypes["milestone"] < 2 || subtypes["approval"] < 2 {
		t.Errorf("subtypes = %v", subtypes)
	}
	if withNotes < 9 || withComments < 5 {
		t.Errorf("%d tasks with notes, %d with comments", withNotes, withComments)
	}
	// Some comments come from other people than the token's user.
	me := e.ok(200, "GET", "/users/me", nil).data()["gid"]
	others := 0
	for _, tk := range e.ok(200, "GET", "/projects/"+company+"/tasks", nil).list() {
		for _, s := range e.ok(200, "GET", "/tasks/"+tk["gid"].(string)+"/stories", nil).list() {
			if s["resource_subtype"] == "comment_added" && s["created_by"].(map[string]any)["gid"] != me {
				others++
			}
		}
	}
	if others == 0 {
		t.Errorf("every seed comment is by the token's user")
	}
}

// TestExtraProjects: WithExtraProjects adds empty projects after the
// seed's, listed by the API with its own; a negative count is refused.
func TestExtraProjects(t *testing.T) {
	e := newEnv(t, WithExtraProjects(2))
	for _, name := range []string{"Test", ExtraProjectName(1), ExtraProjectName(2)} {
		gid := e.project(name)
		if tasks := e.ok(200, "GET", "/projects/"+gid+"/tasks", nil).list(); name != "Test" && len(tasks) != 0 {
			t.Errorf("%s has %d tasks; want none", name, len(tasks))
		}
	}
	if n := len(e.sb.Projects()); n != 4 {
		t.Errorf("%d projects; want the seed's 2 and 2 extra", n)
	}
	if _, err := New(WithExtraProjects(-1)); err == nil {
		t.Error("New(WithExtraProjects(-1)) succeeded; want an error")
	}
}
