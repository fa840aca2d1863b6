package engine

// Rule is one line of a connection's rules: a field on this side, the field
// it maps to on the other side, and what the mapping does to it.
type Rule struct {
	Order     int    `json:"order"`
	ThisSide  string `json:"this_side"`
	OtherSide string `json:"other_side"`
	Note      string `json:"note,omitempty"`
}

// BasicRules returns the fixed rules of Basic mode (DESIGN.md §3), in order.
// Each call returns a new slice, so a caller may change what it gets.
func BasicRules() []Rule {
	return []Rule{
		{Order: 1, ThisSide: "Type", OtherSide: "Type", Note: "mirrored; a type the destination lacks becomes its default type"},
		{Order: 2, ThisSide: "Summary", OtherSide: "Summary"},
		{Order: 3, ThisSide: "Description", OtherSide: "Description", Note: "rich text"},
		{Order: 4, ThisSide: "Comments", OtherSide: "Comments", Note: "each mapped once, author shown"},
		{Order: 5, ThisSide: "Attachments", OtherSide: "Attachments", Note: "bytes copied, up to the tracker's limit"},
	}
}
