package sandbox

import "time"

// seedFields gives the demo what Script mode maps beyond Basic: the
// workspace's tags, and custom fields on the projects: "Priority" (enum:
// High, Medium, Low), "Customer" (text) and "Story points" (number), with
// values and tags on some of the Company tasks. Those are there from the
// start: they leave no story or event, and no task's modified_at changes.
func (st *store) seedFields(at time.Time, company *project, others ...*project) {
	tags := map[string]*tag{}
	for _, name := range []string{"partner", "urgent", "blocked"} {
		t := &tag{gid: st.runtimeGID(), name: name, createdAt: at}
		st.objects[t.gid] = t
		st.tags = append(st.tags, t)
		tags[name] = t
	}
	field := func(name, subtype string) *customField {
		f := &customField{gid: st.runtimeGID(), name: name, subtype: subtype}
		st.objects[f.gid] = f
		st.fields = append(st.fields, f)
		return f
	}
	priority := field("Priority", "enum")
	options := map[string]*enumOption{}
	for _, o := range [][2]string{{"High", "red"}, {"Medium", "yellow-orange"}, {"Low", "green"}} {
		x := &enumOption{gid: st.runtimeGID(), name: o[0], color: o[1], enabled: true}
		st.objects[x.gid] = x
		priority.options = append(priority.options, x)
		options[o[0]] = x
	}
	customer := field("Customer", "text")
	points := field("Story points", "number")
	for _, p := range append([]*project{company}, others...) {
		for _, f := range []*customField{priority, customer, points} {
			s := &fieldSetting{gid: st.runtimeGID(), field: f, project: p, important: f == priority}
			st.objects[s.gid] = s
			p.fieldSettings = append(p.fieldSettings, s)
		}
	}
	for _, x := range []struct {
		task, priority, customer string
		points                   float64
		tags                     []string
	}{
		{task: "Q3 campaign brief", priority: "High", points: 8, tags: []string{"partner"}},
		{task: "Website refresh: pricing page", priority: "Medium", points: 5, tags: []string{"urgent"}},
		{task: "Approve Q3 ad spend", priority: "High"},
		{task: "Newsletter: August edition", priority: "Low", points: 2},
		{task: "Customer case study: Northwind", customer: "Northwind"},
		{task: "Trade show booth logistics", priority: "Medium", tags: []string{"partner", "blocked"}},
	} {
		for _, t := range company.tasks {
			if t.name != x.task {
				continue
			}
			t.values = map[string]cfValue{}
			if x.priority != "" {
				t.values[priority.gid] = cfValue{enum: options[x.priority]}
			}
			if x.customer != "" {
				t.values[customer.gid] = cfValue{text: x.customer}
			}
			if x.points != 0 {
				n := x.points
				t.values[points.gid] = cfValue{number: &n}
			}
			for _, name := range x.tags {
				t.tags = append(t.tags, tags[name])
			}
		}
	}
}
