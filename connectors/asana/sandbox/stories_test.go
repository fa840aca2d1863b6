package sandbox

import (
	"slices"
	"testing"
)

func TestStories(t *testing.T) {
	e := newEnv(t)
	company := e.project("Company")
	gid := e.taskNamed(company, "Update brand guidelines (logo usage)")

	stories := e.ok(200, "GET", "/tasks/"+gid+"/stories", nil).list()
	var comments, system []string
	for _, s := range stories {
		if !slices.Equal(sortedKeys(s), []string{"created_at", "created_by", "gid", "resource_subtype", "resource_type", "text"}) {
			t.Fatalf("compact story has %v", sortedKeys(s))
		}
		if s["resource_subtype"] == "comment_added" {
			comments = append(comments, s["text"].(string))
		} else {
			system = append(system, s["resource_subtype"].(string))
		}
	}
	if len(comments) != 3 || !slices.Contains(system, "name_changed") || !slices.Contains(system, "attachment_added") || !slices.Contains(system, "assigned") {
		t.Fatalf("comments %q, system stories %q", comments, system)
	}
	typed := e.ok(200, "GET", "/tasks/"+gid+"/stories?opt_fields=type,resource_subtype,created_by.name,html_text", nil).list()
	for _, s := range typed {
		want := "system"
		if s["resource_subtype"] == "comment_added" {
			want = "comment"
		}
		if s["type"] != want {
			t.Errorf("story %v has type %v", s["gid"], s["type"])
		}
	}

	before := mustTime(t, e.ok(200, "GET", "/tasks/"+gid+"?opt_fields=modified_at", nil).data()["modified_at"])
	c := e.ok(201, "POST", "/tasks/"+gid+"/stories", map[string]any{"html_text": "<body>Looks <em>great</em> &lt;3</body>"})
	story := c.data()
	sid := story["gid"].(string)
	if story["type"] != "comment" || story["resource_subtype"] != "comment_added" || story["text"] != "Looks great <3" ||
		story["is_edited"] != false || story["is_editable"] != true || story["created_by"].(map[string]any)["name"] != "Alex Rivera" {
		t.Fatalf("created comment = %v", story)
	}
	if _, ok := story["html_text"]; ok {
		t.Errorf("html_text returned without opt_fields")
	}
	if c.header.Get("Location") != e.srv.URL+"/api/1.0/stories/"+sid {
		t.Errorf("Location = %q", c.header.Get("Location"))
	}
	after := mustTime(t, e.ok(200, "GET", "/tasks/"+gid+"?opt_fields=modified_at", nil).data()["modified_at"])
	if !after.After(before) {
		t.Errorf("a new comment did not move the task's modified_at")
	}
	plain := e.ok(201, "POST", "/tasks/"+gid+"/stories?opt_fields=html_text,text", map[string]any{"text": "a < b & c"}).data()
	if plain["html_text"] != "<body>a &lt; b &amp; c</body>" {
		t.Errorf("plain comment stored as %v", plain["html_text"])
	}

	edited := e.ok(200, "PUT", "/stories/"+sid+"?opt_fields=text,html_text,is_edited", map[string]any{"text": "Looks good"}).data()
	if edited["text"] != "Looks good" || edited["is_edited"] != true {
		t.Errorf("edited = %v", edited)
	}
	got := e.ok(200, "GET", "/stories/"+sid, nil).data()
	if got["text"] != "Looks good" || got["target"].(map[string]any)["gid"] != gid {
		t.Errorf("GET story = %v", got)
	}

	// Only one's own comments can change; system stories never.
	var otherComment, systemStory string
	for _, s := range e.ok(200, "GET", "/tasks/"+gid+"/stories?opt_fields=type,created_by", nil).list() {
		me := e.sb.st.me.gid
		switch {
		case s["type"] == "system" && systemStory == "":
			systemStory = s["gid"].(string)
		case s["type"] == "comment" && s["created_by"].(map[string]any)["gid"] != me && otherComment == "":
			otherComment = s["gid"].(string)
		}
	}
	e.fails(403, "Only comment stories can be edited", "PUT", "/stories/"+systemStory, map[string]any{"text": "x"})
	e.fails(403, "Only comment stories can be edited", "DELETE", "/stories/"+systemStory, nil)
	e.fails(403, "Only the author of a comment", "PUT", "/stories/"+otherComment, map[string]any{"text": "x"})

	e.fails(400, "html_text: XML is invalid", "POST", "/tasks/"+gid+"/stories", map[string]any{"html_text": "<body><script>x</script></body>"})
	e.fails(400, "html_text: XML is invalid", "POST", "/tasks/"+gid+"/stories", map[string]any{"html_text": "<body>a &nbsp; b</body>"})
	e.fails(400, "text: Missing input", "POST", "/tasks/"+gid+"/stories", map[string]any{"is_pinned": true})
	e.fails(400, "only specify one of text and html_text", "POST", "/tasks/"+gid+"/stories", map[string]any{"text": "a", "html_text": "<body>a</body>"})
	e.fails(404, "Unknown object", "POST", "/tasks/1299999999999999/stories", map[string]any{"text": "a"})
	e.fails(404, "Unknown object", "GET", "/tasks/1299999999999999/stories", nil)

	e.ok(200, "DELETE", "/stories/"+sid, nil)
	e.fails(404, "Unknown object", "GET", "/stories/"+sid, nil)
	e.fails(404, "Unknown object", "PUT", "/stories/"+sid, map[string]any{"text": "x"})

	page := e.ok(200, "GET", "/tasks/"+gid+"/stories?limit=2", nil)
	if len(page.list()) != 2 || page.body["next_page"] == nil {
		t.Errorf("paged stories = %s", page.raw)
	}
}
