package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// maxUserPage is the most users one page of user search holds.
const maxUserPage = 1000

// seedUser is a person of the site besides the sandbox's own account.
type seedUser struct {
	name, local string
	// domain is the e-mail's domain; "" is the site's own.
	domain string
	hidden bool
}

// seedUsers are the site's people in both seeds (a site has its people
// before it has issues): two of the site's own, one of whom keeps the
// e-mail private, and two guests from the partner company of the demo
// (the Asana sandbox's demo workspace, Acme), so that a demo pair can
// assign by e-mail both ways.
var seedUsers = []seedUser{
	{name: "Dana Whitfield", local: "dana"},
	{name: "Jordan Lee", local: "jordan", hidden: true},
	{name: "Alex Rivera", local: "alex", domain: "acme.example"},
	{name: "Priya Shah", local: "priya", domain: "acme.example"},
}

// seededUsers builds the site's people, in the zone loc, with account ids
// derived from their e-mails so they are the same on every run.
func seededUsers(site string, loc *time.Location) []*user {
	out := make([]*user, 0, len(seedUsers))
	for _, su := range seedUsers {
		domain := su.domain
		if domain == "" {
			domain = domainLabel(site) + ".example"
		}
		email := su.local + "@" + domain
		out = append(out, &user{accountID: accountIDFor(email), displayName: su.name, email: email, loc: loc, emailHidden: su.hidden})
	}
	return out
}

// accountIDFor is a stable account id shaped like Jira's older ones (24
// hex digits).
func accountIDFor(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return "5b10" + hex.EncodeToString(sum[:])[:20]
}

// renderUser writes u as Jira embeds users in issues and comments
// (UserDetails); the e-mail only when its profile shows it.
func (c *call) renderUser(u *user) *object {
	o := &object{}
	o.Set("self", c.link("/user?accountId="+u.accountID))
	o.Set("accountId", u.accountID)
	if !u.emailHidden {
		o.Set("emailAddress", u.email)
	}
	o.Set("avatarUrls", c.avatarURLs(u))
	o.Set("displayName", u.displayName)
	o.Set("active", true)
	o.Set("timeZone", u.loc.String())
	o.Set("accountType", "atlassian")
	return o
}

// avatarURLs are the four sizes Jira links a user's avatar in.
func (c *call) avatarURLs(u *user) *object {
	o := &object{}
	for _, size := range []string{"48x48", "24x24", "16x16", "32x32"} {
		o.Set(size, c.base+"/avatars/"+u.accountID+"?size="+size)
	}
	return o
}

// findUsers serves GET /user/search: users whose display name has a word,
// or whose visible e-mail, starts with query (case-insensitive; a private
// e-mail matches only whole), or the one accountId names; offset paging.
// One of query, accountId or property is required; username is refused,
// as Jira Cloud's privacy mode does.
func (s *Sandbox) findUsers(c *call) error {
	q := c.r.URL.Query()
	if q.Has("username") {
		return badRequest("The query parameter 'username' is not supported in GDPR strict mode.")
	}
	query, accountID := strings.TrimSpace(q.Get("query")), q.Get("accountId")
	if query == "" && accountID == "" && q.Get("property") == "" {
		return badRequest("One of 'query', 'accountId' or 'property' query parameters must be provided.")
	}
	startAt, maxResults, err := c.pageParams(50, maxUserPage)
	if err != nil {
		return err
	}
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	var found []*user
	for _, u := range s.st.users {
		if accountID != "" && u.accountID != accountID {
			continue
		}
		if query != "" && !u.matches(query) {
			continue
		}
		found = append(found, u)
	}
	page := window(found, startAt, maxResults)
	out := make([]any, len(page))
	for i, u := range page {
		o := c.renderUser(u)
		o.Set("locale", "en_US")
		out[i] = o
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

// matches says a user search's query finds u.
func (u *user) matches(query string) bool {
	query = strings.ToLower(query)
	email := strings.ToLower(u.email)
	if email == query || (!u.emailHidden && strings.HasPrefix(email, query)) {
		return true
	}
	for _, w := range strings.Fields(strings.ToLower(u.displayName)) {
		if strings.HasPrefix(w, query) {
			return true
		}
	}
	return strings.HasPrefix(strings.ToLower(u.displayName), query)
}
