package asana

import (
	"context"
	"fmt"
	"net/http"

	"github.com/tandem-sync/tandem/engine/tracker/richtext"
)

var storyFields = []string{
	"type", "resource_subtype", "text", "html_text", "created_at", "created_by", "created_by.name", "is_edited",
}

// Comments lists the comments of a task, oldest first. System stories
// (changes Asana records on its own) are left out: they are not synced.
func (c *Client) Comments(ctx context.Context, taskGID string) ([]Story, error) {
	if err := checkGID("task", taskGID); err != nil {
		return nil, err
	}
	all, err := list[Story](ctx, c, "/tasks/"+taskGID+"/stories", "/tasks/{gid}/stories", fields(storyFields...))
	if err != nil {
		return nil, err
	}
	comments := all[:0]
	for _, s := range all {
		if s.Type == StoryTypeComment {
			comments = append(comments, s)
		}
	}
	return comments, nil
}

type storyWrite struct {
	HTMLText string `json:"html_text"`
}

// AddComment adds a comment written as Asana rich text (<body>…</body>).
func (c *Client) AddComment(ctx context.Context, taskGID, htmlText string) (Story, error) {
	if err := checkGID("task", taskGID); err != nil {
		return Story{}, err
	}
	if err := richtext.Validate(htmlText); err != nil {
		return Story{}, fmt.Errorf("asana: commenting on task %s: html_text: %w", taskGID, err)
	}
	return send[Story](ctx, c, http.MethodPost, "/tasks/"+taskGID+"/stories", "/tasks/{gid}/stories",
		fields(storyFields...), storyWrite{HTMLText: htmlText})
}

// EditComment replaces the text of a comment.
func (c *Client) EditComment(ctx context.Context, storyGID, htmlText string) (Story, error) {
	if err := checkGID("story", storyGID); err != nil {
		return Story{}, err
	}
	if err := richtext.Validate(htmlText); err != nil {
		return Story{}, fmt.Errorf("asana: editing comment %s: html_text: %w", storyGID, err)
	}
	return send[Story](ctx, c, http.MethodPut, "/stories/"+storyGID, "/stories/{gid}",
		fields(storyFields...), storyWrite{HTMLText: htmlText})
}

// StoryTask returns the gid of the task a story belongs to. Asana's events
// name a parent only when something is added or removed, so an edited
// comment arrives as a story with no task; this is how change detection
// finds the task (one GET of the story's target).
func (c *Client) StoryTask(ctx context.Context, storyGID string) (string, error) {
	if err := checkGID("story", storyGID); err != nil {
		return "", err
	}
	s, err := get[struct {
		Target *Ref `json:"target"`
	}](ctx, c, "/stories/"+storyGID, "/stories/{gid}", fields("target"))
	if err != nil {
		return "", err
	}
	if s.Target == nil || s.Target.GID == "" {
		return "", fmt.Errorf("asana: story %s has no target task", storyGID)
	}
	return s.Target.GID, nil
}
