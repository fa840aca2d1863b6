package asana

import "github.com/tandem-sync/tandem/connectors/internal/apiclient"

// Stats counts the requests a client sent, so the engine and the benchmarks
// can report API calls per synced task. Every attempt counts, retries
// included, because Asana counts refused requests against the limit too.
// Downloads go to a file host, not to the API, and are not among Reads:
// they don't count against Asana's limits.
type Stats = apiclient.Stats

// Stats is a snapshot of the requests sent so far.
func (c *Client) Stats() Stats { return c.api.Stats() }
