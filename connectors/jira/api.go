package jira

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	_ "time/tzdata" // JQL dates need the account's zone even where the OS has no zone database
)

// pageSize is the page size asked of paged lists; Jira may cap it lower.
const pageSize = 100

// Myself returns the account the credentials belong to; it is the cheap way
// to check them (401 on bad ones).
func (c *Client) Myself(ctx context.Context) (User, error) {
	var u User
	err := c.do(ctx, request{method: http.MethodGet, path: "/myself", endpoint: "/myself"}, &u)
	if err == nil && u.AccountID == "" {
		err = fmt.Errorf("jira: GET /myself: the answer names no account")
	}
	return u, err
}

// ServerInfo describes the site.
func (c *Client) ServerInfo(ctx context.Context) (ServerInfo, error) {
	var s ServerInfo
	err := c.do(ctx, request{method: http.MethodGet, path: "/serverInfo", endpoint: "/serverInfo"}, &s)
	return s, err
}

// tzFresh is how long the account's time zone is trusted before /myself
// is asked again: a user may change it in their profile.
const tzFresh = time.Hour

// Location is the account's time zone (from /myself, read again every
// hour), in which Jira reads the dates in JQL. The zone database is built
// in (time/tzdata), so a machine without one still reads every zone; a
// zone Go doesn't know, or none, is UTC.
func (c *Client) Location(ctx context.Context) (*time.Location, error) {
	c.tzMu.Lock()
	defer c.tzMu.Unlock()
	if c.tz != nil && time.Since(c.tzAt) < tzFresh {
		return c.tz, nil
	}
	me, err := c.Myself(ctx)
	if err != nil {
		return nil, err
	}
	c.tz, c.tzAt = c.loadLocation(me.TimeZone), time.Now()
	return c.tz, nil
}

// setLocation keeps the time zone /myself named, when it was read anyway.
func (c *Client) setLocation(name string) {
	c.tzMu.Lock()
	defer c.tzMu.Unlock()
	c.tz, c.tzAt = c.loadLocation(name), time.Now()
}

func (c *Client) loadLocation(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		c.log.Warn("jira: unknown account time zone; JQL dates will be read as UTC", "zone", name)
		return time.UTC
	}
	return l
}

// projectPage is one page of GET /project/search.
type projectPage struct {
	StartAt    int       `json:"startAt"`
	MaxResults int       `json:"maxResults"`
	Total      int       `json:"total"`
	IsLast     *bool     `json:"isLast"`
	Values     []Project `json:"values"`
}

// Projects lists every project the account can see, following startAt
// until Jira says the page is the last.
func (c *Client) Projects(ctx context.Context) ([]Project, error) {
	var all []Project
	for start := 0; ; {
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {strconv.Itoa(pageSize)}}
		var p projectPage
		if err := c.do(ctx, request{method: http.MethodGet, path: "/project/search", endpoint: "/project/search", query: q}, &p); err != nil {
			return all, err
		}
		all = append(all, p.Values...)
		last := len(p.Values) == 0
		if p.IsLast != nil {
			last = last || *p.IsLast
		} else {
			last = last || (p.Total > 0 && p.StartAt+len(p.Values) >= p.Total)
		}
		if last {
			return all, nil
		}
		start = p.StartAt + len(p.Values)
	}
}

// Project reads a project by id or key, with its issue types.
func (c *Client) Project(ctx context.Context, idOrKey string) (Project, error) {
	if idOrKey == "" {
		return Project{}, fmt.Errorf("jira: a project key is required: %w", ErrInvalidRequest)
	}
	var p Project
	err := c.do(ctx, request{method: http.MethodGet, path: "/project/" + url.PathEscape(idOrKey), endpoint: "/project/{key}"}, &p)
	if err == nil && p.ID == "" {
		err = fmt.Errorf("jira: GET /project/%s: the answer names no project", idOrKey)
	}
	return p, err
}
