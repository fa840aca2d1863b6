package sandbox

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"time"
	"unicode"
)

// seedTask is one task of the demo seed.
type seedTask struct {
	name     string
	subtype  string
	html     string
	section  int // index in the project's sections
	assignee int // index in the users; -1 for none
	dueDays  int // due this many days after the seed starts; 0 for none
	done     bool
	renamed  string // an earlier name, to leave a name_changed story behind
	comments []seedComment
	files    []seedFile
}

type seedComment struct {
	by   int // index in the users
	html string
}

type seedFile struct {
	name, contentType string
	data              []byte
}

// seedStore fills the store. The workspace and the authenticated user
// always exist; demo adds people, projects, tasks, comments and files. gids
// are allocated consecutively so they are the same on every run.
func seedStore(st *store, wsName string, demo bool) {
	st.seeding = true
	defer func() { st.seeding = false }()
	st.mu.Lock()
	defer st.mu.Unlock()

	domain := emailDomain(wsName)
	st.ws = &workspace{gid: st.runtimeGID(), name: wsName, domain: domain}
	people := [][2]string{{"Alex Rivera", "alex"}, {"Priya Shah", "priya"}, {"Marcus Chen", "marcus"}, {"Sofia Alvarez", "sofia"}}
	if !demo {
		people = people[:1]
	}
	for _, p := range people {
		u := &user{gid: st.runtimeGID(), name: p[0], email: p[1] + "@" + domain}
		st.users = append(st.users, u)
		st.objects[u.gid] = u
	}
	st.me = st.users[0]
	if !demo {
		return
	}

	// Time runs forward through the seed, ending well before now, so every
	// later change is newer than any seeded timestamp.
	at := time.Now().UTC().Add(-14 * 24 * time.Hour).Truncate(time.Millisecond)
	step := func(d time.Duration) time.Time { at = at.Add(d); return at }
	start := at

	company := st.seedProject("Company", "light-green",
		"<body>Everything the company team is working on: <strong>campaigns</strong>, the website, events and operations.</body>",
		[]string{"To do", "In progress", "Done"}, step(time.Hour))
	test := st.seedProject("Test", "light-blue", "<body>A scratch project for trying things out.</body>",
		[]string{"Untitled section"}, step(time.Hour))

	for _, s := range companyTasks() {
		st.seedTask(company, s, start, step)
	}
	for i := 1; i <= 3; i++ {
		st.seedTask(test, seedTask{name: "Test task " + itoa(i), subtype: "default_task",
			html: "<body>Test task number " + itoa(i) + ".</body>", assignee: -1}, start, step)
	}
	// Made last, so that every gid above stays what it always was.
	st.seedFields(step(time.Hour), company, test)
}

// seedExtraProjects adds n empty projects (WithExtraProjects).
func (st *store) seedExtraProjects(n int) {
	if n == 0 {
		return
	}
	st.seeding = true
	defer func() { st.seeding = false }()
	st.mu.Lock()
	defer st.mu.Unlock()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	for i := 1; i <= n; i++ {
		st.seedProject(ExtraProjectName(i), "light-blue", "<body>An empty project.</body>", []string{"Untitled section"}, at)
	}
}

func (st *store) seedProject(name, color, html string, sections []string, at time.Time) *project {
	p := &project{gid: st.runtimeGID(), name: name, color: color, htmlNotes: html, createdAt: at, modifiedAt: at, owner: st.me}
	st.objects[p.gid] = p
	st.projects = append(st.projects, p)
	for _, sn := range sections {
		sec := &section{gid: st.runtimeGID(), name: sn, createdAt: at, project: p}
		st.objects[sec.gid] = sec
		p.sections = append(p.sections, sec)
	}
	return p
}

func (st *store) seedTask(p *project, s seedTask, start time.Time, step func(time.Duration) time.Time) {
	name := s.name
	if s.renamed != "" {
		name = s.renamed
	}
	html := s.html
	if html == "" {
		html = "<body></body>"
	}
	creator := st.users[(len(p.tasks)+1)%len(st.users)]
	in := &taskInput{name: &name, htmlNotes: &html, subtype: &s.subtype,
		memberships: []membership{{project: p, section: p.sections[s.section]}}}
	t := st.createTask(in, creator, step(37*time.Minute))
	if s.renamed != "" {
		st.applyTask(t, &taskInput{name: &s.name}, creator, step(11*time.Minute), true)
	}
	if s.assignee >= 0 {
		u := st.users[s.assignee]
		st.applyTask(t, &taskInput{assignee: &u}, creator, step(3*time.Minute), true)
	}
	if s.dueDays > 0 {
		due := start.AddDate(0, 0, s.dueDays).Format(time.DateOnly)
		st.applyTask(t, &taskInput{dueOn: &due}, creator, step(2*time.Minute), true)
	}
	for _, c := range s.comments {
		st.addComment(t, c.html, false, st.users[c.by], step(53*time.Minute), "web")
	}
	for _, f := range s.files {
		a := &attachment{name: f.name, contentType: f.contentType, size: int64(len(f.data)), chunks: [][]byte{f.data}}
		st.addAttachment(t, a, creator, step(7*time.Minute))
	}
	if s.done {
		done := true
		st.applyTask(t, &taskInput{completed: &done}, st.users[max(s.assignee, 0)], step(29*time.Minute), true)
	}
}

// companyTasks is the demo content of the Company project.
func companyTasks() []seedTask {
	return []seedTask{
		{name: "Q3 campaign brief", subtype: "default_task", section: 1, assignee: 0, dueDays: 21,
			html: "<body><h1>Goal</h1>Grow trial sign-ups by <strong>20%</strong> over Q2.\n<h2>Channels</h2>" +
				"<ul><li>Paid social (LinkedIn, Instagram)</li><li>Newsletter and <em>partner</em> co-marketing</li>" +
				"<li>Webinar series</li></ul>Budget and targets live in the <a href=\"https://example.com/q3-plan\">Q3 plan</a>.</body>",
			comments: []seedComment{
				{by: 1, html: "<body>Draft looks good. Can we add a line on the <strong>referral</strong> programme?</body>"},
				{by: 0, html: "<body>Added, see the Channels section.</body>"},
			},
			files: []seedFile{{name: "campaign-brief.txt", contentType: "text/plain; charset=utf-8", data: []byte(
				"Q3 campaign brief\n\nAudience: operations leads at 50-500 person companies.\n" +
					"Message: fewer tools, less busywork.\nKPIs: trial sign-ups, demo requests, webinar attendance.\n")}}},
		{name: "Website refresh: pricing page", subtype: "default_task", section: 1, assignee: 2, dueDays: 10,
			html: "<body>New pricing tiers go live with the refresh.\n<ol><li>Update the comparison table</li>" +
				"<li>Rewrite the FAQ</li><li>Add annual-billing toggle</li></ol>Mockups: <a href=\"https://example.com/figma/pricing\">Figma</a></body>",
			comments: []seedComment{{by: 2, html: "<body>The FAQ copy is in review with legal.</body>"}}},
		{name: "Launch webinar: Scaling ops with automation", subtype: "milestone", section: 0, assignee: -1, dueDays: 30,
			html: "<body>Milestone: the first webinar of the series is <strong>live</strong>.</body>"},
		{name: "Approve Q3 ad spend", subtype: "approval", section: 0, assignee: 0,
			html:     "<body>Requesting <strong>$18,000</strong> for paid social in Q3, split 60/40 LinkedIn/Instagram.</body>",
			comments: []seedComment{{by: 3, html: "<body>Finance is fine with this if we cap CPC at $4.</body>"}}},
		{name: "Newsletter: August edition", subtype: "default_task", section: 0, assignee: 1, dueDays: 18,
			html: "<body>Sections for August:\n<ol><li>Product updates</li><li>Customer story</li><li>Upcoming webinar</li></ol></body>"},
		{name: "Update brand guidelines (logo usage)", subtype: "default_task", section: 1, assignee: 3,
			renamed: "Brand guidelines",
			html:    "<body>Add <em>clear-space</em> and <em>minimum size</em> rules for the new logo. Use <code>#1F6FEB</code> for the accent.</body>",
			comments: []seedComment{
				{by: 3, html: "<body>Uploaded the current logo for reference.</body>"},
				{by: 1, html: "<body>Can we also cover the dark-mode variant?</body>"},
				{by: 3, html: "<body>Yes, adding a section for it.</body>"},
			},
			files: []seedFile{{name: "logo.png", contentType: "image/png", data: seedPNG()}}},
		{name: "Customer case study: Northwind", subtype: "default_task", section: 0, assignee: 1,
			html: "<body>Interview notes are in the shared drive. Focus on the <strong>onboarding time</strong> they saved.</body>"},
		{name: "Renew SaaS licences (Figma, Notion)", subtype: "default_task", section: 2, assignee: 0, done: true,
			html: "<body>Both renewed for 12 months; invoices forwarded to finance.</body>"},
		{name: "Trade show booth logistics", subtype: "default_task", section: 0, assignee: 2, dueDays: 40,
			html:     "<body>Checklist:\n<ul><li>Booth graphics</li><li>Shipping to the venue</li><li>Staff rota</li></ul></body>",
			comments: []seedComment{{by: 2, html: "<body>Shipping quote received, waiting on a second one.</body>"}}},
		{name: "Hire contract copywriter", subtype: "approval", section: 0, assignee: 3,
			html: "<body>Three months, 20 hours a week, for the campaign and website copy.</body>"},
		{name: "Social calendar for September", subtype: "default_task", section: 0, assignee: -1},
		{name: "Q3 marketing kickoff", subtype: "milestone", section: 2, assignee: 0, done: true,
			html: "<body>Kickoff held; notes shared with the team.</body>"},
	}
}

// emailDomain derives the users' e-mail domain from the workspace name:
// "Acme" gives acme.example.
func emailDomain(ws string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(ws) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		b.WriteString("workspace")
	}
	return b.String() + ".example"
}

// seedPNG draws a small logo-like image, so the demo has a real binary file.
func seedPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	accent := color.RGBA{R: 0x1f, G: 0x6f, B: 0xeb, A: 0xff}
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			c := color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
			if dx, dy := x-8, y-8; dx*dx+dy*dy <= 36 {
				c = accent
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // encoding an in-memory RGBA image cannot fail
	return buf.Bytes()
}
