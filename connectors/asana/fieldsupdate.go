package asana

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-sync/tandem/engine/tracker"
)

// fieldsWrite adds to w the members of the PUT that set the fields beyond
// Basic u asks for. Completed, the due date and the assignee (by the gid
// of the user with that e-mail) are members of the PUT. Custom fields are
// set by field and option gid, so the task is read first with its fields'
// options (one GET); that read also tells whether tags or the section
// already are as asked. It returns the task read, or nil when none was.
//
// The document has no operation to add or remove a task's tags (addTag,
// removeTag), to make a tag, or to move a task to another section
// (addTask): asking for tags or a section other than the task's is a bad
// request saying so, and changes nothing.
func (t *Tracker) fieldsWrite(ctx context.Context, id string, u tracker.FieldsUpdate, w *TaskUpdate) (*Task, error) {
	if u.Status != nil && *u.Status != "" {
		return nil, tracker.Errorf(tracker.ErrBadRequest, "asana task %s: Asana tasks have no workflow status to set to %q: set completed or the section instead", id, *u.Status)
	}
	w.Completed = u.Completed
	if u.DueDate != nil {
		d := strings.TrimSpace(*u.DueDate)
		if _, err := time.Parse(time.DateOnly, d); d != "" && err != nil {
			return nil, tracker.Errorf(tracker.ErrBadRequest, "asana task %s: the due date %q is not a date such as 2030-01-31", id, d)
		}
		w.DueOn = &d
	}
	if u.Assignee != nil {
		a := strings.TrimSpace(*u.Assignee)
		if a != "" {
			gid, err := t.userByEmail(ctx, a)
			if err != nil {
				return nil, err
			}
			a = gid
		}
		w.Assignee = &a
	}
	if u.Labels == nil && u.Section == nil && u.Priority == nil && len(u.Custom) == 0 {
		return nil, nil
	}
	task, err := t.c.TaskFieldOptions(ctx, id)
	if err != nil {
		return nil, gone(err, "task", id)
	}
	f := ownFields(task, entityOf(task).Project)
	if u.Labels != nil {
		if want := normalLabels(*u.Labels); !slices.Equal(want, f.Labels) {
			return nil, tracker.Errorf(tracker.ErrBadRequest, "asana task %s: can't change its tags from %q to %q: "+
				"tandem can't change an Asana task's tags (the API document it follows has no addTag or removeTag)", id, f.Labels, want)
		}
	}
	if u.Section != nil {
		if want := strings.TrimSpace(*u.Section); want != f.Section {
			return nil, tracker.Errorf(tracker.ErrBadRequest, "asana task %s: can't move it from section %q to %q: "+
				"tandem can't move an Asana task to another section (the API document it follows has no addTask)", id, f.Section, want)
		}
	}
	sets := map[string]string{}
	for name, v := range u.Custom {
		sets[name] = v
	}
	if u.Priority != nil {
		sets[priorityField] = *u.Priority
	}
	for _, name := range slices.Sorted(maps.Keys(sets)) {
		cf, err := customField(task, id, name)
		if err != nil {
			return nil, err
		}
		v, same, err := fieldValue(id, cf, sets[name])
		if err != nil {
			return nil, err
		}
		if same {
			continue
		}
		if w.CustomFields == nil {
			w.CustomFields = map[string]string{}
		}
		w.CustomFields[cf.GID] = v
	}
	return &task, nil
}

// normalLabels is a set of labels as Fields.Labels holds them: trimmed,
// without blanks or repeats, sorted; nil for none.
func normalLabels(ls []string) []string {
	var out []string
	for _, l := range ls {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// customField finds the task's custom field of that name: spelt the same,
// or else the one spelt the same but for case.
func customField(task Task, id, name string) (CustomField, error) {
	var folded []CustomField
	for _, cf := range task.CustomFields {
		if cf.Name == name {
			return cf, nil
		}
		if strings.EqualFold(cf.Name, name) {
			folded = append(folded, cf)
		}
	}
	if len(folded) == 1 {
		return folded[0], nil
	}
	var names []string
	for _, cf := range task.CustomFields {
		names = append(names, cf.Name)
	}
	return CustomField{}, tracker.Errorf(tracker.ErrBadRequest, "asana task %s has no custom field %q (its project's fields: %q)", id, name, names)
}

// fieldValue is what the PUT sends to set cf to v: an enum option's gid, a
// text, a number. same says cf already holds v, so nothing need be sent.
func fieldValue(id string, cf CustomField, v string) (value string, same bool, err error) {
	if cf.ResourceSubtype != FieldText {
		v = strings.TrimSpace(v)
	}
	current := cf.Value()
	cantClear := func() error {
		return tracker.Errorf(tracker.ErrBadRequest, "asana task %s: can't clear the custom field %q: "+
			"that takes null, which the Asana API document tandem follows doesn't allow in custom_fields", id, cf.Name)
	}
	switch cf.ResourceSubtype {
	case FieldEnum:
		if v == "" && current == "" {
			return "", true, nil
		}
		if v == "" {
			return "", false, cantClear()
		}
		opt, err := enumOption(id, cf, v)
		if err != nil {
			return "", false, err
		}
		return opt.GID, cf.EnumValue != nil && cf.EnumValue.GID == opt.GID, nil
	case FieldText:
		return v, v == current, nil
	case FieldNumber:
		if v == "" && current == "" {
			return "", true, nil
		}
		if v == "" {
			return "", false, cantClear()
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return "", false, tracker.Errorf(tracker.ErrBadRequest, "asana task %s: the custom field %q holds numbers, not %q", id, cf.Name, v)
		}
		had, err := strconv.ParseFloat(current, 64)
		return v, err == nil && had == n, nil
	}
	return "", false, tracker.Errorf(tracker.ErrBadRequest, "asana task %s: the custom field %q is of type %q, which tandem can't set", id, cf.Name, cf.ResourceSubtype)
}

// enumOption finds the enabled option of cf named v, spelt the same or
// else the same but for case.
func enumOption(id string, cf CustomField, v string) (EnumOption, error) {
	var folded []EnumOption
	var names []string
	for _, o := range cf.EnumOptions {
		if !o.Enabled {
			continue
		}
		names = append(names, o.Name)
		if o.Name == v {
			return o, nil
		}
		if strings.EqualFold(o.Name, v) {
			folded = append(folded, o)
		}
	}
	if len(folded) == 1 {
		return folded[0], nil
	}
	return EnumOption{}, tracker.Errorf(tracker.ErrBadRequest, "asana task %s: %q is not an option of the custom field %q (its options: %q)",
		id, v, cf.Name, names)
}
