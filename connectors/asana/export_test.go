package asana

import "time"

// SetNow sets the clock a tracker's listed download links age by.
func SetNow(t *Tracker, now func() time.Time) { t.now = now }
