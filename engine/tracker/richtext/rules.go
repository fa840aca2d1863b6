package richtext

// The tag set follows Asana's rich text documentation
// (https://developers.asana.com/docs/rich-text): the base tags every rich
// text field returns, the block tags task descriptions and project briefs
// gained in 2022 (h1, h2, hr, img, table, object, plus blockquote and pre for
// quotes and code blocks), and the attributes the API itself returns on <a>,
// <img> and <object>. Validate must accept everything Asana hands back,
// otherwise a description read from one task could not be written to
// another; it rejects what Asana answers with 400 Bad Request.

// content says which children an element may hold.
type content int

const (
	// inlineContent is text plus the inline formatting tags.
	inlineContent content = iota
	// flowContent is what <body> holds: text, inline tags and blocks.
	flowContent
	// itemContent is what <li> holds: inline content and nested lists.
	itemContent
	// onlyChildren holds the named child elements and whitespace, no text.
	onlyChildren
	// emptyContent holds nothing at all (void elements).
	emptyContent
)

// rule describes one allowed tag.
type rule struct {
	content  content
	children []string // for onlyChildren: the allowed child tags
	// inline tags may appear wherever inline content is allowed.
	inline bool
	// noNewline forbids line breaks in the text (headers are one line).
	noNewline bool
	attrs     map[string]bool
	// oneOf lists attributes of which at least one must be present.
	oneOf []string
}

// linkAttrs are the attributes the API documents on <a>; writers need only
// data-asana-gid (Asana expands it) or an href.
var linkAttrs = map[string]bool{
	"href":                  true,
	"data-asana-accessible": true,
	"data-asana-dynamic":    true,
	"data-asana-type":       true,
	"data-asana-gid":        true,
	"data-asana-project":    true,
	"data-asana-tag":        true,
}

// imageAttrs are what Asana returns on an inline image; writers need only
// data-asana-gid, the attachment holding the picture.
var imageAttrs = map[string]bool{
	"data-asana-gid":        true,
	"data-asana-type":       true,
	"data-asana-deleted":    true,
	"src":                   true,
	"alt":                   true,
	"style":                 true,
	"data-src-width":        true,
	"data-src-height":       true,
	"data-thumbnail-url":    true,
	"data-thumbnail-width":  true,
	"data-thumbnail-height": true,
}

// objectAttrs cover external media embeds, milestone and goal lists.
var objectAttrs = map[string]bool{
	"type":            true,
	"data":            true,
	"data-asana-gid":  true,
	"data-asana-type": true,
	"style":           true,
}

// rules is read-only after package initialisation; it is a table, not state.
var rules = map[string]rule{
	"body":       {content: flowContent},
	"strong":     {content: inlineContent, inline: true},
	"em":         {content: inlineContent, inline: true},
	"u":          {content: inlineContent, inline: true},
	"s":          {content: inlineContent, inline: true},
	"code":       {content: inlineContent, inline: true},
	"a":          {content: inlineContent, inline: true, attrs: linkAttrs, oneOf: []string{"href", "data-asana-gid"}},
	"ul":         {content: onlyChildren, children: []string{"li"}},
	"ol":         {content: onlyChildren, children: []string{"li"}},
	"li":         {content: itemContent},
	"h1":         {content: inlineContent, noNewline: true},
	"h2":         {content: inlineContent, noNewline: true},
	"blockquote": {content: inlineContent},
	"pre":        {content: inlineContent},
	"hr":         {content: emptyContent},
	"img":        {content: emptyContent, attrs: imageAttrs, oneOf: []string{"data-asana-gid"}},
	"object":     {content: inlineContent, attrs: objectAttrs, oneOf: []string{"type"}},
	"table":      {content: onlyChildren, children: []string{"tr"}},
	"tr":         {content: onlyChildren, children: []string{"td"}},
	"td":         {content: inlineContent},
}

// blockTags may sit directly in <body> but not inside inline content.
var blockTags = map[string]bool{
	"ul": true, "ol": true, "h1": true, "h2": true, "blockquote": true,
	"pre": true, "hr": true, "img": true, "object": true, "table": true,
}

// allows reports whether an element with rule parent may contain child.
func (parent rule) allows(child string) bool {
	switch parent.content {
	case flowContent:
		return rules[child].inline || blockTags[child]
	case inlineContent:
		return rules[child].inline
	case itemContent:
		return rules[child].inline || child == "ul" || child == "ol"
	case onlyChildren:
		for _, c := range parent.children {
			if c == child {
				return true
			}
		}
	}
	return false
}

// allowsText reports whether non-whitespace text may appear directly inside.
func (parent rule) allowsText() bool {
	return parent.content != onlyChildren && parent.content != emptyContent
}
