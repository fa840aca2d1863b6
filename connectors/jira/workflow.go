package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Transition is a move an issue's workflow allows from its present status.
type Transition struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// To is the status the transition leads to.
	To Status `json:"to"`
}

// Transitions lists the transitions an issue can take now (GET
// /issue/{idOrKey}/transitions), in the workflow's order. An issue's
// status can't be edited: it changes only through one of these.
func (c *Client) Transitions(ctx context.Context, idOrKey string) ([]Transition, error) {
	if err := checkIssue(idOrKey); err != nil {
		return nil, err
	}
	var out struct {
		Transitions []Transition `json:"transitions"`
	}
	err := c.do(ctx, request{method: http.MethodGet, path: "/issue/" + idOrKey + "/transitions", endpoint: "/issue/{id}/transitions"}, &out)
	return out.Transitions, err
}

// DoTransition takes an issue through a transition (POST
// /issue/{idOrKey}/transitions, 204).
func (c *Client) DoTransition(ctx context.Context, idOrKey, transitionID string) error {
	if err := checkIssue(idOrKey); err != nil {
		return err
	}
	if transitionID == "" {
		return fmt.Errorf("jira: a transition of issue %s needs its id: %w", idOrKey, ErrInvalidRequest)
	}
	body, err := json.Marshal(map[string]any{"transition": map[string]string{"id": transitionID}})
	if err != nil {
		return fmt.Errorf("jira: encoding a transition of %s: %w", idOrKey, err)
	}
	err = c.do(ctx, request{method: http.MethodPost, path: "/issue/" + idOrKey + "/transitions", endpoint: "/issue/{id}/transitions",
		body: body, issue: idOrKey}, nil)
	if err == nil {
		c.wrote(idOrKey)
	}
	return err
}

// maxUsersFound bounds a user search: an e-mail finds one user, and a
// query that finds more is not an e-mail worth paging through.
const maxUsersFound = 20

// FindUsers searches the site's users (GET /user/search?query=…): Jira
// matches the query against display names and e-mail addresses, a hidden
// e-mail only whole. At most 20 users, in Jira's order.
func (c *Client) FindUsers(ctx context.Context, query string) ([]User, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, fmt.Errorf("jira: a user search needs a query: %w", ErrInvalidRequest)
	}
	q := url.Values{"query": {query}, "maxResults": {fmt.Sprint(maxUsersFound)}}
	var users []User
	err := c.do(ctx, request{method: http.MethodGet, path: "/user/search", endpoint: "/user/search", query: q}, &users)
	return users, err
}
