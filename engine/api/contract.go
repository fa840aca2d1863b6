package api

import "github.com/tandem-sync/tandem/engine/adminapi"

// The admin API's bodies are defined once, in engine/adminapi; these names
// keep the callers that name them through this package compiling.
type (
	// ProbeRequest is the body of POST /api/v1/admin/probe.
	ProbeRequest = adminapi.ProbeRequest
	// InviteRequest is the body of POST /api/v1/admin/invitations.
	InviteRequest = adminapi.InviteRequest
	// InviteResponse carries the new connection and its invitation code.
	InviteResponse = adminapi.InviteResponse
	// ConnectRequest is the body of POST /api/v1/admin/connect.
	ConnectRequest = adminapi.ConnectRequest
	// TriggerRequest is the body of POST /api/v1/admin/connections/{id}/trigger.
	TriggerRequest = adminapi.TriggerRequest
	// ExalateRequest is the body of POST /api/v1/admin/exalate.
	ExalateRequest = adminapi.ExalateRequest
	// ExalateResponse lists the syncs started.
	ExalateResponse = adminapi.ExalateResponse
	// DestinationRequest is the body of POST /api/v1/admin/destination/projects.
	DestinationRequest = adminapi.DestinationRequest
	// DestinationResponse describes the destination and lists its projects.
	DestinationResponse = adminapi.DestinationResponse
	// PreviewRequest is the body of POST /api/v1/admin/invitations/preview.
	PreviewRequest = adminapi.PreviewRequest
)
