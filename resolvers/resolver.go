// Package resolvers implements the GraphQL schema: thin functions that read
// arguments, call a catalog service and convert the result. They hold no
// SQL and make no permission decisions.
package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/plugin/federation/fedruntime"

	"github.com/greenroomhq/greenroom/graph"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/schema"
)

// Catalog is the read side of the catalog that the resolvers need.
type Catalog interface {
	// EntityByRef returns the entity with a canonical ref. Returns
	// ENOTFOUND if there is none.
	EntityByRef(ctx context.Context, ref string) (*catalog.Entity, error)
	// Entities returns a page of entities ordered by ref.
	Entities(ctx context.Context, q catalog.EntityQuery) (catalog.EntityPage, error)
	// EntityErrors returns the processing errors of each entity by ref.
	EntityErrors(ctx context.Context, refs []string) (map[string][]catalog.ProcessingError, error)
}

// Resolver is the root of every resolver: the services they call.
type Resolver struct {
	Catalog Catalog
}

var _ graph.FederationResolver = (*Resolver)(nil)

// FederationService returns the subgraph SDL for federation gateways.
func (r *Resolver) FederationService(context.Context) (fedruntime.Service, error) {
	return fedruntime.Service{SDL: schema.SDL()}, nil
}
