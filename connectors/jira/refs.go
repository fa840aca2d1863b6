package jira

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// ParseRef turns what a user pastes into an issue id or key: an issue id
// ("10004") is returned as is; a key ("KAN-19", any case) and a link
// (https://x.atlassian.net/browse/KAN-19, a board or list link with
// ?selectedIssue=KAN-19, or …/issues/KAN-19) give the key, upper case.
// Every method taking an issue accepts both, and Get answers with the id.
// Links may come from any host, because a sandbox's links point at the
// sandbox. Anything else is an error matching tracker.ErrBadRequest that
// shows what a reference looks like.
func (t *Tracker) ParseRef(ref string) (string, error) {
	s := strings.TrimSpace(ref)
	if isIssueID(s) {
		return s, nil
	}
	if k := strings.ToUpper(s); isIssueKey(k) {
		return k, nil
	}
	if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		if k := keyInURL(u); k != "" {
			return k, nil
		}
	}
	return "", refError{ref: ref}
}

// keyInURL finds the issue key in a Jira link, or returns "".
func keyInURL(u *url.URL) string {
	if k := strings.ToUpper(strings.TrimSpace(u.Query().Get("selectedIssue"))); isIssueKey(k) {
		return k
	}
	seg := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := 0; i+1 < len(seg); i++ {
		if seg[i] == "browse" || seg[i] == "issues" {
			if k := strings.ToUpper(seg[i+1]); isIssueKey(k) {
				return k
			}
		}
	}
	return ""
}

// refError is a reference ParseRef can't read. It matches
// tracker.ErrBadRequest, so the engine and its HTTP API treat it as the
// user's input to fix.
type refError struct{ ref string }

func (e refError) Error() string {
	r := e.ref
	if len(r) > 100 {
		r = r[:100] + "…"
	}
	return fmt.Sprintf("jira: %q is not a Jira issue reference: paste the issue's key (such as KAN-19), "+
		"its id (such as 10004) or its link (https://<site>.atlassian.net/browse/KAN-19)", r)
}

func (refError) Is(target error) bool { return target == tracker.ErrBadRequest }
