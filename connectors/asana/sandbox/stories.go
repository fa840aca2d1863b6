package sandbox

import (
	"encoding/json"
	"net/http"
	"time"
)

// addSystemStory records a system story (name_changed, attachment_added...)
// on t, as Asana does for changes; clients listing comments must filter
// them out. Callers hold the write lock.
func (st *store) addSystemStory(t *task, s *story, by *user, at time.Time) *story {
	s.gid = st.runtimeGID()
	s.task = t
	s.createdAt = at
	s.createdBy = by
	s.source = "api"
	if st.seeding {
		s.source = "web"
	}
	st.objects[s.gid] = s
	t.stories = append(t.stories, s)
	st.storyAdded(s, at)
	return s
}

// addComment records a comment story on t and bumps the task's modified_at.
func (st *store) addComment(t *task, html string, pinned bool, by *user, at time.Time, source string) *story {
	s := &story{gid: st.runtimeGID(), task: t, createdAt: at, createdBy: by, comment: true,
		subtype: "comment_added", htmlText: html, isPinned: pinned, source: source}
	st.objects[s.gid] = s
	t.stories = append(t.stories, s)
	t.touch(at)
	st.storyAdded(s, at)
	return s
}

// commentInput reads text or html_text (exactly one) and is_pinned.
func commentInput(data map[string]json.RawMessage, required bool) (html *string, pinned *bool, err error) {
	text, hasText, err := str(data, "text")
	if err != nil {
		return nil, nil, err
	}
	rich, hasRich, err := str(data, "html_text")
	if err != nil {
		return nil, nil, err
	}
	switch {
	case hasText && hasRich:
		return nil, nil, badRequest("html_text: You may only specify one of text and html_text")
	case hasRich:
		if e := validateRichText("html_text", rich); e != nil {
			return nil, nil, e
		}
		html = &rich
	case hasText:
		h := textToHTML(text)
		html = &h
	case required:
		return nil, nil, missingInput("text")
	}
	if html != nil && htmlToText(*html) == "" {
		return nil, nil, badRequest("text: A comment cannot be empty")
	}
	if v, ok, err := boolean(data, "is_pinned"); err != nil {
		return nil, nil, err
	} else if ok {
		pinned = &v
	}
	if v, ok, err := str(data, "sticker_name"); err != nil {
		return nil, nil, err
	} else if ok && v != "" {
		return nil, nil, badRequest("sticker_name: Stickers are not supported by the sandbox")
	}
	return html, pinned, nil
}

// getTaskStories serves GET /tasks/{task_gid}/stories: comments and system
// stories, oldest first.
func (s *Sandbox) getTaskStories(c *call) error {
	gid, err := c.pathGID("task_gid")
	if err != nil {
		return err
	}
	return listPage(c, s.schema.story, func() ([]*story, error) {
		t := s.st.task(gid)
		if t == nil {
			return nil, unknownObject(gid)
		}
		return t.stories, nil
	})
}

// createStory serves POST /tasks/{task_gid}/stories: a comment, 201.
func (s *Sandbox) createStory(c *call) error {
	gid, err := c.pathGID("task_gid")
	if err != nil {
		return err
	}
	data, sel, err := c.input(s.schema.story)
	if err != nil {
		return err
	}
	html, pinned, err := commentInput(data, true)
	if err != nil {
		return err
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.task(gid)
	if t == nil {
		return unknownObject(gid)
	}
	story := st.addComment(t, *html, pinned != nil && *pinned, st.me, st.tick(), "api")
	c.w.Header().Set("Location", c.location("/stories/"+story.gid))
	return c.writeFull(http.StatusCreated, s.schema.story, story, sel)
}

// getStory serves GET /stories/{story_gid}.
func (s *Sandbox) getStory(c *call) error {
	return getOne(c, "story_gid", s.schema.story, s.st.story)
}

// editable applies Asana's rule: only comments can be edited or deleted,
// and only by their author.
func (st *store) editable(x *story) error {
	if !x.comment {
		return forbidden("Only comment stories can be edited or deleted; %s is a system story (%s)", x.gid, x.subtype)
	}
	if x.createdBy != st.me {
		return forbidden("Only the author of a comment can edit or delete it; %s was written by %s", x.gid, x.createdBy.name)
	}
	return nil
}

// updateStory serves PUT /stories/{story_gid}: edit a comment's text or pin.
func (s *Sandbox) updateStory(c *call) error {
	gid, err := c.pathGID("story_gid")
	if err != nil {
		return err
	}
	data, sel, err := c.input(s.schema.story)
	if err != nil {
		return err
	}
	html, pinned, err := commentInput(data, false)
	if err != nil {
		return err
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	x := st.story(gid)
	if x == nil {
		return unknownObject(gid)
	}
	if err := st.editable(x); err != nil {
		return err
	}
	if pinned != nil {
		x.isPinned = *pinned
	}
	if html != nil && *html != x.htmlText {
		x.htmlText = *html
		x.isEdited = true
		st.storyChanged(x, st.me, st.tick())
	}
	return c.writeFull(http.StatusOK, s.schema.story, x, sel)
}

// deleteStory serves DELETE /stories/{story_gid}.
func (s *Sandbox) deleteStory(c *call) error {
	return deleteOne(c, "story_gid", s.st.story, s.st.deleteComment)
}

// deleteComment removes x from its task, if x is one of our own comments.
// Callers hold the write lock.
func (st *store) deleteComment(x *story) error {
	if err := st.editable(x); err != nil {
		return err
	}
	at := st.tick()
	delete(st.objects, x.gid)
	x.task.stories = removeItem(x.task.stories, x)
	x.task.touch(at) // Asana: "story is trashed on a task" changes modified_at
	st.storyDeleted(x, st.me, at)
	return nil
}
