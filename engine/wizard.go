package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The console's wizard asks these before it commits to anything: nothing
// here creates, redeems or changes a connection on either node.

// DestinationProjects is the "Yes, I have admin access" path's check of the
// destination: it probes destURL and lists the destination's projects with
// its admin token, so a wrong URL or token is caught before anything is
// created. This node's own URL (a local connection) gives this node's info
// and projects, with no token needed. The token is never logged nor put in
// an error.
func (n *connections) DestinationProjects(ctx context.Context, destURL, adminToken string) (Instance, []Project, error) {
	to, err := NormalizeURL(destURL)
	if err != nil {
		return Instance{}, nil, err
	}
	if to == n.inst.URL {
		ps, err := n.tracker.Projects(ctx)
		if err != nil {
			return Instance{}, nil, fmt.Errorf("listing the %s projects: %w", n.tracker.Kind(), err)
		}
		return n.info(), ps, nil
	}
	adminToken = strings.TrimSpace(adminToken)
	if adminToken == "" {
		return Instance{}, nil, Errorf(ErrBadRequest, "the destination's admin token is required")
	}
	dest, err := n.Probe(ctx, to)
	if err != nil {
		return Instance{}, nil, err
	}
	// Only a node with a mode in common can be connected to; which mode
	// is the admin's choice, checked when the connection is made.
	if err := n.modeThere(dest, ModeBasic); errors.Is(err, ErrIncompatible) {
		return Instance{}, nil, err
	}
	var ps []Project
	err = n.getJSON(ctx, dest.URL+PathProjects, http.Header{"Authorization": {"Bearer " + adminToken}}, &ps)
	var refused *PeerError
	switch {
	case errors.As(err, &refused) && refused.Status == http.StatusUnauthorized:
		return Instance{}, nil, Errorf(ErrBadRequest, "the destination refused the admin token: check it and try again")
	case err != nil:
		return Instance{}, nil, fmt.Errorf("listing the projects of %s: %w", dest.Name, err)
	}
	if ps == nil {
		ps = []Project{}
	}
	return dest, ps, nil
}

// InvitationCheck asks an inviting node whether one of its invitations can
// still be redeemed. Like a redemption it travels unsigned: the secret
// authenticates it.
type InvitationCheck struct {
	ConnectionID string `json:"connection_id"`
	Secret       []byte `json:"secret"`
}

// InvitationCheckResponse is the inviting node's yes to a check.
type InvitationCheckResponse struct {
	// ProjectName is the initiator's project for the connection.
	ProjectName string `json:"project_name"`
}

// PreviewInvitation tells what accepting code would connect to, without
// accepting it: it checks the code as Accept does, reaches the initiator
// and asks it whether the code can still be redeemed. The errors are
// Accept's (ErrInvitationMalformed, ErrInvitationUsed, ErrUnreachable, ...);
// neither node changes.
func (n *connections) PreviewInvitation(ctx context.Context, code string) (InvitationPreview, error) {
	inv, err := n.acceptable(code)
	if err != nil {
		return InvitationPreview{}, err
	}
	initiator, err := n.Probe(ctx, inv.URL)
	if err != nil {
		return InvitationPreview{}, fmt.Errorf("the inviting node %s: %w", inv.Name, err)
	}
	if err := urlAsInvited(inv, initiator.URL); err != nil {
		return InvitationPreview{}, err
	}
	var resp InvitationCheckResponse
	err = n.postJSON(ctx, inv.URL+PathCheckInvitation, nil, InvitationCheck{ConnectionID: inv.ConnectionID, Secret: inv.Secret}, &resp)
	var refused *PeerError
	switch {
	case errors.As(err, &refused) && refused.Status == http.StatusNotFound && refused.Code == "":
		return InvitationPreview{}, fmt.Errorf("the inviting node %s runs a tandem that can't check invitations (%s): accept the code to find out whether it works",
			inv.Name, initiator.Version)
	case errors.As(err, &refused) && refused.Status/100 == 4:
		return InvitationPreview{}, invitationError(err)
	case err != nil:
		return InvitationPreview{}, fmt.Errorf("checking the invitation with %s: %w", inv.Name, err)
	}
	project := resp.ProjectName
	if project == "" {
		project = inv.ProjectName
	}
	return InvitationPreview{Initiator: initiator, ProjectName: project, Mode: inv.Mode, Expires: inv.Expires}, nil
}

// CheckInvitation is the initiator's side of PreviewInvitation: it answers
// as Redeem would (ErrInvitationRefused, ErrInvitationUsed,
// ErrInvitationExpired) but redeems nothing.
func (n *connections) CheckInvitation(ctx context.Context, r InvitationCheck) (InvitationCheckResponse, error) {
	c, err := n.redeemable(ctx, r.ConnectionID, r.Secret, "check")
	if err != nil {
		return InvitationCheckResponse{}, err
	}
	return InvitationCheckResponse{ProjectName: c.LocalProjectName}, nil
}
