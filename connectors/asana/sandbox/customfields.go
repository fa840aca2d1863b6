package sandbox

import (
	"encoding/json"
	"html"
	"slices"
	"strconv"
	"time"
)

// Custom fields, as far as the document goes: a project's fields are read
// through its custom_field_settings (GET /projects, opt_fields), a task
// carries a value for every field of its projects in custom_fields, and
// POST and PUT /tasks set values with custom_fields, an object of field gid
// to value: an enum option's gid, a text, or a number (as a string or a
// JSON number); null clears one, as on Asana. The document has no
// operation to create fields or options or to add a field to a project, so
// the sandbox's fields come from the seed. Types: enum, text, number.

type customField struct {
	gid, name string
	subtype   string // enum, text or number
	precision int    // number fields: places after the decimal point
	options   []*enumOption
}

type enumOption struct {
	gid, name, color string
	enabled          bool
}

// fieldSetting puts a custom field on a project.
type fieldSetting struct {
	gid       string
	field     *customField
	project   *project
	important bool
}

// cfValue is a task's value of one custom field; the zero value is empty.
type cfValue struct {
	enum   *enumOption
	text   string
	number *float64
}

func (v cfValue) empty() bool { return v.enum == nil && v.text == "" && v.number == nil }

// cfView is a custom field as rendered: a field's definition (in a
// project's settings) or a task's value of it (in the task's custom_fields).
type cfView struct {
	field   *customField
	value   cfValue
	isValue bool
}

// display is the value as Asana shows it, or nil for none.
func (v cfView) display() any {
	switch {
	case v.value.enum != nil:
		return v.value.enum.name
	case v.value.number != nil:
		return strconv.FormatFloat(*v.value.number, 'f', v.field.precision, 64)
	case v.value.text != "":
		return v.value.text
	}
	return nil
}

func (st *store) customField(gid string) *customField {
	f, _ := st.objects[gid].(*customField)
	return f
}

func (f *customField) option(gid string) *enumOption {
	for _, o := range f.options {
		if o.gid == gid {
			return o
		}
	}
	return nil
}

// customFields lists the custom fields of the task's projects, once each, in
// the order of its memberships and of each project's settings.
func (t *task) customFields() []*customField {
	var out []*customField
	for _, m := range t.memberships {
		for _, s := range m.project.fieldSettings {
			if !slices.Contains(out, s.field) {
				out = append(out, s.field)
			}
		}
	}
	return out
}

// customFieldsOf lists the fields of projects, as customFields does for a
// task in them.
func customFieldsOf(ms []membership) []*customField {
	return (&task{memberships: ms}).customFields()
}

// cfChange is one custom field value a POST or PUT sets.
type cfChange struct {
	field *customField
	value cfValue
}

// parseCustomFields reads the custom_fields member against the fields the
// task has (or will have, on create), refusing the whole request for one
// bad entry as Asana does. Callers hold the store lock.
func (st *store) parseCustomFields(data map[string]json.RawMessage, fields []*customField) ([]cfChange, error) {
	raw, ok := data["custom_fields"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, badRequest("custom_fields: Not an object of custom field gids to values")
	}
	var out []cfChange
	for _, gid := range sortedGIDs(m) {
		if !isGID(gid) {
			return nil, badRequest("custom_fields: Not a Long: %s", gid)
		}
		f := st.customField(gid)
		if f == nil || !slices.Contains(fields, f) {
			return nil, badRequest("custom_fields: Custom field with ID %s is not on given object", gid)
		}
		v, err := parseCFValue(f, m[gid])
		if err != nil {
			return nil, err
		}
		out = append(out, cfChange{field: f, value: v})
	}
	return out, nil
}

func sortedGIDs(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmpGID)
	return keys
}

// parseCFValue reads one value for field f; null clears it.
func parseCFValue(f *customField, raw json.RawMessage) (cfValue, error) {
	if string(raw) == "null" {
		return cfValue{}, nil
	}
	switch f.subtype {
	case "enum":
		var gid string
		if err := json.Unmarshal(raw, &gid); err != nil {
			return cfValue{}, badRequest("custom_fields: The value of %s must be the gid of one of its enum options", f.gid)
		}
		o := f.option(gid)
		if o == nil || !o.enabled {
			return cfValue{}, badRequest("custom_fields: %s is not an enabled enum option of the custom field %s", gid, f.gid)
		}
		return cfValue{enum: o}, nil
	case "text":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return cfValue{}, badRequest("custom_fields: The value of %s must be a string", f.gid)
		}
		return cfValue{text: s}, nil
	case "number":
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw)
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return cfValue{}, badRequest("custom_fields: The value of %s must be a number", f.gid)
		}
		return cfValue{number: &n}, nil
	}
	return cfValue{}, badRequest("custom_fields: The custom field %s can't be set by the sandbox", f.gid)
}

// applyCustomFields writes changed values, each leaving a system story and
// a "changed" event behind when record is set. Callers hold the write lock.
func (st *store) applyCustomFields(t *task, cs []cfChange, by *user, at time.Time, record bool) {
	for _, c := range cs {
		old := t.values[c.field.gid]
		if sameCFValue(old, c.value) {
			continue
		}
		if c.value.empty() {
			delete(t.values, c.field.gid)
		} else {
			if t.values == nil {
				t.values = map[string]cfValue{}
			}
			t.values[c.field.gid] = c.value
		}
		t.touch(at)
		if !record {
			continue
		}
		st.taskChanged(t, by, at, "custom_fields", nil)
		text := "cleared " + c.field.name
		if d := (cfView{field: c.field, value: c.value}).display(); d != nil {
			text = "changed " + c.field.name + " to \"" + d.(string) + "\""
		}
		st.addSystemStory(t, &story{subtype: c.field.subtype + "_custom_field_changed", text: text}, by, at)
	}
}

func sameCFValue(a, b cfValue) bool {
	if (a.number == nil) != (b.number == nil) || a.number != nil && *a.number != *b.number {
		return false
	}
	return a.enum == b.enum && a.text == b.text
}

// customFieldFields builds the kinds of custom fields, their enum options and
// project settings. Every sub-field the document's opt_fields name is
// accepted; those of types the sandbox lacks (date, people, reference,
// multi_enum) are never present.
func (sc *schema) customFieldFields() {
	o := sc.enumOption
	o.compact = []string{"resource_type", "name", "enabled", "color"}
	o.add("name", nil, get(func(_ *renderCtx, x *enumOption) any { return x.name }))
	o.add("enabled", nil, get(func(_ *renderCtx, x *enumOption) any { return x.enabled }))
	o.add("color", nil, get(func(_ *renderCtx, x *enumOption) any { return x.color }))

	k := sc.customField
	k.compact = []string{"resource_type", "name", "type", "resource_subtype", "representation_type", "enabled",
		"enum_options", "enum_value", "text_value", "number_value", "precision", "display_value"}
	typed := func(subtype string, f func(cfView) any) getter {
		return get(func(_ *renderCtx, v cfView) any { return when(v.field.subtype == subtype, f(v)) })
	}
	value := func(subtype string, f func(cfView) any) getter {
		return get(func(_ *renderCtx, v cfView) any {
			return when(v.isValue && (subtype == "" || v.field.subtype == subtype), f(v))
		})
	}
	k.add("name", nil, get(func(_ *renderCtx, v cfView) any { return v.field.name }))
	k.add("type", nil, get(func(_ *renderCtx, v cfView) any { return v.field.subtype }))
	k.add("resource_subtype", nil, get(func(_ *renderCtx, v cfView) any { return v.field.subtype }))
	k.add("representation_type", nil, get(func(_ *renderCtx, v cfView) any { return v.field.subtype }))
	k.add("enabled", nil, value("", func(cfView) any { return true }))
	k.add("enum_options", sc.enumOption, typed("enum", func(v cfView) any { return list(v.field.options) }))
	k.add("enum_value", sc.enumOption, value("enum", func(v cfView) any {
		if v.value.enum == nil {
			return nil
		}
		return v.value.enum
	}))
	k.add("text_value", nil, value("text", func(v cfView) any { return strOrNil(v.value.text) }))
	k.add("html_text_value", nil, value("text", func(v cfView) any {
		if v.value.text == "" {
			return nil
		}
		return "<body>" + html.EscapeString(v.value.text) + "</body>"
	}))
	k.add("number_value", nil, value("number", func(v cfView) any {
		if v.value.number == nil {
			return nil
		}
		return *v.value.number
	}))
	k.add("precision", nil, typed("number", func(v cfView) any { return v.field.precision }))
	k.add("format", nil, typed("number", func(cfView) any { return "none" }))
	k.add("display_value", nil, value("", func(v cfView) any { return v.display() }))
	k.add("description", nil, always(""))
	k.add("created_by", sc.user, nothing)
	k.add("asana_created_field", nil, nothing)
	k.add("currency_code", nil, nothing)
	k.add("custom_label", nil, nothing)
	k.add("custom_label_position", nil, nothing)
	k.add("id_prefix", nil, nothing)
	k.add("default_access_level", nil, always("editor"))
	k.add("privacy_setting", nil, always("public_with_guests"))
	k.add("has_notifications_enabled", nil, always(true))
	k.add("is_formula_field", nil, always(false))
	k.add("is_global_to_workspace", nil, always(true))
	k.add("is_value_read_only", nil, always(false))
	k.add("date_value", stub(), omitAlways)
	k.add("input_restrictions", nil, omitAlways)
	k.add("multi_enum_values", sc.enumOption, omitAlways)
	k.add("people_value", sc.user, omitAlways)
	k.add("reference_value", stub(), omitAlways)

	s := sc.fieldSetting
	s.compact = []string{"resource_type", "custom_field", "is_important", "parent", "project"}
	s.add("custom_field", k, get(func(_ *renderCtx, x *fieldSetting) any { return cfView{field: x.field} }))
	s.add("is_important", nil, get(func(_ *renderCtx, x *fieldSetting) any { return x.important }))
	s.add("parent", sc.project, get(func(_ *renderCtx, x *fieldSetting) any { return x.project }))
	s.add("project", sc.project, get(func(_ *renderCtx, x *fieldSetting) any { return x.project }))
}

// taskCustomFields renders a task's custom_fields: a value for every field
// of its projects, empty ones included.
func taskCustomFields(t *task) any {
	fields := t.customFields()
	out := make([]any, len(fields))
	for i, f := range fields {
		out[i] = cfView{field: f, value: t.values[f.gid], isValue: true}
	}
	return out
}
