package adf

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/tandem-sync/tandem/engine/tracker/richtext"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/ so that plain `go test`
// replays them; `go test -fuzz=FuzzToRichText` grows them.

// checkRich asserts the contract for rich text R that ToRichText produced:
// Asana accepts it and it survives FromRichText and back byte for byte.
func checkRich(t *testing.T, r string) json.RawMessage {
	t.Helper()
	if r == "" {
		return nil
	}
	if err := richtext.Validate(r); err != nil {
		t.Fatalf("ToRichText gave rich text Asana rejects: %v\n%q", err, r)
	}
	if c, err := richtext.Canonical(r); err != nil || c != r {
		t.Fatalf("ToRichText output is not canonical:\n got %q\nwant %q (%v)", r, c, err)
	}
	d, err := FromRichText(r)
	if err != nil {
		t.Fatalf("FromRichText(%q): %v", r, err)
	}
	checkADF(t, d)
	back, err := ToRichText(d)
	if err != nil || back != r {
		t.Fatalf("rich text does not round-trip:\n   R %q\n   D %s\nback %q (%v)", r, d, back, err)
	}
	return d
}

// checkADF asserts the contract for an ADF document D that FromRichText
// produced: Jira accepts it and it survives ToRichText and back.
func checkADF(t *testing.T, d json.RawMessage) string {
	t.Helper()
	if d == nil {
		return ""
	}
	if err := Valid(d); err != nil {
		t.Fatalf("FromRichText gave invalid ADF: %v\n%s", err, d)
	}
	r, err := ToRichText(d)
	if err != nil {
		t.Fatalf("ToRichText(%s): %v", d, err)
	}
	back, err := FromRichText(r)
	if err != nil || !bytes.Equal(back, d) {
		t.Fatalf("ADF does not round-trip:\n   D %s\n   R %q\nback %s (%v)", d, r, back, err)
	}
	return r
}

// FuzzToRichText feeds arbitrary JSON to ToRichText: it must not panic, must
// refuse only non-documents, and its output must be valid and stable.
func FuzzToRichText(f *testing.F) {
	for _, tc := range realisticADF {
		f.Add(tc.adf)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		r, err := ToRichText(json.RawMessage(doc))
		if err != nil {
			if !errors.Is(err, ErrNotADF) {
				t.Fatalf("ToRichText(%q) = %v, which does not wrap ErrNotADF", doc, err)
			}
			return
		}
		checkRich(t, r)
		_ = Text(json.RawMessage(doc))
		_ = Valid(json.RawMessage(doc))
	})
}

// FuzzFromRichText feeds arbitrary strings to FromRichText: it must not
// panic, must refuse only bad XML, and its output must be valid and stable.
func FuzzFromRichText(f *testing.F) {
	for _, tc := range realisticRich {
		f.Add(tc.rich)
	}
	f.Fuzz(func(t *testing.T, rich string) {
		d, err := FromRichText(rich)
		if err != nil {
			if !errors.Is(err, ErrInvalidXML) {
				t.Fatalf("FromRichText(%q) = %v, which does not wrap ErrInvalidXML", rich, err)
			}
			if richtext.Validate(rich) == nil {
				t.Fatalf("FromRichText refused rich text Asana accepts: %q: %v", rich, err)
			}
			return
		}
		checkADF(t, d)
	})
}
