package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// stateVersion numbers the state file's format; a file of another version
// is refused rather than half read.
const stateVersion = 1

// The state file: what State writes and WithState reads back, so a sandbox
// can be stopped and started again with its data (tandem demo --data keeps
// it between runs). Objects refer to each other by gid. The event stream
// and sync tokens are not kept: after a restart a client's old sync token
// gets 412 and a fresh one, as after Asana's 24 hours. Webhooks are not
// kept either (the sandbox never delivers them).
type (
	stateFile struct {
		Version  int            `json:"version"`
		Token    string         `json:"token"`
		LastGID  int64          `json:"last_gid"`
		Clock    time.Time      `json:"clock"`
		WS       stateWorkspace `json:"workspace"`
		Me       string         `json:"me"`
		Users    []stateUser    `json:"users"`
		Projects []stateProject `json:"projects"`
		Tasks    []stateTask    `json:"tasks"`
		// Tags and Fields came later: a file without them has none.
		Tags   []stateTag   `json:"tags,omitempty"`
		Fields []stateField `json:"custom_fields,omitempty"`
		// Webhooks came later still.
		Webhooks []stateWebhook `json:"webhooks,omitempty"`
	}
	stateWebhook struct {
		GID, Resource, ResourceType, ResourceName, ResourceSubtype string
		Target, Secret                                             string
		CreatedAt, LastSuccessAt, LastFailureAt                    time.Time
		LastFailureContent                                         string
		Filters                                                    []stateFilter `json:",omitempty"`
	}
	stateFilter struct {
		ResourceType, ResourceSubtype, Action string
		Fields                                []string `json:",omitempty"`
	}
	stateTag struct {
		GID, Name string
		CreatedAt time.Time
	}
	stateField struct {
		GID, Name, Subtype string
		Precision          int
		Options            []stateOption
	}
	stateOption struct {
		GID, Name, Color string
		Enabled          bool
	}
	stateSetting struct {
		GID, Field string
		Important  bool
	}
	stateValue struct {
		Enum, Text string
		Number     *float64 `json:",omitempty"`
	}
	stateWorkspace struct{ GID, Name, Domain string }
	stateUser      struct{ GID, Name, Email string }
	stateProject   struct {
		GID, Name, HTMLNotes, Color, Owner string
		CreatedAt, ModifiedAt              time.Time
		Sections                           []stateSection
		Tasks                              []string
		FieldSettings                      []stateSetting `json:",omitempty"`
	}
	stateSection struct {
		GID, Name string
		CreatedAt time.Time
	}
	stateTask struct {
		GID, Name, Subtype, HTMLNotes         string
		CreatedAt, ModifiedAt, CompletedAt    time.Time
		CreatedBy, CompletedBy, Assignee      string
		Completed                             bool
		ApprovalStatus, DueOn, DueAt, StartOn string
		Memberships                           [][2]string // project, section
		Followers                             []string
		Stories                               []stateStory
		Attachments                           []stateAttachment
		Tags                                  []string              `json:",omitempty"`
		Values                                map[string]stateValue `json:",omitempty"`
	}
	stateStory struct {
		GID                                                    string
		CreatedAt                                              time.Time
		CreatedBy                                              string
		Comment, IsPinned, IsEdited                            bool
		Subtype, HTMLText, Text, Source                        string
		OldName, NewName, OldSubtype, NewSubtype, Project, Who string
	}
	stateAttachment struct {
		GID, Name, CreatedBy, URL, ContentType string
		CreatedAt                              time.Time
		External                               bool
		Data                                   []byte
	}
)

// WithState starts the sandbox from a state State wrote earlier instead of
// a seed: its workspace, users, projects, tasks, comments, attachments and
// token. WithToken, given too, wins over the saved token.
func WithState(b []byte) Option { return func(c *config) { c.state = b } }

// State encodes the sandbox's data for WithState.
func (s *Sandbox) State() ([]byte, error) {
	st := s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	f := stateFile{Version: stateVersion, Token: s.token, LastGID: st.lastGID, Clock: st.tick0(),
		WS: stateWorkspace{st.ws.gid, st.ws.name, st.ws.domain}, Me: st.me.gid}
	for _, u := range st.users {
		f.Users = append(f.Users, stateUser{u.gid, u.name, u.email})
	}
	for _, t := range st.tags {
		f.Tags = append(f.Tags, stateTag{t.gid, t.name, t.createdAt})
	}
	for _, x := range st.fields {
		sf := stateField{GID: x.gid, Name: x.name, Subtype: x.subtype, Precision: x.precision}
		for _, o := range x.options {
			sf.Options = append(sf.Options, stateOption{o.gid, o.name, o.color, o.enabled})
		}
		f.Fields = append(f.Fields, sf)
	}
	for _, p := range st.projects {
		sp := stateProject{GID: p.gid, Name: p.name, HTMLNotes: p.htmlNotes, Color: p.color, Owner: userGID(p.owner),
			CreatedAt: p.createdAt, ModifiedAt: p.modifiedAt}
		for _, sec := range p.sections {
			sp.Sections = append(sp.Sections, stateSection{sec.gid, sec.name, sec.createdAt})
		}
		for _, t := range p.tasks {
			sp.Tasks = append(sp.Tasks, t.gid)
		}
		for _, x := range p.fieldSettings {
			sp.FieldSettings = append(sp.FieldSettings, stateSetting{x.gid, x.field.gid, x.important})
		}
		f.Projects = append(f.Projects, sp)
	}
	var tasks []*task
	for _, x := range st.objects {
		if t, ok := x.(*task); ok && !t.deleted {
			tasks = append(tasks, t)
		}
	}
	slices.SortFunc(tasks, func(a, b *task) int { return cmpGID(a.gid, b.gid) })
	for _, t := range tasks {
		f.Tasks = append(f.Tasks, saveTask(t))
	}
	for _, w := range st.webhooks {
		f.Webhooks = append(f.Webhooks, saveWebhook(w))
	}
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(f); err != nil {
		return nil, fmt.Errorf("encoding the sandbox state: %w", err)
	}
	return b.Bytes(), nil
}

// tick0 is the clock's last reading without advancing it. Callers hold a lock.
func (st *store) tick0() time.Time { return st.clock.Last() }

func userGID(u *user) string {
	if u == nil {
		return ""
	}
	return u.gid
}

func saveTask(t *task) stateTask {
	x := stateTask{GID: t.gid, Name: t.name, Subtype: t.subtype, HTMLNotes: t.htmlNotes,
		CreatedAt: t.createdAt, ModifiedAt: t.modifiedAt, CompletedAt: t.completedAt,
		CreatedBy: userGID(t.createdBy), CompletedBy: userGID(t.completedBy), Assignee: userGID(t.assignee),
		Completed: t.completed, ApprovalStatus: t.approvalStatus, DueOn: t.dueOn, DueAt: t.dueAt, StartOn: t.startOn}
	for _, m := range t.memberships {
		sec := ""
		if m.section != nil {
			sec = m.section.gid
		}
		x.Memberships = append(x.Memberships, [2]string{m.project.gid, sec})
	}
	for _, u := range t.followers {
		x.Followers = append(x.Followers, u.gid)
	}
	for _, tg := range t.tags {
		x.Tags = append(x.Tags, tg.gid)
	}
	for gid, v := range t.values {
		if x.Values == nil {
			x.Values = map[string]stateValue{}
		}
		sv := stateValue{Text: v.text, Number: v.number}
		if v.enum != nil {
			sv.Enum = v.enum.gid
		}
		x.Values[gid] = sv
	}
	for _, s := range t.stories {
		ss := stateStory{GID: s.gid, CreatedAt: s.createdAt, CreatedBy: userGID(s.createdBy), Comment: s.comment,
			IsPinned: s.isPinned, IsEdited: s.isEdited, Subtype: s.subtype, HTMLText: s.htmlText, Text: s.text,
			Source: s.source, OldName: s.oldName, NewName: s.newName, OldSubtype: s.oldSubtype, NewSubtype: s.newSubtype,
			Who: userGID(s.assignee)}
		if s.project != nil {
			ss.Project = s.project.gid
		}
		x.Stories = append(x.Stories, ss)
	}
	for _, a := range t.attachments {
		data, _ := io.ReadAll(a.reader()) // reading memory cannot fail
		x.Attachments = append(x.Attachments, stateAttachment{GID: a.gid, Name: a.name, CreatedBy: userGID(a.createdBy),
			URL: a.url, ContentType: a.contentType, CreatedAt: a.createdAt, External: a.external, Data: data})
	}
	return x
}

// loadState fills an empty store from a state file.
func loadState(st *store, b []byte) (token string, err error) {
	var f stateFile
	if err := json.Unmarshal(b, &f); err != nil {
		return "", fmt.Errorf("reading the sandbox state: %w", err)
	}
	if f.Version != stateVersion {
		return "", fmt.Errorf("the sandbox state is of version %d; this build reads version %d", f.Version, stateVersion)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.lastGID = f.LastGID
	st.clock.Observe(f.Clock)
	st.ws = &workspace{f.WS.GID, f.WS.Name, f.WS.Domain}
	for _, u := range f.Users {
		x := &user{u.GID, u.Name, u.Email}
		st.users = append(st.users, x)
		st.objects[x.gid] = x
	}
	st.me = st.user(f.Me)
	if st.me == nil {
		return "", errors.New("reading the sandbox state: the authenticated user is missing")
	}
	st.loadTagsAndFields(f)
	for _, sp := range f.Projects {
		p := &project{gid: sp.GID, name: sp.Name, htmlNotes: sp.HTMLNotes, color: sp.Color, owner: st.user(sp.Owner),
			createdAt: sp.CreatedAt, modifiedAt: sp.ModifiedAt}
		for _, sec := range sp.Sections {
			x := &section{gid: sec.GID, name: sec.Name, createdAt: sec.CreatedAt, project: p}
			p.sections = append(p.sections, x)
			st.objects[x.gid] = x
		}
		for _, x := range sp.FieldSettings {
			cf := st.customField(x.Field)
			if cf == nil {
				return "", fmt.Errorf("reading the sandbox state: project %s has an unknown custom field %s", sp.GID, x.Field)
			}
			fs := &fieldSetting{gid: x.GID, field: cf, project: p, important: x.Important}
			p.fieldSettings = append(p.fieldSettings, fs)
			st.objects[fs.gid] = fs
		}
		st.projects = append(st.projects, p)
		st.objects[p.gid] = p
	}
	for _, x := range f.Tasks {
		if err := st.loadTask(x); err != nil {
			return "", err
		}
	}
	for i, sp := range f.Projects {
		for _, gid := range sp.Tasks {
			if t := st.task(gid); t != nil {
				st.projects[i].tasks = append(st.projects[i].tasks, t)
			}
		}
	}
	for _, x := range f.Webhooks {
		st.loadWebhook(x)
	}
	return f.Token, nil
}

func saveWebhook(w *webhook) stateWebhook {
	x := stateWebhook{GID: w.gid, Resource: w.resource.gid, ResourceType: w.resource.typ, ResourceName: w.resource.name,
		ResourceSubtype: w.resource.subtype, Target: w.target, Secret: w.secret, CreatedAt: w.createdAt,
		LastSuccessAt: w.lastSuccessAt, LastFailureAt: w.lastFailureAt, LastFailureContent: w.lastFailureContent}
	for _, f := range w.filters {
		x.Filters = append(x.Filters, stateFilter{f.resourceType, f.resourceSubtype, f.action, f.fields})
	}
	return x
}

// loadWebhook restores a webhook whose resource is still there (a task
// deleted before the state was saved took its webhooks with it); New
// starts its deliveries.
func (st *store) loadWebhook(x stateWebhook) {
	if st.objects[x.Resource] == nil && x.Resource != st.ws.gid {
		return
	}
	w := &webhook{gid: x.GID, resource: resRef{gid: x.Resource, typ: x.ResourceType, name: x.ResourceName,
		subtype: x.ResourceSubtype}, target: x.Target, secret: x.Secret, createdAt: x.CreatedAt,
		lastSuccessAt: x.LastSuccessAt, lastFailureAt: x.LastFailureAt, lastFailureContent: x.LastFailureContent}
	for _, f := range x.Filters {
		w.filters = append(w.filters, webhookFilter{f.ResourceType, f.ResourceSubtype, f.Action, f.Fields})
	}
	st.objects[w.gid] = w
	st.webhooks = append(st.webhooks, w)
}

func (st *store) loadTask(x stateTask) error {
	t := &task{gid: x.GID, name: x.Name, subtype: x.Subtype, htmlNotes: x.HTMLNotes,
		createdAt: x.CreatedAt, modifiedAt: x.ModifiedAt, completedAt: x.CompletedAt,
		createdBy: st.user(x.CreatedBy), completedBy: st.optUser(x.CompletedBy), assignee: st.optUser(x.Assignee),
		completed: x.Completed, approvalStatus: x.ApprovalStatus, dueOn: x.DueOn, dueAt: x.DueAt, startOn: x.StartOn}
	for _, m := range x.Memberships {
		p := st.project(m[0])
		if p == nil {
			return fmt.Errorf("reading the sandbox state: task %s is in an unknown project %s", x.GID, m[0])
		}
		t.memberships = append(t.memberships, membership{project: p, section: st.section(m[1])})
	}
	for _, g := range x.Followers {
		if u := st.user(g); u != nil {
			t.followers = append(t.followers, u)
		}
	}
	for _, g := range x.Tags {
		if tg := st.tag(g); tg != nil {
			t.tags = append(t.tags, tg)
		}
	}
	for gid, v := range x.Values {
		cf := st.customField(gid)
		if cf == nil {
			return fmt.Errorf("reading the sandbox state: task %s has a value of an unknown custom field %s", x.GID, gid)
		}
		if t.values == nil {
			t.values = map[string]cfValue{}
		}
		t.values[gid] = cfValue{enum: cf.option(v.Enum), text: v.Text, number: v.Number}
	}
	st.objects[t.gid] = t
	for _, s := range x.Stories {
		y := &story{gid: s.GID, task: t, createdAt: s.CreatedAt, createdBy: st.optUser(s.CreatedBy), comment: s.Comment,
			isPinned: s.IsPinned, isEdited: s.IsEdited, subtype: s.Subtype, htmlText: s.HTMLText, text: s.Text,
			source: s.Source, oldName: s.OldName, newName: s.NewName, oldSubtype: s.OldSubtype, newSubtype: s.NewSubtype,
			project: st.project(s.Project), assignee: st.optUser(s.Who)}
		t.stories = append(t.stories, y)
		st.objects[y.gid] = y
	}
	for _, a := range x.Attachments {
		y := &attachment{gid: a.GID, name: a.Name, task: t, createdAt: a.CreatedAt, createdBy: st.optUser(a.CreatedBy),
			external: a.External, url: a.URL, contentType: a.ContentType, size: int64(len(a.Data))}
		if len(a.Data) > 0 {
			y.chunks = [][]byte{a.Data}
		}
		t.attachments = append(t.attachments, y)
		st.objects[y.gid] = y
	}
	return nil
}

// optUser is user for a gid that may be empty (no one).
func (st *store) optUser(gid string) *user {
	if gid == "" {
		return nil
	}
	return st.user(gid)
}

// loadTagsAndFields reads the workspace's tags and custom fields.
func (st *store) loadTagsAndFields(f stateFile) {
	for _, x := range f.Tags {
		t := &tag{gid: x.GID, name: x.Name, createdAt: x.CreatedAt}
		st.tags = append(st.tags, t)
		st.objects[t.gid] = t
	}
	for _, x := range f.Fields {
		cf := &customField{gid: x.GID, name: x.Name, subtype: x.Subtype, precision: x.Precision}
		for _, o := range x.Options {
			eo := &enumOption{gid: o.GID, name: o.Name, color: o.Color, enabled: o.Enabled}
			cf.options = append(cf.options, eo)
			st.objects[eo.gid] = eo
		}
		st.fields = append(st.fields, cf)
		st.objects[cf.gid] = cf
	}
}
