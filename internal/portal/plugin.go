package portal

import "time"

// Plugin is a plugin subgraph in the registry: added at run time, and
// composed by the gateway with the subgraphs of its own configuration.
type Plugin struct {
	// Name is the subgraph's name in the supergraph: lower-case letters,
	// digits and dashes.
	Name string
	// URL is the plugin's GraphQL endpoint, http or https.
	URL     string
	AddedBy string // the ref of the principal that added it
	AddedAt time.Time
}
