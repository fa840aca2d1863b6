package script

import _ "embed"

// The file names the scripts of a connection have, on the node and in an
// export.
const (
	OutgoingName = "outgoing.star"
	IncomingName = "incoming.star"
)

//go:embed basic/outgoing.star
var basicOutgoing string

//go:embed basic/incoming.star
var basicIncoming string

// Scripts are the two scripts of one side of a connection, as source.
type Scripts struct {
	Outgoing string
	Incoming string
}

// BasicScripts returns the scripts that do what the Basic rules do: the
// type mirrored (a type this side lacks becomes its default type), the
// summary, the description, the comments and the attachments. Upgrading
// a connection to Script mode starts from them, so nothing changes until
// an admin edits them.
func BasicScripts() Scripts {
	return Scripts{Outgoing: basicOutgoing, Incoming: basicIncoming}
}
