package asana

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// The fields beyond Basic (tracker.Fields) on Asana: completed, the
// section of the task's project, the assignee, due_on, the tags (Labels),
// and custom fields by name (one named "Priority" is Priority). All come
// with the one GET of the task but the assignee's e-mail: the document
// lets a task name its assignee's gid and name only, and a user's e-mail
// comes from GET /users/{gid}; users remembers it, so that costs one
// request per user the tracker meets, not per task.

// priorityField is the custom field read and written as Priority.
const priorityField = "Priority"

// maxUsers bounds the remembered users; a workspace beyond it starts
// over rather than growing without end.
const maxUsers = 10_000

// users remembers the workspace's users met so far, by gid and by e-mail
// (lower case).
type users struct {
	mu      sync.Mutex
	byGID   map[string]tracker.User
	byEmail map[string]string
}

// remember records a user, found by its e-mail and by any alias (an
// address asked for that Asana answered spelt otherwise).
func (u *users) remember(gid string, who tracker.User, aliases ...string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.byGID == nil || len(u.byGID) >= maxUsers {
		u.byGID, u.byEmail = map[string]tracker.User{}, map[string]string{}
	}
	u.byGID[gid] = who
	for _, e := range append(aliases, who.Email) {
		if e != "" {
			u.byEmail[strings.ToLower(e)] = gid
		}
	}
}

func (u *users) get(gid string) (tracker.User, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	who, ok := u.byGID[gid]
	return who, ok
}

func (u *users) gidOf(email string) (string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	gid, ok := u.byEmail[strings.ToLower(email)]
	return gid, ok
}

// entity maps a task (as Task, CreateTask or UpdateTask return it) to an
// entity with its fields beyond Basic; comments and attachments are left
// nil.
func (t *Tracker) entity(ctx context.Context, task Task) (tracker.Entity, error) {
	e := entityOf(task)
	f, err := t.fieldsOf(ctx, task, e.Project)
	if err != nil {
		return tracker.Entity{}, err
	}
	e.Fields = f
	return e, nil
}

// fieldsOf reads the fields beyond Basic of a task in project.
func (t *Tracker) fieldsOf(ctx context.Context, task Task, project string) (tracker.Fields, error) {
	f := ownFields(task, project)
	if a := task.Assignee; a != nil && a.GID != "" {
		who, err := t.user(ctx, *a)
		if err != nil {
			return tracker.Fields{}, fmt.Errorf("asana: reading the assignee of task %s: %w", task.GID, err)
		}
		f.Assignee = &who
	}
	return f, nil
}

// ownFields are the fields beyond Basic the task itself carries: all
// but the assignee.
func ownFields(task Task, project string) tracker.Fields {
	f := tracker.Fields{Completed: task.Completed, DueDate: task.DueOn}
	for _, m := range task.Memberships {
		if m.Project != nil && m.Project.GID == project && m.Section != nil {
			f.Section = m.Section.Name
			break
		}
	}
	for _, tg := range task.Tags {
		f.Labels = append(f.Labels, tg.Name)
	}
	f.Labels = normalLabels(f.Labels)
	for _, cf := range task.CustomFields {
		v := cf.Value()
		switch {
		case v == "":
		case strings.EqualFold(cf.Name, priorityField):
			f.Priority = v
		default:
			if f.Custom == nil {
				f.Custom = map[string]string{}
			}
			f.Custom[cf.Name] = v
		}
	}
	return f
}

// user is an assignee with the e-mail the task doesn't carry: remembered,
// or read once. A user the token can no longer see keeps the name the
// task gave, with no e-mail.
func (t *Tracker) user(ctx context.Context, a User) (tracker.User, error) {
	if a.Email != "" {
		who := tracker.User{Email: a.Email, Name: a.Name}
		t.users.remember(a.GID, who)
		return who, nil
	}
	if who, ok := t.users.get(a.GID); ok {
		return who, nil
	}
	u, err := t.c.User(ctx, t.ws.GID, a.GID)
	if errors.Is(err, ErrNotFound) {
		return tracker.User{Name: a.Name}, nil
	}
	if err != nil {
		return tracker.User{}, err
	}
	who := tracker.User{Email: u.Email, Name: u.Name}
	t.users.remember(u.GID, who)
	return who, nil
}

// userByEmail finds the gid of the workspace's user with this e-mail,
// remembered or read once; none is tracker.ErrUnknownUser naming it.
func (t *Tracker) userByEmail(ctx context.Context, email string) (string, error) {
	if gid, ok := t.users.gidOf(email); ok {
		return gid, nil
	}
	if !isEmail(email) {
		return "", tracker.Errorf(tracker.ErrUnknownUser, "asana: %q is not an e-mail address, so no user of workspace %q has it", email, t.ws.Name)
	}
	u, err := t.c.User(ctx, t.ws.GID, email)
	if errors.Is(err, ErrNotFound) {
		return "", tracker.Errorf(tracker.ErrUnknownUser, "asana: no user of workspace %q has the e-mail %q", t.ws.Name, email)
	}
	if err != nil {
		return "", fmt.Errorf("asana: looking up the user with e-mail %q: %w", email, err)
	}
	who := tracker.User{Email: u.Email, Name: u.Name}
	if who.Email == "" {
		who.Email = email
	}
	t.users.remember(u.GID, who, email)
	return u.GID, nil
}

// UserByEmail implements tracker.UserFinder: the workspace's user with
// this e-mail, nil for no one.
func (t *Tracker) UserByEmail(ctx context.Context, email string) (*tracker.User, error) {
	if !isEmail(email) {
		return nil, nil
	}
	u, err := t.c.User(ctx, t.ws.GID, email)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("asana: looking up the user with e-mail %q: %w", email, err)
	}
	t.users.remember(u.GID, tracker.User{Email: u.Email, Name: u.Name})
	return &tracker.User{Email: u.Email, Name: u.Name}, nil
}
