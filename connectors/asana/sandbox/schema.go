package sandbox

// schema holds the field catalogue of every resource the sandbox renders.
// It is built once per Sandbox (no package-level state) and never changed.
type schema struct {
	task, user, workspace, project, section, membership *kind
	story, attachment, webhook, event, ref, change      *kind
	filter, like                                        *kind
	tag, customField, enumOption, fieldSetting          *kind
}

func gidOf[T any](f func(T) string) func(any) string {
	return func(o any) string { return f(o.(T)) }
}

// get adapts a typed getter.
func get[T any](f func(*renderCtx, T) any) getter {
	return func(rc *renderCtx, o any) any { return f(rc, o.(T)) }
}

func newSchema() *schema {
	sc := &schema{
		task:         newKind("task", gidOf(func(t *task) string { return t.gid })),
		user:         newKind("user", gidOf(func(u *user) string { return u.gid })),
		workspace:    newKind("workspace", gidOf(func(w *workspace) string { return w.gid })),
		project:      newKind("project", gidOf(func(p *project) string { return p.gid })),
		section:      newKind("section", gidOf(func(s *section) string { return s.gid })),
		membership:   newKind("", nil),
		story:        newKind("story", gidOf(func(s *story) string { return s.gid })),
		attachment:   newKind("attachment", gidOf(func(a *attachment) string { return a.gid })),
		webhook:      newKind("webhook", gidOf(func(w *webhook) string { return w.gid })),
		event:        newKind("", nil),
		ref:          newKind("", nil),
		change:       newKind("", nil),
		filter:       newKind("", nil),
		like:         newKind("", nil),
		tag:          newKind("tag", gidOf(func(t *tag) string { return t.gid })),
		customField:  newKind("custom_field", gidOf(func(v cfView) string { return v.field.gid })),
		enumOption:   newKind("enum_option", gidOf(func(o *enumOption) string { return o.gid })),
		fieldSetting: newKind("custom_field_setting", gidOf(func(s *fieldSetting) string { return s.gid })),
	}
	sc.userFields()
	sc.workspaceFields()
	sc.projectFields()
	sc.taskFields()
	sc.storyFields()
	sc.attachmentFields()
	sc.webhookFields()
	sc.eventFields()
	sc.customFieldFields()
	sc.tagFields()
	return sc
}

func userOrNil(u *user) any {
	if u == nil {
		return nil
	}
	return u
}

func (sc *schema) userFields() {
	k := sc.user
	k.compact = []string{"resource_type", "name"}
	k.full = []string{"resource_type", "name", "email", "photo", "workspaces"}
	k.add("name", nil, get(func(_ *renderCtx, u *user) any { return u.name }))
	k.add("email", nil, get(func(_ *renderCtx, u *user) any { return u.email }))
	k.add("photo", stub(), nothing)
	k.add("workspaces", sc.workspace, func(rc *renderCtx, _ any) any { return []any{rc.st.ws} })
	k.add("custom_fields", stub(), empty)

	// Likes and hearts are always empty in the sandbox; the kind exists so
	// that likes.user.name and friends are accepted in opt_fields.
	l := sc.like
	l.compact = []string{"user"}
	l.add("gid", nil, nothing)
	l.add("user", sc.user, nothing)
}

func (sc *schema) workspaceFields() {
	k := sc.workspace
	k.compact = []string{"resource_type", "name"}
	k.full = []string{"resource_type", "name", "email_domains", "is_organization"}
	k.add("name", nil, get(func(_ *renderCtx, w *workspace) any { return w.name }))
	k.add("email_domains", nil, get(func(_ *renderCtx, w *workspace) any { return []any{w.domain} }))
	k.add("is_organization", nil, always(false))
}

func (sc *schema) projectFields() {
	k := sc.project
	k.compact = []string{"resource_type", "name"}
	k.full = []string{"resource_type", "name", "archived", "color", "completed", "completed_at", "created_at",
		"current_status", "current_status_update", "custom_fields", "default_view", "due_date", "due_on",
		"followers", "html_notes", "members", "modified_at", "notes", "owner", "permalink_url", "privacy_setting",
		"public", "start_on", "team", "workspace"}
	k.add("name", nil, get(func(_ *renderCtx, p *project) any { return p.name }))
	k.add("archived", nil, always(false))
	k.add("color", nil, get(func(_ *renderCtx, p *project) any { return p.color }))
	k.add("completed", nil, always(false))
	k.add("completed_at", nil, nothing)
	k.add("completed_by", sc.user, nothing)
	k.add("created_at", nil, get(func(_ *renderCtx, p *project) any { return p.createdAt }))
	k.add("created_from_template", stub(), nothing)
	k.add("current_status", stub(), nothing)
	k.add("current_status_update", stub(), nothing)
	k.add("custom_field_settings", sc.fieldSetting, get(func(_ *renderCtx, p *project) any { return list(p.fieldSettings) }))
	k.add("custom_fields", stub(), empty)
	k.add("default_access_level", nil, always("editor"))
	k.add("default_view", nil, always("list"))
	k.add("due_date", nil, nothing)
	k.add("due_on", nil, nothing)
	k.add("followers", sc.user, get(func(_ *renderCtx, p *project) any { return []any{p.owner} }))
	k.add("html_notes", nil, get(func(_ *renderCtx, p *project) any { return p.htmlNotes }))
	k.add("icon", nil, always("list"))
	k.add("members", sc.user, func(rc *renderCtx, _ any) any { return list(rc.st.users) })
	k.add("minimum_access_level_for_customization", nil, always("editor"))
	k.add("minimum_access_level_for_sharing", nil, always("editor"))
	k.add("modified_at", nil, get(func(_ *renderCtx, p *project) any { return p.modifiedAt }))
	k.add("notes", nil, get(func(_ *renderCtx, p *project) any { return htmlToText(p.htmlNotes) }))
	k.add("owner", sc.user, get(func(_ *renderCtx, p *project) any { return userOrNil(p.owner) }))
	k.add("permalink_url", nil, get(func(rc *renderCtx, p *project) any { return rc.base + "/0/" + p.gid + "/list" }))
	k.add("privacy_setting", nil, always("public_to_workspace"))
	k.add("project_brief", stub(), nothing)
	k.add("public", nil, always(true))
	k.add("start_on", nil, nothing)
	k.add("team", stub(), nothing)
	k.add("workspace", sc.workspace, func(rc *renderCtx, _ any) any { return rc.st.ws })

	s := sc.section
	s.compact = []string{"resource_type", "name"}
	s.add("name", nil, get(func(_ *renderCtx, x *section) any { return x.name }))
	s.add("created_at", nil, get(func(_ *renderCtx, x *section) any { return x.createdAt }))
	s.add("project", sc.project, get(func(_ *renderCtx, x *section) any { return x.project }))

	m := sc.membership
	m.compact = []string{"project", "section"}
	m.add("project", sc.project, get(func(_ *renderCtx, x membership) any { return x.project }))
	m.add("section", sc.section, get(func(_ *renderCtx, x membership) any { return x.section }))
}

func (sc *schema) taskFields() {
	k := sc.task
	k.compact = []string{"resource_type", "name", "resource_subtype"}
	// The default full record, as GET /tasks/{gid} answers without
	// opt_fields; opt-in fields (html_notes, created_by, num_subtasks...)
	// only come when named.
	k.full = []string{"resource_type", "name", "resource_subtype", "approval_status", "assignee", "assignee_status",
		"completed", "completed_at", "created_at", "custom_fields", "due_at", "due_on", "followers", "hearted",
		"hearts", "liked", "likes", "memberships", "modified_at", "notes", "num_hearts", "num_likes", "parent",
		"permalink_url", "projects", "start_at", "start_on", "tags", "workspace"}
	k.add("name", nil, get(func(_ *renderCtx, t *task) any { return t.name }))
	k.add("resource_subtype", nil, get(func(_ *renderCtx, t *task) any { return t.subtype }))
	k.add("created_by", sc.user, get(func(_ *renderCtx, t *task) any { return t.createdBy }))
	k.add("actual_time_minutes", nil, nothing)
	k.add("approval_status", nil, get(func(_ *renderCtx, t *task) any {
		if t.subtype != "approval" {
			return omitted{}
		}
		return t.approvalStatus
	}))
	k.add("assigned_by", sc.user, nothing)
	k.add("assignee", sc.user, get(func(_ *renderCtx, t *task) any { return userOrNil(t.assignee) }))
	k.add("assignee_section", sc.section, nothing)
	k.add("assignee_status", nil, get(func(_ *renderCtx, t *task) any {
		if t.assignee == nil {
			return nil
		}
		return "upcoming"
	}))
	k.add("completed", nil, get(func(_ *renderCtx, t *task) any { return t.completed }))
	k.add("completed_at", nil, get(func(_ *renderCtx, t *task) any { return t.completedAt }))
	k.add("completed_by", sc.user, get(func(_ *renderCtx, t *task) any { return userOrNil(t.completedBy) }))
	k.add("created_at", nil, get(func(_ *renderCtx, t *task) any { return t.createdAt }))
	k.add("custom_fields", sc.customField, get(func(_ *renderCtx, t *task) any { return taskCustomFields(t) }))
	k.add("custom_type", stub(), nothing)
	k.add("custom_type_status_option", stub(), nothing)
	k.add("dependencies", stub(), empty)
	k.add("dependents", stub(), empty)
	k.add("due_at", nil, get(func(_ *renderCtx, t *task) any { return strOrNil(t.dueAt) }))
	k.add("due_on", nil, get(func(_ *renderCtx, t *task) any { return strOrNil(t.dueOn) }))
	k.add("external", stub(), nothing)
	k.add("followers", sc.user, get(func(_ *renderCtx, t *task) any { return list(t.followers) }))
	k.add("hearted", nil, always(false))
	k.add("hearts", sc.like, empty)
	k.add("html_notes", nil, get(func(_ *renderCtx, t *task) any { return t.htmlNotes }))
	k.add("is_rendered_as_separator", nil, get(func(_ *renderCtx, t *task) any {
		if t.subtype != "default_task" {
			return omitted{}
		}
		return false
	}))
	k.add("liked", nil, always(false))
	k.add("likes", sc.like, empty)
	k.add("memberships", sc.membership, get(func(_ *renderCtx, t *task) any { return list(t.memberships) }))
	k.add("modified_at", nil, get(func(_ *renderCtx, t *task) any { return t.modifiedAt }))
	k.add("notes", nil, get(func(_ *renderCtx, t *task) any { return htmlToText(t.htmlNotes) }))
	k.add("num_hearts", nil, always(0))
	k.add("num_likes", nil, always(0))
	k.add("num_subtasks", nil, always(0))
	k.add("parent", sc.task, nothing)
	k.add("permalink_url", nil, get(func(rc *renderCtx, t *task) any { return taskPermalink(rc.base, t) }))
	k.add("projects", sc.project, get(func(_ *renderCtx, t *task) any { return list(t.projects()) }))
	k.add("start_at", nil, nothing)
	k.add("start_on", nil, get(func(_ *renderCtx, t *task) any { return strOrNil(t.startOn) }))
	k.add("tags", sc.tag, get(func(_ *renderCtx, t *task) any { return list(t.tags) }))
	k.add("workspace", sc.workspace, func(rc *renderCtx, _ any) any { return rc.st.ws })
}

// taskPermalink is Asana's classic task URL: /0/<project>/<task>, with 0 for
// a task outside any project.
func taskPermalink(base string, t *task) string {
	p := "0"
	if len(t.memberships) > 0 {
		p = t.memberships[0].project.gid
	}
	return base + "/0/" + p + "/" + t.gid
}

func strOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (sc *schema) storyFields() {
	k := sc.story
	k.compact = []string{"resource_type", "created_at", "created_by", "resource_subtype", "text"}
	k.full = []string{"resource_type", "created_at", "created_by", "resource_subtype", "text", "type",
		"is_pinned", "is_editable", "is_edited", "hearted", "hearts", "num_hearts", "liked", "likes", "num_likes",
		"previews", "old_name", "new_name", "old_resource_subtype", "new_resource_subtype", "project", "assignee",
		"source", "target"}
	comment := func(f func(*renderCtx, *story) any) getter {
		return get(func(rc *renderCtx, s *story) any {
			if !s.comment {
				return omitted{}
			}
			return f(rc, s)
		})
	}
	k.add("created_at", nil, get(func(_ *renderCtx, s *story) any { return s.createdAt }))
	k.add("created_by", sc.user, get(func(_ *renderCtx, s *story) any { return userOrNil(s.createdBy) }))
	k.add("resource_subtype", nil, get(func(_ *renderCtx, s *story) any { return s.subtype }))
	k.add("text", nil, get(func(_ *renderCtx, s *story) any { return s.plainText() }))
	k.add("html_text", nil, get(func(_ *renderCtx, s *story) any { return s.richText() }))
	k.add("type", nil, get(func(_ *renderCtx, s *story) any {
		if s.comment {
			return "comment"
		}
		return "system"
	}))
	k.add("is_pinned", nil, comment(func(_ *renderCtx, s *story) any { return s.isPinned }))
	k.add("is_editable", nil, get(func(rc *renderCtx, s *story) any { return s.comment && s.createdBy == rc.st.me }))
	k.add("is_edited", nil, comment(func(_ *renderCtx, s *story) any { return s.isEdited }))
	k.add("sticker_name", nil, nothing)
	k.add("hearted", nil, comment(func(*renderCtx, *story) any { return false }))
	k.add("hearts", sc.like, comment(func(*renderCtx, *story) any { return []any{} }))
	k.add("num_hearts", nil, comment(func(*renderCtx, *story) any { return 0 }))
	k.add("liked", nil, comment(func(*renderCtx, *story) any { return false }))
	k.add("likes", sc.like, comment(func(*renderCtx, *story) any { return []any{} }))
	k.add("num_likes", nil, comment(func(*renderCtx, *story) any { return 0 }))
	k.add("reaction_summary", stub(), comment(func(*renderCtx, *story) any { return []any{} }))
	k.add("previews", stub(), comment(func(*renderCtx, *story) any { return []any{} }))
	k.add("old_name", nil, get(func(_ *renderCtx, s *story) any { return when(s.subtype == "name_changed", s.oldName) }))
	k.add("new_name", nil, get(func(_ *renderCtx, s *story) any { return when(s.subtype == "name_changed", s.newName) }))
	k.add("old_resource_subtype", nil, get(func(_ *renderCtx, s *story) any { return when(s.oldSubtype != "", s.oldSubtype) }))
	k.add("new_resource_subtype", nil, get(func(_ *renderCtx, s *story) any { return when(s.newSubtype != "", s.newSubtype) }))
	k.add("project", sc.project, get(func(_ *renderCtx, s *story) any {
		if s.project == nil {
			return omitted{}
		}
		return s.project
	}))
	k.add("assignee", sc.user, get(func(_ *renderCtx, s *story) any {
		if s.assignee == nil {
			return omitted{}
		}
		return s.assignee
	}))
	k.add("source", nil, get(func(_ *renderCtx, s *story) any { return s.source }))
	k.add("target", sc.task, get(func(_ *renderCtx, s *story) any { return s.task }))
	// Conditional fields of other story subtypes the sandbox never writes:
	// accepted in opt_fields, never present.
	for _, name := range []string{"custom_field", "dependency", "duplicate_of", "duplicated_from", "follower",
		"new_approval_status", "new_date_value", "new_dates", "new_enum_value", "new_multi_enum_values",
		"new_number_value", "new_people_value", "new_section", "new_text_value", "old_approval_status",
		"old_date_value", "old_dates", "old_enum_value", "old_multi_enum_values", "old_number_value",
		"old_people_value", "old_section", "old_text_value", "story", "tag", "task"} {
		k.add(name, stub(), omitAlways)
	}
}

// when returns v if cond holds and omit otherwise.
func when(cond bool, v any) any {
	if !cond {
		return omitted{}
	}
	return v
}

func (sc *schema) attachmentFields() {
	k := sc.attachment
	k.compact = []string{"resource_type", "name", "resource_subtype"}
	k.full = []string{"resource_type", "name", "resource_subtype", "created_at", "download_url", "host",
		"parent", "permanent_url", "size", "view_url"}
	k.add("name", nil, get(func(_ *renderCtx, a *attachment) any { return a.name }))
	k.add("resource_subtype", nil, get(func(_ *renderCtx, a *attachment) any { return a.host() }))
	k.add("connected_to_app", nil, get(func(_ *renderCtx, a *attachment) any { return when(a.external, false) }))
	k.add("created_at", nil, get(func(_ *renderCtx, a *attachment) any { return a.createdAt }))
	k.add("download_url", nil, get(func(rc *renderCtx, a *attachment) any { return rc.downloadURL(a) }))
	k.add("host", nil, get(func(_ *renderCtx, a *attachment) any { return a.host() }))
	k.add("parent", sc.task, get(func(_ *renderCtx, a *attachment) any { return a.task }))
	k.add("permanent_url", nil, get(func(rc *renderCtx, a *attachment) any {
		if a.external {
			return nil
		}
		return rc.base + "/app/asana/-/get_asset?asset_id=" + a.gid
	}))
	k.add("size", nil, get(func(_ *renderCtx, a *attachment) any { return when(!a.external, a.size) }))
	k.add("view_url", nil, get(func(rc *renderCtx, a *attachment) any { return rc.downloadURL(a) }))
}

func (a *attachment) host() string {
	if a.external {
		return "external"
	}
	return "asana"
}

func (sc *schema) webhookFields() {
	k := sc.webhook
	k.compact = []string{"resource_type", "active", "resource", "target"}
	k.full = []string{"resource_type", "active", "resource", "target", "created_at", "delivery_retry_count",
		"failure_deletion_timestamp", "filters", "last_failure_at", "last_failure_content", "last_success_at",
		"next_attempt_after"}
	k.add("active", nil, always(true))
	k.add("resource", sc.ref, get(func(_ *renderCtx, w *webhook) any { return w.resource }))
	k.add("target", nil, get(func(_ *renderCtx, w *webhook) any { return w.target }))
	k.add("created_at", nil, get(func(_ *renderCtx, w *webhook) any { return w.createdAt }))
	k.add("delivery_retry_count", nil, get(func(_ *renderCtx, w *webhook) any { return w.retryCount }))
	// The two schedule fields are not nullable: present only while failing.
	k.add("failure_deletion_timestamp", nil, get(func(_ *renderCtx, w *webhook) any {
		return when(!w.failureDeletionAt.IsZero(), w.failureDeletionAt)
	}))
	k.add("filters", sc.filter, get(func(_ *renderCtx, w *webhook) any { return list(w.filters) }))
	k.add("last_failure_at", nil, get(func(_ *renderCtx, w *webhook) any { return w.lastFailureAt }))
	k.add("last_failure_content", nil, get(func(_ *renderCtx, w *webhook) any { return w.lastFailureContent }))
	k.add("last_success_at", nil, get(func(_ *renderCtx, w *webhook) any { return w.lastSuccessAt }))
	k.add("next_attempt_after", nil, get(func(_ *renderCtx, w *webhook) any {
		return when(!w.nextAttemptAfter.IsZero(), w.nextAttemptAfter)
	}))

	f := sc.filter
	f.compact = []string{"resource_type", "resource_subtype", "action", "fields"}
	f.add("resource_type", nil, get(func(_ *renderCtx, x webhookFilter) any { return when(x.resourceType != "", x.resourceType) }))
	f.add("resource_subtype", nil, get(func(_ *renderCtx, x webhookFilter) any {
		return when(x.resourceSubtype != "", x.resourceSubtype)
	}))
	f.add("action", nil, get(func(_ *renderCtx, x webhookFilter) any { return when(x.action != "", x.action) }))
	f.add("fields", nil, get(func(_ *renderCtx, x webhookFilter) any { return when(len(x.fields) > 0, list(x.fields)) }))
}
