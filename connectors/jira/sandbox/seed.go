package sandbox

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// seedProject is a project of both seeds with its issue types; review
// gives its workflow an In Review step (newWorkflow).
type seedProject struct {
	id, key, name, description string
	types                      []issueType
	review                     bool
}

var seedProjects = []seedProject{
	{"10000", "KAN", "Kanban", "The product team's board.", []issueType{
		{"10001", "Task", "A small, distinct piece of work.", 0},
		{"10002", "Bug", "A problem or error.", 0},
		{"10003", "Story", "A functionality or feature expressed as a user goal.", 0},
		{"10004", "Improvement", "An improvement or enhancement to an existing feature.", 0},
		{"10005", "Epic", "A collection of related bugs, stories, and tasks.", 1},
	}, true},
	{"10001", "OPS", "Operations", "Infrastructure and on-call work.", []issueType{
		{"10006", "Task", "A small, distinct piece of work.", 0},
		{"10007", "Bug", "A problem or error.", 0},
		{"10008", "Epic", "A collection of related bugs, stories, and tasks.", 1},
	}, false},
}

// seedIssue is a demo issue; ages are hours before the sandbox starts.
type seedIssue struct {
	project, itype, summary string
	description             string // ADF JSON, or "" for none
	createdAgo, updatedAgo  int
	comments                []string // plain-text paragraphs
	file                    *seedFile
	fields                  seedFields
}

// seedFields are a demo issue's fields beyond the Basic ones; zero values
// leave a new issue's defaults (To Do, Medium, nobody, no date, no
// labels).
type seedFields struct {
	status, priority string
	assignee         string // a seed user's local part (dana), "me" for the sandbox's account
	dueIn            int    // days after the seed's start; 0 for no due date
	labels           []string
}

type seedFile struct{ name, mimeType, body string }

var seedIssues = []seedIssue{
	{"KAN", "Task", "Set up CI pipeline for the mobile app",
		`{"version":1,"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"Build and test every pull request on "},{"type":"text","text":"both","marks":[{"type":"strong"}]},{"type":"text","text":" platforms:"}]},{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"iOS on macOS runners"}]}]},{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"Android with the "},{"type":"text","text":"gradle","marks":[{"type":"code"}]},{"type":"text","text":" cache"}]}]}]},{"type":"paragraph","content":[{"type":"text","text":"See the "},{"type":"text","text":"runbook","marks":[{"type":"link","attrs":{"href":"https://example.com/runbooks/ci"}}]},{"type":"text","text":"."}]}]}`,
		340, 20, []string{"Runners are provisioned; waiting on the signing certificates.", "Certificates arrived, pipeline is green."}, nil, seedFields{status: "Done", assignee: "dana", labels: []string{"ci", "mobile"}}},
	{"KAN", "Bug", "Login button unresponsive on Safari 17",
		`{"version":1,"type":"doc","content":[{"type":"heading","attrs":{"level":3},"content":[{"type":"text","text":"Steps to reproduce"}]},{"type":"orderedList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"Open the sign-in page in Safari 17"}]}]},{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"Click "},{"type":"text","text":"Log in","marks":[{"type":"em"}]}]}]}]},{"type":"paragraph","content":[{"type":"text","text":"Nothing happens; the console shows a CSP error."}]}]}`,
		300, 6, []string{"Reproduced on macOS 14.4; console log attached."},
		&seedFile{"safari-console.txt", "text/plain", "Refused to execute inline script because it violates the Content Security Policy directive: \"script-src 'self'\".\n"}, seedFields{status: "In Progress", priority: "High", assignee: "alex", dueIn: 3, labels: []string{"frontend", "safari"}}},
	{"KAN", "Story", "As a customer I can export my invoices as CSV",
		`{"version":1,"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"Finance teams reconcile invoices in spreadsheets. Offer a CSV export on the invoices page with the columns number, date, amount and status."}]},{"type":"blockquote","content":[{"type":"paragraph","content":[{"type":"text","text":"We copy 200 invoices by hand every month. — Customer interview"}]}]}]}`,
		250, 48, nil, nil, seedFields{labels: []string{"customer-request"}, dueIn: 21}},
	{"KAN", "Improvement", "Reduce cold start time of the API gateway", "", 200, 200, nil, nil, seedFields{priority: "Low"}},
	{"KAN", "Epic", "Q3 onboarding revamp",
		`{"version":1,"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"Cut time-to-first-value for new workspaces "},{"type":"text","text":"in half","marks":[{"type":"em"},{"type":"underline"}]},{"type":"text","text":"."}]}]}`,
		180, 30, []string{"Kick-off is booked for Monday."}, nil, seedFields{status: "In Progress", assignee: "priya", dueIn: 45}},
	{"KAN", "Task", "Update the privacy policy page",
		`{"version":1,"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"Legal sent the new wording; publish it and bump the date."}]},{"type":"codeBlock","attrs":{"language":"text"},"content":[{"type":"text","text":"Last updated: 1 October"}]}]}`,
		90, 3, nil, nil, seedFields{status: "In Review", assignee: "jordan", dueIn: 2, labels: []string{"legal"}}},
	{"OPS", "Task", "Rotate TLS certificates on the edge proxies", "", 120, 100, nil, nil, seedFields{priority: "High", dueIn: 7}},
	{"OPS", "Bug", "Nightly backup job fails on the reporting database",
		`{"version":1,"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"The job exits with "},{"type":"text","text":"pg_dump: error: connection lost","marks":[{"type":"code"}]},{"type":"text","text":" since Tuesday."}]}]}`,
		60, 10, []string{"Disk on the replica was full; cleaned up, watching tonight's run."}, nil, seedFields{status: "In Progress", priority: "Highest", assignee: "me", labels: []string{"database", "on-call"}}},
	{"OPS", "Epic", "Migrate monitoring to OpenTelemetry", "", 400, 150, nil, nil, seedFields{}},
}

// seedStore fills st with the projects and, for the demo seed, issues.
// Seed times are in the past, so a lagging search index already has them.
func seedStore(st *store, demo bool) {
	for _, sp := range seedProjects {
		p := &project{id: sp.id, key: sp.key, name: sp.name, description: sp.description,
			workflow: newWorkflow(st.statuses, sp.key, sp.review)}
		for _, t := range sp.types {
			p.types = append(p.types, &t)
		}
		st.projects = append(st.projects, p)
	}
	if !demo {
		return
	}
	start := st.clk.now().Truncate(time.Minute)
	// Issues are created in age order, so ids and keys grow with created.
	order := make([]int, 0, len(seedIssues))
	for i := range seedIssues {
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(seedIssues[b].createdAgo, seedIssues[a].createdAgo)
	})
	for _, i := range order {
		si := seedIssues[i]
		p := st.project(si.project)
		var desc json.RawMessage
		if si.description != "" {
			doc, err := checkADF(json.RawMessage(si.description))
			if err != nil {
				panic(fmt.Sprintf("seed issue %q: invalid ADF: %v", si.summary, err))
			}
			desc = doc
		}
		created := start.Add(-time.Duration(si.createdAgo) * time.Hour)
		updated := start.Add(-time.Duration(si.updatedAgo) * time.Hour)
		is := st.addIssue(p, p.issueType("", si.itype), si.summary, desc, created,
			func(cur *issueState) { si.fields.fill(st, p, cur, start) })
		step := updated.Sub(created) / time.Duration(len(si.comments)+2)
		at := created
		for _, text := range si.comments {
			at = at.Add(step)
			body, _ := json.Marshal(map[string]any{"version": 1, "type": "doc", "content": []any{
				map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": text}}}}})
			is.cur.comments = append(is.cur.comments, comment{id: st.newCommentID(), body: body, created: at, updated: at})
			st.indexed(is, at)
		}
		if f := si.file; f != nil {
			at = at.Add(step)
			a := &attachment{id: st.newFileID(), filename: f.name, mimeType: f.mimeType, created: at, data: []byte(f.body), issue: is}
			st.files[a.id] = a
			is.cur.attachments = append(is.cur.attachments, a)
			st.indexed(is, at)
		}
		if updated.After(is.cur.updated) {
			st.indexed(is, updated)
		}
		st.ticks.Observe(is.cur.updated)
	}
}

// fill sets a demo issue's fields beyond the Basic ones; a name the site
// lacks is a bug in the seed.
func (f seedFields) fill(st *store, p *project, cur *issueState, start time.Time) {
	if f.status != "" {
		if cur.status = statusNamed(p.workflow.statuses, f.status); cur.status == nil {
			panic(fmt.Sprintf("seed: project %s has no status %q", p.key, f.status))
		}
	}
	if f.priority != "" {
		if cur.priority = findPriority(st.priorities, "", f.priority); cur.priority == nil {
			panic(fmt.Sprintf("seed: no priority %q", f.priority))
		}
	}
	if f.assignee != "" {
		for _, u := range st.users {
			if f.assignee == "me" && u == st.me || strings.HasPrefix(u.email, f.assignee+"@") {
				cur.assignee = u
				break
			}
		}
		if cur.assignee == nil {
			panic(fmt.Sprintf("seed: no user %q", f.assignee))
		}
	}
	if f.dueIn != 0 {
		cur.duedate = start.In(st.me.loc).AddDate(0, 0, f.dueIn).Format(time.DateOnly)
	}
	cur.labels = slices.Sorted(slices.Values(f.labels))
}
