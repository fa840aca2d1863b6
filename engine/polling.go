package engine

import (
	"sync"
	"time"
)

// DefaultPollMax is the longest `tandem serve` waits, by default, between
// two looks at an idle project (--poll-max).
const DefaultPollMax = 30 * time.Second

// schedule is adaptive polling: which projects change detection looks at
// on a tick of the poll interval. A project starts looked at every tick;
// each look that sees no change doubles its interval, up to the longest
// (Config.PollMax), and it snaps back to every tick when a look sees a
// change, when a replica for one of its connections is received (wake),
// and while a console is watching the node (it has stage event
// listeners). Intervals are counted in ticks, not read from the clock, so
// a test's clock moves none of them.
type schedule struct {
	mu       sync.Mutex
	maxTicks int
	// hookTicks is the interval of a project whose webhook is alive
	// (see webhooks.go): its look is a safety net for a lost delivery.
	hookTicks int
	paces     map[string]*pace
	rounds    int64 // ticks so far
	wakes     int64 // snaps back from outside (wake)
}

// pace is one project's interval and how many ticks it still waits, and
// whether it was woken since its last look.
type pace struct {
	every, wait int
	woken       bool
	// hooked says the project's webhook is alive; now that a delivery
	// asked for a look at once (lookNow).
	hooked, now bool
}

// newSchedule polls every tick, backing off to every maxEvery/every ticks.
func newSchedule(every, maxEvery time.Duration) *schedule {
	return &schedule{maxTicks: max(int(maxEvery/every), 1), paces: map[string]*pace{}}
}

func (s *schedule) pace(project string) *pace {
	p := s.paces[project]
	if p == nil {
		p = &pace{every: 1}
		s.paces[project] = p
	}
	return p
}

// due reports whether project is to be looked at on this tick; watched
// makes every project due.
func (s *schedule) due(project string, watched bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pace(project)
	if watched {
		p.every, p.wait = 1, 0
	}
	if p.wait > 0 {
		p.wait--
		return false
	}
	return true
}

// looked sets project's next look after one that saw a change or not, or
// failed (which keeps the interval: a failing tracker is not asked more).
func (s *schedule) looked(project string, changed, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pace(project)
	switch {
	case changed || p.woken:
		p.every = 1
	case !failed && p.hooked:
		// A webhook wakes the project on its next change: the doubling
		// that follows a burst of activity is the webhook's work now.
		p.every = max(s.hookTicks, s.maxTicks)
	case !failed:
		p.every = min(p.every*2, s.maxTicks)
	}
	p.woken = false
	p.wait = p.every - 1
}

// wake snaps project back to a look every tick, starting on the next.
func (s *schedule) wake(project string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pace(project)
	p.every, p.wait, p.woken = 1, 0, true
	s.wakes++
}

// forget drops the paces of projects no connection uses any more.
func (s *schedule) forget(projects []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := make(map[string]bool, len(projects))
	for _, p := range projects {
		keep[p] = true
	}
	for p := range s.paces {
		if !keep[p] {
			delete(s.paces, p)
		}
	}
}

// ticked counts a tick.
func (s *schedule) ticked() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rounds++
}

// PollState is where adaptive polling stands on one project: the ticks so
// far, the project's interval in ticks (0 when no connection uses it
// yet), and how often a received replica snapped a project back.
type PollState struct {
	Rounds, Wakes int64
	Every         int
}

func (s *schedule) state(project string) PollState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := PollState{Rounds: s.rounds, Wakes: s.wakes}
	if p := s.paces[project]; p != nil {
		st.Every = p.every
	}
	return st
}

// hook says whether project's webhook is alive: while it is, an idle
// project is looked at every hookTicks instead of maxTicks; when it dies,
// the project is back on adaptive polling at once.
func (s *schedule) hook(project string, alive bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pace(project)
	p.hooked = alive
	if !alive && p.every > s.maxTicks {
		p.every, p.wait = s.maxTicks, min(p.wait, s.maxTicks-1)
	}
}

// lookNow wakes project and marks it for a look before the next tick
// (takeNow), as a webhook delivery asks.
func (s *schedule) lookNow(project string) {
	s.wake(project)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pace(project).now = true
}

// takeNow reports whether project was marked by lookNow, and unmarks it.
func (s *schedule) takeNow(project string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.paces[project]
	if p == nil || !p.now {
		return false
	}
	p.now = false
	return true
}
