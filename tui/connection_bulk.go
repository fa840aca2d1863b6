package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tandem-sync/tandem/engine/adminapi"
)

// bulkPoll is how often a Bulk Exalate re-reads its events, in case the
// event stream dropped some (it does, for a listener that falls behind).
const bulkPoll = time.Second

type (
	bulkStartedMsg struct {
		started adminapi.BulkStarted
		err     error
	}
	// bulkPollMsg asks for a re-read of a Bulk Exalate's events; gen tells
	// an old poll chain (from before the page was covered) from the live one.
	bulkPollMsg   struct{ gen int }
	bulkStatusMsg struct {
		events []adminapi.StageEvent
		err    error
	}
	// bulkCountMsg is how many items a Bulk Exalate would sync (-1: not
	// known), for its question.
	bulkCountMsg struct{ n int }
)

// bulkCountLimit bounds the count of a project's items; past it the
// question says "at least".
const bulkCountLimit = 10000

// countBulk counts the items of the connection's project, through the
// listing the item picker uses, so b can say how many it would sync.
func (s *connectionScreen) countBulk() tea.Cmd {
	s.busy, s.actionErr = "Counting the items", nil
	node, ctx, project := s.c.node, s.c.ctx, s.conn.LocalProject
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		items, err := node.RecentItems(ctx, project, bulkCountLimit)
		if err != nil {
			return bulkCountMsg{-1}
		}
		return bulkCountMsg{len(items)}
	})
}

// bulkQuestion asks before a Bulk Exalate: "Sync all 37 tasks of Company
// to Globex?".
func (s *connectionScreen) bulkQuestion() string {
	items := itemsOf(s.c.self.Vocabulary)
	to := s.conn.RemoteName
	if s.conn.Local {
		to = s.conn.RemoteProjectName
	}
	switch n := s.bulkCount; {
	case n < 0:
		return fmt.Sprintf("Sync every one of the %s of %s to %s? (They could not be counted.)", items, s.conn.LocalProjectName, to)
	case n >= bulkCountLimit:
		return fmt.Sprintf("Sync all %d or more %s of %s to %s?", n, items, s.conn.LocalProjectName, to)
	case n == 1:
		return fmt.Sprintf("Sync the one %s of %s to %s?", itemOf(s.c.self.Vocabulary), s.conn.LocalProjectName, to)
	}
	return fmt.Sprintf("Sync all %d %s of %s to %s?", s.bulkCount, items, s.conn.LocalProjectName, to)
}

// bulkRun is a Bulk Exalate's progress: the events ExalateAll started and
// the stage each has reached, from stage events and, as a fallback, polls.
type bulkRun struct {
	// starting is true while ExalateAll runs; the events seen meanwhile
	// are kept in state, to be matched once their ids are known.
	starting bool
	ids      []string
	// more is how many syncs the run started beyond ids, the ones the
	// node listed (adminapi.BulkEventsListed): counted, not followed.
	more  int
	state map[string]adminapi.StageEvent
	err   error
	// polling is true while a poll's read is out.
	polling bool
	gen     int
}

// note records how far an event got; an event never moves backwards, so
// a late or repeated report changes nothing.
func (b *bulkRun) note(ev adminapi.StageEvent) {
	if !b.starting {
		if _, ok := b.state[ev.EventID]; !ok {
			return // not one of this run's
		}
	}
	cur, ok := b.state[ev.EventID]
	if ok && indexOf(adminapi.Stages(), ev.Stage) < indexOf(adminapi.Stages(), cur.Stage) {
		return
	}
	b.state[ev.EventID] = ev
}

// counts says how many of the run's events are synchronized and how many
// are failing (waiting to retry after an error).
func (b *bulkRun) counts() (done, failing int) {
	for _, id := range b.ids {
		switch ev := b.state[id]; {
		case ev.Stage == adminapi.StageSynchronized:
			done++
		case ev.Error != "":
			failing++
		}
	}
	return done, failing
}

func (b *bulkRun) finished() bool {
	done, _ := b.counts()
	return !b.starting && done == len(b.ids)
}

// startBulk runs ExalateAll, unless a run is still going.
func (s *connectionScreen) startBulk() tea.Cmd {
	if s.bulk != nil && !s.bulk.finished() {
		return nil
	}
	gen := 0
	if s.bulk != nil {
		gen = s.bulk.gen + 1
	}
	s.bulk = &bulkRun{starting: true, state: map[string]adminapi.StageEvent{}, gen: gen}
	node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
	return tea.Batch(s.spin.Tick, func() tea.Msg {
		// The bulk is queued at once and waited for until every item has
		// its sync, which takes a while for a large project, but a node
		// that hangs must not keep the page waiting for good. The bulk
		// itself goes on.
		ctx, cancel := context.WithTimeout(ctx, bulkStartLimit)
		defer cancel()
		evs, err := node.ExalateAll(ctx, id)
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("still listing after %v: the Bulk Exalate goes on in the node (Recent syncs shows its items)", bulkStartLimit)
		}
		return bulkStartedMsg{evs, err}
	})
}

// bulkStartLimit bounds the wait for a Bulk Exalate to start.
const bulkStartLimit = 30 * time.Minute

func (s *connectionScreen) updateBulk(msg tea.Msg) tea.Cmd {
	b := s.bulk
	if b == nil {
		return nil
	}
	switch msg := msg.(type) {
	case bulkStartedMsg:
		seen := b.state
		b.starting, b.state = false, map[string]adminapi.StageEvent{}
		if msg.err != nil {
			b.err = fmt.Errorf("bulk exalate of %s: %w", s.conn.LocalProjectName, msg.err)
		}
		b.more = msg.started.Started - len(msg.started.Events)
		for _, ev := range msg.started.Events {
			b.ids = append(b.ids, ev.EventID)
			b.state[ev.EventID] = ev
			if later, ok := seen[ev.EventID]; ok {
				b.note(later)
			}
		}
		if b.finished() {
			return s.refresh()
		}
		return tea.Batch(s.refresh(), s.poll())
	case bulkPollMsg:
		if msg.gen != b.gen || b.starting || b.finished() {
			return nil
		}
		if b.polling {
			return s.poll()
		}
		b.polling = true
		done, _ := b.counts()
		node, ctx, id := s.c.node, s.c.ctx, s.conn.ID
		// The unfinished events are among the latest updated, unless more
		// than the limit moved since; the next stage event or poll catches up.
		limit := min(len(b.ids)-done+recentLimit, 200)
		return tea.Batch(s.poll(), func() tea.Msg {
			evs, err := node.RecentEvents(ctx, id, limit)
			return bulkStatusMsg{evs, err}
		})
	case bulkStatusMsg:
		b.polling = false
		if msg.err == nil {
			for _, ev := range msg.events {
				b.note(ev)
			}
		}
	}
	return nil
}

// poll re-reads the run's events after a while.
func (s *connectionScreen) poll() tea.Cmd {
	gen := s.bulk.gen
	return s.c.tick(bulkPoll, func(time.Time) tea.Msg { return bulkPollMsg{gen} })
}
