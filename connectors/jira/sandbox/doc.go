// Package sandbox is an in-memory, thread-safe emulator of the part of the
// Jira Cloud REST API v3 that tandem uses: the operations of
// testdata/jira/openapi-subset.json, plus four the subset lacks (the
// comment edit, an issue's transitions both ways, and user search; below). A
// Sandbox is an http.Handler serving the API under /rest/api/3, so a client
// with base URL http://HOST instead of https://SITE.atlassian.net meets the
// same shapes, status codes, paging, search and limits.
//
// Everything the sandbox links to (self, nextPage, content, the 303
// Location, serverInfo's baseUrl) is built from the incoming request's Host.
// Issues have web pages at http://HOST/browse/KEY: a small read-only HTML
// page (the summary, description, comments and downloadable attachments),
// outside /rest/api/3 and so outside the OpenAPI contract check.
//
// What a client can rely on, as on Jira Cloud:
//
//   - Authentication: every /rest/api/3 request needs Basic auth with
//     Email():Token(); anything else is 401 with
//     {"errorMessages":["Client must be authenticated to access this
//     resource."],"errors":{}}. Every error is such an ErrorCollection; a
//     missing issue is 404 "Issue does not exist or you do not have
//     permission to see it."
//   - Time: timestamps are Jira's "2006-01-02T15:04:05.000-0700", in the
//     user's zone (WithTimeZone). Writes take their time from a
//     millisecond clock that never repeats, so every change gives a newer
//     updated. Adding a comment or attachment, or editing a comment, moves
//     the updated too. An edit that changes nothing does not.
//   - Issues: POST /issue takes fields project, issuetype, summary and
//     description (ADF or null) and answers 201 {id,key,self}; ids count
//     from 10000, keys per project (KAN-1, KAN-2…). PUT /issue/{idOrKey}
//     takes summary, description, issuetype, assignee ({"accountId"} or
//     null), priority ({"name"} or {"id"}, or null), duedate
//     ("yyyy-MM-dd" or null) and labels (no spaces, at most 255
//     characters each; kept sorted and once each) and answers 204 (200
//     with the issue when returnIssue=true); POST /issue takes the last
//     four too. Bad input is 400 with one message per field under errors;
//     other fields, status among them, are "cannot be set".
//     Descriptions and comment bodies are checked as ADF (see adf.go).
//   - Fields: GET /issue returns *all by default; fields takes *all,
//     *navigable, names and -name exclusions; unknown names are ignored.
//     The sandbox keeps summary, description, issuetype, project, created,
//     updated, status (StatusDetails with its statusCategory), assignee
//     (the user, without emailAddress when the profile hides it, or null),
//     priority (or null), duedate (or null), labels, attachment and comment
//     (an object {comments, maxResults, total, startAt} holding up to 5000
//     comments, or WithEmbeddedComments' number, total counting them all;
//     not navigable).
//   - Workflows: a status changes only through a transition. Statuses are
//     the site's: To Do (category new), In Progress and In Review
//     (indeterminate), Done (done). Every project has the simplified
//     workflow's global transitions 11 To Do, 21 In Progress and 31 Done
//     (from any other status); KAN adds 41 "Request review", from In
//     Progress to In Review only, so To Do to In Review has no transition.
//     New issues start in To Do with priority Medium (priorities are Jira
//     Cloud's five defaults). GET /issue/{k}/transitions answers {expand,
//     transitions} with those the status allows (transitionId
//     picks one); POST with {"transition":{"id"}} answers 204, or 400
//     "Transition id 'N' is not valid for this issue." The transitions
//     have no screen: fields or update in the body are "cannot be set".
//     The subset lacks both operations; jiratest checks the answer's
//     transitions against IssueTransition and the body against
//     IssueUpdateDetails.
//   - Users: the sandbox's account and the site's people (both seeds):
//     dana@ and jordan@<site>.example (Jordan's profile hides the e-mail),
//     and alex@ and priya@acme.example, guests from the demo's Asana
//     workspace. GET /user/search takes query (a prefix of a display
//     name's word or of a visible e-mail; a hidden e-mail matches only
//     whole, without regard to case), accountId, startAt and maxResults,
//     and answers an array of User; without query, accountId or property
//     it is 400. The subset lacks it; jiratest checks the answer as an
//     array of User.
//   - Comments: offset paging (maxResults up to 5000, default 100),
//     orderBy created, +created or -created. PUT
//     /rest/api/3/issue/{k}/comment/{id} with {"body":ADF} edits a comment
//     and answers 200 with it: the real API has this operation but the
//     OpenAPI subset does not, so jiratest checks its requests and answers
//     against the subset's Comment schema only. A comment with nothing
//     to show (no body, null, or a doc with no content or only blank
//     paragraphs) is 400 {"errorMessages":[],"errors":{"comment":"Comment
//     body can not be empty!"}}, on add and on edit.
//   - Attachments: uploads need X-Atlassian-Token: no-check (403 "XSRF
//     check failed" otherwise) and one or more multipart parts named file;
//     over WithMaxAttachmentSize is 413. GET /attachment/content/{id}
//     answers 303 to a signed media URL under /media/file/ that needs no
//     credentials and expires after two minutes (403 after); with
//     redirect=false it answers the bytes. Both honour Range.
//   - Search: GET and POST /search/jql with jql, maxResults (default 50,
//     at most 100), fields (default id only), nextPageToken (opaque,
//     signed, bound to the jql, valid an hour) and reconcileIssues (at most
//     50 ids). The answer is {issues, isLast, nextPageToken} with no total;
//     each issue has the fields named as GET /issue renders them, comment
//     and attachment included (a Bulk Exalate's listing).
//     With WithSearchLag the index lags: an issue written less than the lag
//     ago is found in its previous state, or not at all if it is newer than
//     that, unless its id is in reconcileIssues. The removed GET and POST
//     /rest/api/3/search answer 410 Gone, as Jira Cloud does, with the
//     message pointing to /rest/api/3/search/jql.
//   - JQL: clauses joined by AND, then an optional ORDER BY:
//     project = KEY|id|"Name" (or in (…)); issuetype = Name|id (or in);
//     key|id|issue|issuekey = KAN-1|10001 (or in); summary ~ "words" (every
//     word, case-insensitive); updated|created with =, >, >=, <, <= and a
//     date "yyyy-MM-dd HH:mm", "yyyy/MM/dd HH:mm", "yyyy-MM-dd",
//     "yyyy/MM/dd" (minute precision, read in the user's zone) or a period
//     ("-5m", "-1d 2h"); ORDER BY updated|created|key ASC|DESC, comma
//     separated. Without ORDER BY the order is key DESC. A query with no
//     clause is 400 "Unbounded JQL queries are not allowed here…"; OR,
//     NOT, parentheses, other fields or operators are 400 "Error in the
//     JQL Query: …", as are unknown projects, issue types and keys.
//   - Limits: with WithRateLimit(N), N requests per minute per account as a
//     token bucket (N/60 per second, burst N/10); past it 429 with
//     Retry-After (seconds), X-RateLimit-Limit, X-RateLimit-Remaining,
//     X-RateLimit-Reset and RateLimit-Reason: jira-quota-tenant-based.
//     Rejected requests count against the budget.
//   - Faults (WithFaultRate): 500, 503 (with Retry-After) or a connection
//     closed without an answer, before the request changed anything, so
//     retrying is safe.
//
// Deliberate simplifications: the sandbox's account may do everything and
// every user may be assigned; no resolution, components or custom fields;
// JQL knows no status, assignee or labels clauses; the issue-type ids of
// each project are its own (team-managed style); no deletes.
package sandbox
