package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

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
