package engine

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestBasicRules(t *testing.T) {
	rules := BasicRules()
	var sides []string
	for i, r := range rules {
		if r.Order != i+1 {
			t.Errorf("rule %d has order %d", i, r.Order)
		}
		if r.ThisSide != r.OtherSide {
			t.Errorf("rule %d maps %s to %s; Basic mode maps each field to itself", r.Order, r.ThisSide, r.OtherSide)
		}
		sides = append(sides, r.ThisSide)
	}
	if want := []string{"Type", "Summary", "Description", "Comments", "Attachments"}; !slices.Equal(sides, want) {
		t.Fatalf("rules %v, want %v", sides, want)
	}
	rules[0].ThisSide = "changed"
	if BasicRules()[0].ThisSide != "Type" {
		t.Error("changing the returned rules changed the Basic rules")
	}
	b, err := json.Marshal(BasicRules()[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"order":1`, `"this_side":"Type"`, `"other_side":"Type"`, `"note":"mirrored;`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON %s lacks %s", b, k)
		}
	}
}
