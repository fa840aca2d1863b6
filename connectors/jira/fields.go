package jira

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// The fields beyond the Basic ones (tracker.Fields), in Jira's words: the
// status by name, done when its category is; the assignee by e-mail (an
// account id found through user search); the priority by name; the due
// date; the labels. Reading them costs nothing more: Get and Update's read
// back ask for them in the call they make anyway.

// accountsTTL is how long an e-mail's account id is kept: assignees repeat,
// and each lookup is a call.
const accountsTTL = 10 * time.Minute

// maxAccounts bounds the e-mails kept.
const maxAccounts = 1000

type account struct {
	id string
	at time.Time
}

// fieldsOf maps an issue's fields beyond the Basic ones; labels sorted.
func fieldsOf(f IssueFields) tracker.Fields {
	out := tracker.Fields{DueDate: f.DueDate}
	if f.Status != nil {
		out.Status = f.Status.Name
		out.Completed = f.Status.Category() == CategoryDone
	}
	if a := f.Assignee; a != nil && a.AccountID != "" {
		out.Assignee = &tracker.User{Email: a.EmailAddress, Name: a.DisplayName}
	}
	if f.Priority != nil {
		out.Priority = f.Priority.Name
	}
	if len(f.Labels) > 0 {
		out.Labels = slices.Sorted(slices.Values(f.Labels))
	}
	return out
}

// prepareFields turns u's fields beyond the Basic ones into iu's fields
// and the transition to take (nil for none), looking up what needs looking up (the
// assignee's account, the issue's transitions) but writing nothing. A
// value Jira can't take is an error marked tracker.ErrBadRequest (or
// tracker.ErrUnknownUser), and nothing has been written.
func (t *Tracker) prepareFields(ctx context.Context, id string, u tracker.FieldsUpdate, iu *IssueUpdate) (*Transition, error) {
	if u.Empty() {
		return nil, nil
	}
	if u.Section != nil {
		return nil, tracker.Errorf(tracker.ErrBadRequest, "jira: issue %s: Jira issues have no section (asked for %q); map it to a status", id, *u.Section)
	}
	if len(u.Custom) > 0 {
		names := make([]string, 0, len(u.Custom))
		for name := range u.Custom {
			names = append(names, name)
		}
		slices.Sort(names)
		return nil, tracker.Errorf(tracker.ErrBadRequest, "jira: issue %s: custom fields (%s) are not synced to Jira", id, strings.Join(names, ", "))
	}
	if u.DueDate != nil {
		d := strings.TrimSpace(*u.DueDate)
		if _, err := time.Parse(time.DateOnly, d); d != "" && err != nil {
			return nil, tracker.Errorf(tracker.ErrBadRequest, "jira: issue %s: due date %q is not a date like 2026-12-31", id, *u.DueDate)
		}
		iu.DueDate = &d
	}
	if u.Priority != nil {
		p := strings.TrimSpace(*u.Priority)
		iu.Priority = &p
	}
	if u.Labels != nil {
		labels := make([]string, 0, len(*u.Labels))
		for _, l := range *u.Labels {
			if strings.ContainsFunc(l, unicode.IsSpace) || l == "" {
				return nil, tracker.Errorf(tracker.ErrBadRequest, "jira: issue %s: label %q: Jira labels can't be empty or contain spaces", id, l)
			}
			labels = append(labels, l)
		}
		slices.Sort(labels)
		labels = slices.Compact(labels)
		iu.Labels = &labels
	}
	if u.Assignee != nil {
		acct, err := t.accountFor(ctx, *u.Assignee)
		if err != nil {
			return nil, fmt.Errorf("jira: issue %s: %w", id, err)
		}
		iu.Assignee = &acct
	}
	if u.Status != nil || u.Completed != nil {
		return t.transitionFor(ctx, id, u.Status, u.Completed)
	}
	return nil, nil
}

// statusGoal is the status an update asks for: by name, or for Completed
// alone, any status of the done category (or, to reopen, of the to-do
// category).
type statusGoal struct {
	name     string
	category string
}

func (g statusGoal) matches(s *Status) bool {
	if s == nil {
		return false
	}
	if g.name != "" {
		return strings.EqualFold(s.Name, g.name)
	}
	return s.Category() == g.category
}

func (g statusGoal) String() string {
	switch {
	case g.name != "":
		return g.name
	case g.category == CategoryDone:
		return "a done status"
	}
	return "a to-do status"
}

// transitionFor finds the transition that takes the issue to the status
// asked for: Status by name (case-insensitive), or when only Completed is
// set, to a status in the done (or to-do) category. One call; when no
// transition leads there, a second reads the issue's status, to say
// nothing is needed (it is there already) or to name where it is in the
// error "no transition from X to Y", marked tracker.ErrBadRequest.
func (t *Tracker) transitionFor(ctx context.Context, id string, status *string, completed *bool) (*Transition, error) {
	var goal statusGoal
	switch {
	case status != nil:
		if goal.name = strings.TrimSpace(*status); goal.name == "" {
			return nil, tracker.Errorf(tracker.ErrBadRequest, "jira: issue %s: a status can't be empty", id)
		}
	case *completed:
		goal.category = CategoryDone
	default:
		goal.category = CategoryToDo
	}
	moves, err := t.c.Transitions(ctx, id)
	if err != nil {
		return nil, gone(err, id)
	}
	for i := range moves {
		if goal.matches(&moves[i].To) {
			return &moves[i], nil
		}
	}
	is, err := t.c.issue(ctx, id, []string{"status"})
	if err != nil {
		return nil, gone(err, id)
	}
	if goal.matches(is.Fields.Status) {
		return nil, nil
	}
	from := "its status"
	if is.Fields.Status != nil {
		from = is.Fields.Status.Name
	}
	return nil, tracker.Errorf(tracker.ErrBadRequest, "jira: issue %s: no transition from %s to %s in its workflow", id, from, goal)
}

// accountFor finds the account of the user with this e-mail through user
// search ("" is nobody: unassigned). A user whose profile hides the
// e-mail is still found when the search returns just one such person,
// since Jira matches a hidden e-mail only whole. No one is
// tracker.ErrUnknownUser naming the e-mail. Found accounts are kept a few
// minutes.
func (t *Tracker) accountFor(ctx context.Context, email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", nil
	}
	key := strings.ToLower(email)
	t.mu.Lock()
	a, ok := t.accounts[key]
	t.mu.Unlock()
	if ok && time.Since(a.at) < accountsTTL {
		return a.id, nil
	}
	users, err := t.c.FindUsers(ctx, email)
	if err != nil {
		return "", fmt.Errorf("looking up the user %q: %w", email, err)
	}
	var found string
	var hidden []string
	for _, u := range users {
		if u.AccountID == "" || (u.AccountType != "" && u.AccountType != "atlassian") {
			continue
		}
		if strings.EqualFold(u.EmailAddress, email) {
			found = u.AccountID
			break
		}
		if u.EmailAddress == "" {
			hidden = append(hidden, u.AccountID)
		}
	}
	if found == "" && len(hidden) == 1 {
		found = hidden[0]
	}
	if found == "" {
		return "", tracker.Errorf(tracker.ErrUnknownUser, "no Jira user has the e-mail %q (or none this account may see)", email)
	}
	t.mu.Lock()
	if len(t.accounts) >= maxAccounts {
		clear(t.accounts)
	}
	t.accounts[key] = account{id: found, at: time.Now()}
	t.mu.Unlock()
	return found, nil
}

// refusedField marks Jira's 400 for a field beyond the Basic ones as
// tracker.ErrBadRequest, naming the field and the value asked for, so the
// engine tells a value Jira won't take from a failure worth retrying.
func refusedField(err error, id string, iu IssueUpdate) error {
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrInvalidRequest) {
		return err
	}
	asked := map[string]string{}
	if iu.Assignee != nil {
		asked["assignee"] = *iu.Assignee
	}
	if iu.Priority != nil {
		asked["priority"] = *iu.Priority
	}
	if iu.DueDate != nil {
		asked["duedate"] = *iu.DueDate
	}
	if iu.Labels != nil {
		asked["labels"] = strings.Join(*iu.Labels, " ")
	}
	for _, name := range []string{"assignee", "priority", "duedate", "labels"} {
		if msg, ok := e.Fields[name]; ok {
			if v, sent := asked[name]; sent {
				return tracker.Errorf(tracker.ErrBadRequest, "jira: issue %s: Jira refused %s %q: %s: %w", id, name, v, msg, err)
			}
		}
	}
	return err
}

// UserByEmail implements tracker.UserFinder through user search: nil for
// no one. Jira gives the account, not always the name, so the user
// carries the e-mail asked for.
func (t *Tracker) UserByEmail(ctx context.Context, email string) (*tracker.User, error) {
	if _, err := t.accountFor(ctx, email); errors.Is(err, tracker.ErrUnknownUser) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &tracker.User{Email: strings.TrimSpace(email)}, nil
}
