package tracker

// The fields beyond Basic: what Script mode can map (status, assignee,
// due date, priority, labels, a tracker's own custom fields). Basic syncs
// none of them; a connector reads them in Get and writes those an update
// sets. Each tracker has its own words for them, and a connector maps its
// own onto these without translating values: a Jira status stays "In
// Progress", an Asana section stays its section's name. Mapping one
// tracker's values to the other's is the scripts' work.

// Fields holds an item's fields beyond Basic. The zero value is an item
// with none of them set.
type Fields struct {
	// Status is the workflow status by name: Jira's status ("To Do",
	// "In Progress", "Done"). "" on a tracker without one (Asana).
	Status string `json:"status,omitempty"`
	// Completed says the item is done: Asana's completed; on Jira, a
	// status in the "done" category.
	Completed bool `json:"completed,omitempty"`
	// Section is the section (Asana) or board column the item is in, in
	// the project it is synced from; "" where the tracker has none.
	Section string `json:"section,omitempty"`
	// Assignee is the user the item is assigned to, nil for nobody.
	Assignee *User `json:"assignee,omitempty"`
	// DueDate is the due date as YYYY-MM-DD, "" for none.
	DueDate string `json:"due_date,omitempty"`
	// Priority is the priority by name: Jira's priority ("High"); on
	// Asana the option of an enum custom field named "Priority", if the
	// project has one.
	Priority string `json:"priority,omitempty"`
	// Labels are Jira's labels, or Asana's tags by name, sorted.
	Labels []string `json:"labels,omitempty"`
	// Custom are the tracker's own custom fields by name: an enum's option
	// name, a text, or a number written as text.
	Custom map[string]string `json:"custom,omitempty"`
}

// User is a tracker user as the scripts match them: by e-mail, the one
// thing two companies' trackers share; Name is for showing.
type User struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// FieldsUpdate changes the fields beyond Basic that are not nil. An update
// a tracker can't make is an error naming the field and the value, marked
// ErrBadRequest (Jira's "no transition from To Do to Done in this
// workflow"), or ErrUnknownUser for an assignee no user has.
type FieldsUpdate struct {
	// Status moves the item to the status of that name (Jira: through the
	// transition that leads there).
	Status *string
	// Completed completes or reopens the item (Asana).
	Completed *bool
	// Section moves the item to the section of that name in its project.
	Section *string
	// Assignee assigns the item to the user with this e-mail; "" leaves
	// it unassigned.
	Assignee *string
	// DueDate sets the due date (YYYY-MM-DD); "" clears it.
	DueDate *string
	// Priority sets the priority by name; "" clears it where allowed.
	Priority *string
	// Labels replaces the labels (Asana: the tags, made when missing).
	Labels *[]string
	// Custom sets custom fields by name to an option name, a text or a
	// number written as text; "" clears one.
	Custom map[string]string
}

// Empty says the update changes none of the fields beyond Basic.
func (u FieldsUpdate) Empty() bool {
	return u.Status == nil && u.Completed == nil && u.Section == nil && u.Assignee == nil &&
		u.DueDate == nil && u.Priority == nil && u.Labels == nil && len(u.Custom) == 0
}
