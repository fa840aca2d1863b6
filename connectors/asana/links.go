package asana

import (
	"sync"
	"time"
)

// linkLifetime is how long a listed download URL is used. Asana's work
// for about two minutes ("may only be valid for two minutes"); a link older
// than one is not tried, and one that fails anyway costs the GET
// /attachments/{gid} it would have cost without it.
const linkLifetime = time.Minute

// links keeps the download URLs attachment listings carried, for
// OpenAttachment. Each is used at most once (a retry fetches a fresh one)
// and forgotten once stale, so the map holds at most a minute's listings.
type links struct {
	mu sync.Mutex
	m  map[string]listedLink
}

type listedLink struct {
	a  Attachment
	at time.Time
}

// keep remembers a's download URL, listed at now.
func (l *links) keep(a Attachment, now time.Time) {
	if a.DownloadURL == "" || a.GID == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]listedLink{}
	}
	if len(l.m) >= 1024 {
		for gid, k := range l.m {
			if now.Sub(k.at) >= linkLifetime {
				delete(l.m, gid)
			}
		}
	}
	l.m[a.GID] = listedLink{a: a, at: now}
}

// take returns, and forgets, attachment gid's listed download URL if it
// is fresh.
func (l *links) take(gid string, now time.Time) (Attachment, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k, ok := l.m[gid]
	delete(l.m, gid)
	if !ok || now.Sub(k.at) >= linkLifetime || now.Before(k.at) {
		return Attachment{}, false
	}
	return k.a, true
}
