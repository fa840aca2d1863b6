package adf

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func doc(content string) string {
	return `{"version":1,"type":"doc","content":[` + content + `]}`
}

func TestValidAccepts(t *testing.T) {
	for _, tc := range realisticADF {
		t.Run(tc.name, func(t *testing.T) {
			if err := Valid(json.RawMessage(tc.adf)); err != nil {
				t.Fatalf("Valid = %v", err)
			}
		})
	}
	for name, d := range map[string]string{
		"empty":          doc(``),
		"empty para":     doc(`{"type":"paragraph"}`),
		"code with link": doc(`{"type":"paragraph","content":[{"type":"text","text":"x","marks":[{"type":"code"},{"type":"link","attrs":{"href":"https://x"}}]}]}`),
		"aligned para":   doc(`{"type":"paragraph","marks":[{"type":"alignment","attrs":{"align":"center"}}],"content":[{"type":"text","text":"x"}]}`),
		"task list":      doc(`{"type":"taskList","attrs":{"localId":"a"},"content":[{"type":"taskItem","attrs":{"localId":"b","state":"TODO"},"content":[{"type":"text","text":"x"}]}]}`),
		"card by data":   doc(`{"type":"blockCard","attrs":{"data":{"url":"https://x"}}}`),
	} {
		t.Run(name, func(t *testing.T) {
			if err := Valid(json.RawMessage(d)); err != nil {
				t.Fatalf("Valid = %v", err)
			}
		})
	}
}

func TestValidRejects(t *testing.T) {
	txt := `{"type":"text","text":"x"}`
	for name, tc := range map[string]struct{ doc, want string }{
		"not json":          {`{`, "not JSON"},
		"array":             {`[]`, "not a JSON object"},
		"wrong type":        {`{"version":1,"type":"paragraph","content":[]}`, `type is "paragraph"`},
		"version 2":         {`{"version":2,"type":"doc","content":[]}`, "version must be 1"},
		"no version":        {`{"type":"doc","content":[]}`, "version must be 1"},
		"no content":        {`{"version":1,"type":"doc"}`, "content must be an array"},
		"unknown node":      {doc(`{"type":"marquee"}`), `content[0]: unknown node type "marquee"`},
		"text at top":       {doc(txt), "content[0]: text is not allowed here"},
		"empty text":        {doc(`{"type":"paragraph","content":[{"type":"text","text":""}]}`), "content[0].content[0]: text nodes must have non-empty text"},
		"heading level 7":   {doc(`{"type":"heading","attrs":{"level":7}}`), "heading level must be an integer from 1 to 6"},
		"heading no level":  {doc(`{"type":"heading"}`), "heading level"},
		"code with strong":  {doc(`{"type":"paragraph","content":[{"type":"text","text":"x","marks":[{"type":"code"},{"type":"strong"}]}]}`), "code mark cannot combine with strong"},
		"unknown mark":      {doc(`{"type":"paragraph","content":[{"type":"text","text":"x","marks":[{"type":"blink"}]}]}`), `unknown mark "blink"`},
		"duplicate mark":    {doc(`{"type":"paragraph","content":[{"type":"text","text":"x","marks":[{"type":"em"},{"type":"em"}]}]}`), "mark em appears twice"},
		"link without href": {doc(`{"type":"paragraph","content":[{"type":"text","text":"x","marks":[{"type":"link","attrs":{}}]}]}`), "link mark needs attrs.href"},
		"empty list":        {doc(`{"type":"bulletList","content":[]}`), "needs at least 1 node"},
		"item starts list":  {doc(`{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph"}]}]}]}]}`), "bulletList cannot come first"},
		"para in list":      {doc(`{"type":"bulletList","content":[{"type":"paragraph"}]}`), "paragraph is not allowed here"},
		"marks in code":     {doc(`{"type":"codeBlock","content":[{"type":"text","text":"x","marks":[{"type":"em"}]}]}`), "text in a codeBlock cannot have marks"},
		"rule with content": {doc(`{"type":"rule","content":[` + txt + `]}`), "rule cannot have content"},
		"content not array": {doc(`{"type":"paragraph","content":{}}`), "content must be an array"},
		"node not object":   {doc(`"paragraph"`), "content[0]: not a JSON object"},
		"heading in item":   {doc(`{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"heading","attrs":{"level":1}}]}]}`), "heading is not allowed here"},
		"mention no id":     {doc(`{"type":"paragraph","content":[{"type":"mention","attrs":{"text":"@x"}}]}`), "mention needs attrs.id"},
		"mark on rule":      {doc(`{"type":"rule","marks":[{"type":"strong"}]}`), `rule cannot have mark "strong"`},
	} {
		t.Run(name, func(t *testing.T) {
			err := Valid(json.RawMessage(tc.doc))
			if !errors.Is(err, ErrInvalidADF) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Valid(%s) = %v, want an ErrInvalidADF error containing %q", tc.doc, err, tc.want)
			}
		})
	}
}
