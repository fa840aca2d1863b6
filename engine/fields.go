package engine

import (
	"strings"
	"time"

	"github.com/tandem-sync/tandem/store"
)

// A twin remembers, per field, the fingerprint of this side's value when it
// was last synced and the source time of the write that set it, stored as
// "fingerprint time". The fingerprint stops echoes; the time lets a late,
// stale replica lose to a newer write (last writer wins, field by field).

func fieldFP(t store.Twin, f string) string {
	fp, _, _ := strings.Cut(t.Fields[f], " ")
	return fp
}

func fieldAt(t store.Twin, f string) time.Time {
	_, at, ok := strings.Cut(t.Fields[f], " ")
	if !ok {
		return time.Time{}
	}
	parsed, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return time.Time{}
	}
	return parsed
}

func setField(t *store.Twin, f, fp string, at time.Time) {
	if t.Fields == nil {
		t.Fields = map[string]string{}
	}
	if at.IsZero() {
		t.Fields[f] = fp
		return
	}
	t.Fields[f] = fp + " " + at.UTC().Format(time.RFC3339Nano)
}
