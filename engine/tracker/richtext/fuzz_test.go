package richtext

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/ so that plain `go test`
// replays them; `go test -fuzz=FuzzValidate` grows them.

// FuzzValidate checks that no input panics and that every valid document
// has a canonical form that validates and is a fixed point.
func FuzzValidate(f *testing.F) {
	f.Add(asanaComment)
	f.Fuzz(func(t *testing.T, doc string) {
		err := Validate(doc)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate(%q) = %v, which does not wrap ErrInvalid", doc, err)
			}
			return
		}
		canon, err := Canonical(doc)
		if err != nil {
			t.Fatalf("Validate(%q) = nil but Canonical failed: %v", doc, err)
		}
		if err := Validate(canon); err != nil {
			t.Fatalf("Canonical(%q) = %q does not validate: %v", doc, canon, err)
		}
		again, err := Canonical(canon)
		if err != nil || again != canon {
			t.Fatalf("Canonical is not a fixed point on %q:\n once  %q\n twice %q (%v)", doc, canon, again, err)
		}
		if _, err := ToPlain(doc); err != nil {
			t.Fatalf("Validate(%q) = nil but ToPlain failed: %v", doc, err)
		}
	})
}

// FuzzCanonical checks that Canonical agrees with Validate, keeps the plain
// text, and that plain text survives FromPlain and ToPlain.
func FuzzCanonical(f *testing.F) {
	f.Add("<body>a &amp; b</body>")
	f.Fuzz(func(t *testing.T, doc string) {
		canon, err := Canonical(doc)
		if (err == nil) != (Validate(doc) == nil) {
			t.Fatalf("Canonical and Validate disagree on %q: %v", doc, err)
		}
		if err == nil {
			if again, err := Canonical(canon); err != nil || again != canon {
				t.Fatalf("Canonical is not a fixed point on %q:\n once  %q\n twice %q (%v)", doc, canon, again, err)
			}
			before, _ := ToPlain(doc)
			if after, _ := ToPlain(canon); after != before {
				t.Fatalf("Canonical changed the plain text of %q: %q became %q", doc, before, after)
			}
		}
		// Treat the input as plain text too.
		html := FromPlain(doc)
		back, err := ToPlain(html)
		if err != nil {
			t.Fatalf("FromPlain(%q) = %q is invalid: %v", doc, html, err)
		}
		if utf8.ValidString(doc) && sanitize(doc) == doc && back != doc {
			t.Fatalf("ToPlain(FromPlain(%q)) = %q", doc, back)
		}
		if c, _ := Canonical(html); c != html {
			t.Fatalf("FromPlain(%q) = %q is not canonical: %q", doc, html, c)
		}
	})
}
