package sandbox

import (
	"errors"

	"github.com/tandem-sync/tandem/engine/tracker/richtext"
)

// validateRichText checks that s is Asana rich text and words a refusal the
// way Asana does, naming the field.
func validateRichText(field, s string) *apiError {
	err := richtext.Validate(s)
	if err == nil {
		return nil
	}
	reason := err.Error()
	if re := (*richtext.Error)(nil); errors.As(err, &re) {
		reason = re.Reason
	}
	return badRequest("%s: XML is invalid: %s", field, reason)
}

// htmlToText derives a plain field (notes, text) from stored rich text,
// which was validated on the way in.
func htmlToText(s string) string {
	if s == "" {
		return ""
	}
	text, err := richtext.ToPlain(s)
	if err != nil {
		return ""
	}
	return text
}

// textToHTML wraps plain text (notes, text on input) as rich text.
func textToHTML(s string) string { return richtext.FromPlain(s) }

// plainText is the story's text field.
func (s *story) plainText() string {
	if s.comment {
		return htmlToText(s.htmlText)
	}
	return s.text
}

// richText is the story's html_text field.
func (s *story) richText() string {
	if s.comment {
		return s.htmlText
	}
	return textToHTML(s.text)
}
