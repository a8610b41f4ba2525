// Package resolvers answers the Tech Radar subgraph's fields (schema in
// ../schema.graphqls; the generated code in ../graph) from the radars
// service, and asks the core, with the caller's token, which entities use
// an entry.
package resolvers

import (
	"context"

	"github.com/greenroomhq/greenroom/plugins/techradar/radars"
)

// Resolver is the root of the subgraph's resolvers.
type Resolver struct {
	Radars *radars.Service
	// Core reads the catalog as the caller (usedBy).
	Core interface {
		Query(ctx context.Context, query string, vars map[string]any, out any) error
	}
}
