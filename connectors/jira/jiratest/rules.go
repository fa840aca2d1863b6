package jiratest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/tandem-sync/tandem/connectors/internal/oapitest"
)

// basicPresent stands in for the document's security: Basic auth with any
// credentials satisfies it; whether they are right is the handler's to say.
func basicPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "basicAuth" {
		return errors.New("only Basic auth is used")
	}
	if _, _, ok := in.RequestValidationInput.Request.BasicAuth(); !ok {
		return errors.New("no Basic credentials")
	}
	return nil
}

// jiraRequestRules checks what the attachment upload's description asks
// beside its schema.
func jiraRequestRules(r *http.Request, route *routers.Route, body []byte, complete bool) []string {
	var out []string
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" && complete {
		// kin-openapi can't decode the upload's array schema; the
		// document's point, parts named file, is checked here instead.
		if err := fileParts(r.Header.Get("Content-Type"), body); err != nil {
			out = append(out, "request body "+err.Error())
		}
	}
	if strings.HasSuffix(route.Path, "/attachments") && r.Method == http.MethodPost &&
		!strings.EqualFold(r.Header.Get("X-Atlassian-Token"), "no-check") {
		out = append(out, fmt.Sprintf("X-Atlassian-Token is %q, want no-check (the upload is blocked without it)",
			r.Header.Get("X-Atlassian-Token")))
	}
	return out
}

// fileParts checks that a multipart body has at least one part named file.
func fileParts(contentType string, body []byte) error {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("has a bad Content-Type %q: %w", contentType, err)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return fmt.Errorf("has no multipart part named file (%v)", err)
		}
		if p.FormName() == "file" {
			return nil
		}
	}
}

// jiraResponseRules checks what Jira's gateway sends with a 429, whatever
// the operation.
func jiraResponseRules(status int, h http.Header, _ []byte, _ bool) []string {
	if status != http.StatusTooManyRequests {
		return nil
	}
	out := oapitest.RetryAfter(h)
	for _, name := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Reason"} {
		if h.Get(name) == "" {
			out = append(out, "429 without "+name)
		}
	}
	return out
}
