package tui

// wizardStep marks the screens of setting up a connection: q there asks
// before quitting, since what was chosen so far is not saved anywhere.
// ctrl+c still quits at once.
type wizardStep interface{ wizardStep() }

func (*initiateScreen) wizardStep() {}
func (*modeScreen) wizardStep()     {}
func (*projectScreen) wizardStep()  {}
func (*accessScreen) wizardStep()   {}
func (*verifyScreen) wizardStep()   {}
func (*confirmScreen) wizardStep()  {}
func (*acceptScreen) wizardStep()   {}

// quitQuestion is asked in place of the help line.
const quitQuestion = "Quit while setting up a connection? What you chose is not saved."

func inWizard(s screen) bool {
	_, ok := s.(wizardStep)
	return ok
}

// explainer is a screen that answers ? with an explanation of its own
// (the sync status explains the five stages) instead of the full help.
type explainer interface{ explains() }

func (*syncScreen) explains() {}
