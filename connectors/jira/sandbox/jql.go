package sandbox

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The JQL subset the sandbox understands; see doc.go. Anything else is a
// 400 "Error in the JQL Query", so a client never mistakes an unsupported
// query for an empty result.

// jqlQuery is a parsed query: clauses joined by AND, then the order.
type jqlQuery struct {
	clauses []jqlClause
	order   []jqlSort
}

type jqlClause struct {
	field  string // canonical: project, issuetype, summary, updated, created, key
	op     string // =, in, ~, >, >=, <, <=
	values []string
	at     time.Time // dates, resolved in the user's zone
}

type jqlSort struct {
	field string // updated, created, key
	desc  bool
}

type jqlToken struct {
	text   string
	quoted bool
	pos    int // 1-based character, for messages
}

// jqlError is Jira's 400 for a query it cannot run.
func jqlError(format string, args ...any) *apiError {
	return badRequest("Error in the JQL Query: "+format, args...)
}

var jqlFields = map[string]string{
	"project": "project", "issuetype": "issuetype", "type": "issuetype", "summary": "summary",
	"updated": "updated", "updateddate": "updated", "created": "created", "createddate": "created",
	"key": "key", "issuekey": "key", "issue": "key", "id": "key",
}

// tokenize splits a query into words, quoted strings and operators.
func tokenize(q string) ([]jqlToken, error) {
	var out []jqlToken
	rs := []rune(q)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '"' || r == '\'':
			start := i
			var b strings.Builder
			i++
			for ; i < len(rs) && rs[i] != r; i++ {
				if rs[i] == '\\' && i+1 < len(rs) {
					i++
				}
				b.WriteRune(rs[i])
			}
			if i >= len(rs) {
				return nil, jqlError("The quoted string starting at character %d is not closed. (line 1, character %d)", start+1, start+1)
			}
			i++
			out = append(out, jqlToken{text: b.String(), quoted: true, pos: start + 1})
		case strings.ContainsRune("(),", r):
			out = append(out, jqlToken{text: string(r), pos: i + 1})
			i++
		case strings.ContainsRune("=!<>~", r):
			start := i
			i++
			if i < len(rs) && rs[i] == '=' || (r == '!' && i < len(rs) && rs[i] == '~') {
				i++
			}
			out = append(out, jqlToken{text: string(rs[start:i]), pos: start + 1})
		default:
			start := i
			for i < len(rs) && !unicode.IsSpace(rs[i]) && !strings.ContainsRune("(),=!<>~\"'", rs[i]) {
				i++
			}
			out = append(out, jqlToken{text: string(rs[start:i]), pos: start + 1})
		}
	}
	return out, nil
}

// parseJQL parses q, resolving dates in loc at now.
func parseJQL(q string, loc *time.Location, now time.Time) (*jqlQuery, error) {
	toks, err := tokenize(q)
	if err != nil {
		return nil, err
	}
	p := &jqlParser{toks: toks, loc: loc, now: now}
	return p.parse()
}

type jqlParser struct {
	toks []jqlToken
	i    int
	loc  *time.Location
	now  time.Time
}

func (p *jqlParser) peek() *jqlToken {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *jqlParser) next() *jqlToken {
	t := p.peek()
	if t != nil {
		p.i++
	}
	return t
}

func (p *jqlParser) isKeyword(t *jqlToken, kw string) bool {
	return t != nil && !t.quoted && strings.EqualFold(t.text, kw)
}

func (p *jqlParser) parse() (*jqlQuery, error) {
	q := &jqlQuery{}
	for p.peek() != nil && !p.isKeyword(p.peek(), "order") {
		if len(q.clauses) > 0 {
			t := p.next()
			if !p.isKeyword(t, "and") {
				if p.isKeyword(t, "or") {
					return nil, jqlError("the sandbox supports only clauses joined by AND, not OR. (line 1, character %d)", t.pos)
				}
				return nil, jqlError("Expecting either 'OR' or 'AND' but got '%s'. (line 1, character %d)", t.text, t.pos)
			}
		}
		c, err := p.clause()
		if err != nil {
			return nil, err
		}
		q.clauses = append(q.clauses, c)
	}
	if t := p.next(); t != nil {
		if by := p.next(); !p.isKeyword(by, "by") {
			return nil, jqlError("Expecting 'by' after 'order'. (line 1, character %d)", t.pos)
		}
		for {
			f := p.next()
			if f == nil {
				return nil, jqlError("Expecting a field name after 'order by'.")
			}
			name := jqlFields[strings.ToLower(f.text)]
			if name != "updated" && name != "created" && name != "key" {
				return nil, jqlError("Not able to sort using field '%s'; the sandbox sorts by updated, created or key. (line 1, character %d)", f.text, f.pos)
			}
			s := jqlSort{field: name}
			if d := p.peek(); p.isKeyword(d, "asc") || p.isKeyword(d, "desc") {
				s.desc = p.isKeyword(d, "desc")
				p.next()
			}
			q.order = append(q.order, s)
			if c := p.peek(); c == nil || c.text != "," || c.quoted {
				break
			}
			p.next()
		}
		if t := p.peek(); t != nil {
			return nil, jqlError("Expecting ',' or the end of the query but got '%s'. (line 1, character %d)", t.text, t.pos)
		}
	}
	return q, nil
}

func (p *jqlParser) clause() (jqlClause, error) {
	f := p.next()
	if f == nil {
		return jqlClause{}, jqlError("Expecting a field name at the end of the query.")
	}
	if f.text == "(" || p.isKeyword(f, "not") {
		return jqlClause{}, jqlError("the sandbox does not support '%s' (parentheses and NOT). (line 1, character %d)", f.text, f.pos)
	}
	name, ok := jqlFields[strings.ToLower(f.text)]
	if !ok {
		return jqlClause{}, jqlError("Field '%s' does not exist or you do not have permission to view it.", f.text)
	}
	opTok := p.next()
	if opTok == nil {
		return jqlClause{}, jqlError("Expecting operator but got the end of the query.")
	}
	c := jqlClause{field: name, op: strings.ToLower(opTok.text)}
	allowed := map[string][]string{
		"project": {"=", "in"}, "issuetype": {"=", "in"}, "key": {"=", "in"},
		"summary": {"~"}, "updated": {"=", ">", ">=", "<", "<="}, "created": {"=", ">", ">=", "<", "<="},
	}[name]
	ok = false
	for _, a := range allowed {
		ok = ok || a == c.op
	}
	if !ok || opTok.quoted {
		return jqlClause{}, jqlError("The operator '%s' is not supported by the '%s' field. (line 1, character %d)", opTok.text, f.text, opTok.pos)
	}
	if c.op == "in" {
		if t := p.next(); t == nil || t.text != "(" || t.quoted {
			return jqlClause{}, jqlError("Expecting '(' after 'in'. (line 1, character %d)", opTok.pos)
		}
		for {
			v := p.next()
			if v == nil || (!v.quoted && (v.text == ")" || v.text == ",")) {
				return jqlClause{}, jqlError("Expecting a value in the list after 'in'.")
			}
			c.values = append(c.values, v.text)
			sep := p.next()
			if sep != nil && sep.text == ")" && !sep.quoted {
				break
			}
			if sep == nil || sep.text != "," || sep.quoted {
				return jqlClause{}, jqlError("Expecting ',' or ')' in the list after 'in'.")
			}
		}
		return c, nil
	}
	v := p.next()
	if v == nil || (!v.quoted && strings.ContainsAny(v.text, "(),")) {
		return jqlClause{}, jqlError("Expecting a value after '%s'. (line 1, character %d)", opTok.text, opTok.pos)
	}
	c.values = []string{v.text}
	if name == "updated" || name == "created" {
		at, err := jqlDate(v.text, p.loc, p.now)
		if err != nil {
			return jqlClause{}, jqlError("Date value '%s' for field '%s' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.", v.text, f.text)
		}
		c.at = at
	}
	return c, nil
}

var relativeDate = regexp.MustCompile(`^([-+]?)((?:\d+[wdhm]\s*)+)$`)
var relativePart = regexp.MustCompile(`(\d+)([wdhm])`)

// jqlDate reads a JQL date: absolute ones have minute precision and are in
// the user's zone; relative ones ("-5m", "-1d 2h") count from now.
func jqlDate(v string, loc *time.Location, now time.Time) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04", "2006/01/02 15:04", "2006-01-02", "2006/01/02"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	m := relativeDate.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return time.Time{}, fmt.Errorf("not a date")
	}
	var d time.Duration
	for _, part := range relativePart.FindAllStringSubmatch(m[2], -1) {
		n, _ := strconv.Atoi(part[1])
		unit := map[string]time.Duration{"w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "m": time.Minute}[part[2]]
		d += time.Duration(n) * unit
	}
	if m[1] == "-" {
		d = -d
	}
	return now.Add(d).Truncate(time.Minute), nil
}
