package jira

import "github.com/tandem-sync/tandem/connectors/internal/apiclient"

// Stats counts the requests a client sent, so the engine and the benchmarks
// can report API calls per synced issue. Every attempt counts, retries
// included, because Jira counts refused requests against the limit too.
// Each download (GET /attachment/content/{id}) is also one of Reads: on
// Jira the bytes come through the API and count against its limits.
// Retries include 409s on updates.
type Stats = apiclient.Stats

// Stats is a snapshot of the requests sent so far.
func (c *Client) Stats() Stats { return c.api.Stats() }
