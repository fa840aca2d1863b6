package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tandem-sync/tandem/connectors/jira/adf"
)

// EmptyComment is the rich text written in place of a comment with nothing
// to show (no text, or only blank lines: an Asana comment whose content
// does not convert, say). Jira refuses such a comment with 400 "Comment
// body can not be empty!", and a sync that retried it would fail forever,
// holding back the item's other changes; the placeholder keeps the comment
// in its place in the conversation and says why it reads as it does.
const EmptyComment = "<body><em>(empty comment)</em></body>"

// commentDoc converts a comment's rich text to ADF, EmptyComment's if it
// has nothing Jira would show.
func commentDoc(rich string) (json.RawMessage, error) {
	doc, err := adf.FromRichText(rich)
	if err != nil || !blankDoc(doc) {
		return doc, err
	}
	return adf.FromRichText(EmptyComment)
}

// blankDoc reports whether an ADF document is one Jira refuses as an empty
// comment: none at all, no content, or only paragraphs of hard breaks and
// whitespace. Anything else (a rule, a mention) is content.
func blankDoc(doc json.RawMessage) bool {
	if len(doc) == 0 || string(doc) == "null" {
		return true
	}
	var n struct {
		Type    string            `json:"type"`
		Text    *string           `json:"text"`
		Content []json.RawMessage `json:"content"`
	}
	if json.Unmarshal(doc, &n) != nil {
		return false
	}
	switch n.Type {
	case "text":
		return n.Text == nil || strings.TrimSpace(*n.Text) == ""
	case "hardBreak":
		return true
	case "doc", "paragraph":
		for _, c := range n.Content {
			if !blankDoc(c) {
				return false
			}
		}
		return true
	}
	return false
}

// Comments lists an issue's comments, oldest first, following startAt
// until Jira's total is reached.
func (c *Client) Comments(ctx context.Context, idOrKey string) ([]Comment, error) {
	if err := checkIssue(idOrKey); err != nil {
		return nil, err
	}
	var all []Comment
	seen := map[ID]bool{}
	for start := 0; ; {
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {strconv.Itoa(pageSize)}, "orderBy": {"created"}}
		var p CommentPage
		if err := c.do(ctx, request{method: http.MethodGet, path: "/issue/" + idOrKey + "/comment", endpoint: "/issue/{id}/comment", query: q}, &p); err != nil {
			return all, err
		}
		for _, cm := range p.Comments {
			if !seen[cm.ID] {
				seen[cm.ID] = true
				all = append(all, cm)
			}
		}
		start += len(p.Comments)
		if len(p.Comments) == 0 || start >= p.Total {
			return all, nil
		}
	}
}

type commentBody struct {
	Body json.RawMessage `json:"body"`
}

// AddComment adds a comment (an ADF document) to an issue. A failure after
// the request reached Jira matches ErrOutcomeUnknown: it is not sent again.
func (c *Client) AddComment(ctx context.Context, idOrKey string, body json.RawMessage) (Comment, error) {
	if err := checkIssue(idOrKey); err != nil {
		return Comment{}, err
	}
	data, err := json.Marshal(commentBody{Body: body})
	if err != nil {
		return Comment{}, fmt.Errorf("jira: encoding a comment on %s: %w", idOrKey, err)
	}
	var cm Comment
	err = c.do(ctx, request{method: http.MethodPost, path: "/issue/" + idOrKey + "/comment", endpoint: "/issue/{id}/comment", body: data, issue: idOrKey}, &cm)
	if err != nil {
		return Comment{}, err
	}
	if cm.ID == "" {
		return Comment{}, fmt.Errorf("jira: POST /issue/%s/comment: the answer names no comment", idOrKey)
	}
	c.wrote(idOrKey)
	return cm, nil
}

// UpdateComment replaces a comment's body (PUT /issue/{k}/comment/{id}).
func (c *Client) UpdateComment(ctx context.Context, idOrKey, commentID string, body json.RawMessage) (Comment, error) {
	if err := checkIssue(idOrKey); err != nil {
		return Comment{}, err
	}
	if !isIssueID(commentID) {
		return Comment{}, fmt.Errorf("jira: %q is not a comment id: %w", commentID, ErrInvalidRequest)
	}
	data, err := json.Marshal(commentBody{Body: body})
	if err != nil {
		return Comment{}, fmt.Errorf("jira: encoding comment %s on %s: %w", commentID, idOrKey, err)
	}
	var cm Comment
	err = c.do(ctx, request{method: http.MethodPut, path: "/issue/" + idOrKey + "/comment/" + commentID,
		endpoint: "/issue/{id}/comment/{id}", body: data, issue: idOrKey}, &cm)
	if err != nil {
		return Comment{}, err
	}
	if cm.ID == "" {
		return Comment{}, fmt.Errorf("jira: PUT /issue/%s/comment/%s: the answer names no comment", idOrKey, commentID)
	}
	c.wrote(idOrKey)
	return cm, nil
}
