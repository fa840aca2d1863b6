// Package sandbox is an in-memory, thread-safe emulator of the part of the
// Asana REST API that tandem uses: exactly the operations of
// testdata/asana/openapi-subset.yaml. A Sandbox is an http.Handler serving
// the API under /api/1.0, so a client pointed at http://HOST/api/1.0
// instead of https://app.asana.com/api/1.0 meets the same envelopes, status
// codes, field selection, pagination, rich-text rules, events and limits.
//
// Everything the sandbox links to (permalink_url, download_url,
// next_page.uri, Location) is built from the incoming request's Host, so
// the handler needs no base URL and works behind httptest.NewServer or any
// listener.
//
// What a client can rely on, as on app.asana.com:
//
//   - Authentication: every /api/1.0 request needs "Authorization: Bearer
//     <Token()>"; anything else is 401 {"errors":[{"message":"Not
//     Authorized"}]}.
//   - Shapes: lists return compact records; single GETs the default full
//     record, without opt-in fields (html_notes, created_by, html_text,
//     num_subtasks...). With opt_fields (or options.fields beside data in a
//     JSON body) an object carries its gid plus exactly the named fields,
//     dotted paths included (memberships.project.name); resource_type comes
//     only when named. An unknown field is a 400.
//   - Pagination: only when limit (1..100) is given; next_page is then an
//     object with an opaque offset, or null on the last page. Offsets are
//     signed, bound to their query and expire after an hour.
//   - Rich text: html_notes and html_text must be XML with a single <body>
//     root and Asana's tags only, else 400 "<field>: XML is invalid: ...".
//     notes and text are derived from them; plain notes or text are stored
//     escaped inside <body>.
//   - Fields beyond Basic: assignee (set by gid, e-mail or "me"; one no
//     user has is 404 "assignee: Unknown object"), completed, due_on; the
//     section in memberships; tags (read in tags; given at create only,
//     by gid); custom fields of type enum, text and number, read in
//     custom_fields (a value for every field of the task's projects) and
//     in a project's custom_field_settings, and set by custom_fields in
//     POST and PUT (field gid to option gid, text or number; null
//     clears). The document has no operation to make tags or fields, to
//     add or remove a task's tags (addTag, removeTag) or to move it to
//     another section (addTask), so the sandbox has none either: its tags
//     and fields come from the demo seed (tags partner, urgent, blocked;
//     fields Priority, Customer and Story points on both projects).
//   - Time: created_at and modified_at come from a monotonic millisecond
//     clock, so every change gives a strictly newer modified_at.
//   - Stories: tasks carry system stories (name_changed, notes_changed,
//     marked_complete, assigned, attachment_added...) next to comments
//     (type "comment", resource_subtype "comment_added"); filter on those.
//     Only one's own comments can be edited or deleted (403 otherwise).
//   - Attachments: uploads are multipart (parent, file) and answer 200 with
//     the compact attachment; over 100 MB is a 400. download_url needs no
//     token but is signed and valid for two minutes (403 after): fetch the
//     attachment again for a fresh one, never store it.
//   - Events: see events.go. The first call, an unknown token, a token of
//     another resource or one older than 24 hours gives 412 with a fresh
//     sync token; then 200 with at most 100 events, has_more and the next
//     token. Every change, including system stories, is an event.
//   - Limits: with WithRateLimit(N), N requests per minute per token as a
//     token bucket (N/60 per second, burst N/10); past it 429 with
//     Retry-After in whole seconds. Rejected requests count against the
//     budget, so wait at least Retry-After before retrying. Independently,
//     at most 50 reads and 15 writes may be in flight; beyond that 429 with
//     Retry-After 1.
//   - Faults (WithFaultRate): 500 with an error phrase, 503, or a connection
//     closed without an answer, always before the request changed anything,
//     so retrying is safe.
//
// Tasks have web pages at their permalink_url, http://HOST/0/<project>/<task>
// (page.go): a small read-only HTML page with the summary, description,
// comments and downloadable attachments, outside /api/1.0 and so outside
// the OpenAPI contract check.
//
// Webhooks are delivered as Asana delivers them: the X-Hook-Secret
// handshake inside POST /webhooks, signed and batched deliveries of the
// resource's events (the same events GET /events reports), retries with
// backoff, deletion after failing for a day, heartbeats; the timings are
// options (WithWebhookHeartbeat...). Unlike Asana, http:// and loopback
// targets are accepted. See hooks.go. Close stops the deliveries.
package sandbox
