package resolvers

import (
	"context"
	"fmt"

	"github.com/greenroomhq/greenroom/graph/model"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/gqltype"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Page sizes of connections.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

func pageSize(first *int) (int, error) {
	if first == nil {
		return defaultPageSize, nil
	}
	if *first < 0 || *first > maxPageSize {
		return 0, portal.Errorf(portal.EINVALID, "first must be between 0 and %d, got %d", maxPageSize, *first)
	}
	return *first, nil
}

// parseRef parses a reference given as an argument: the kind is required,
// the namespace defaults to "default". Returns EINVALID when malformed.
func parseRef(s string) (string, error) {
	r, err := catalog.ParseRef(s, catalog.RefDefaults{})
	if err != nil {
		return "", portal.Errorf(portal.EINVALID, "%v", err)
	}
	return r.String(), nil
}

func entityConnection(page catalog.EntityPage, kinds []string, hasPrevious bool) *model.EntityConnection {
	conn := &model.EntityConnection{
		Edges:    make([]*model.EntityEdge, 0, len(page.Entities)),
		PageInfo: &model.PageInfo{HasNextPage: page.HasNext, HasPreviousPage: hasPrevious},
	}
	for _, e := range page.Entities {
		cursor := gqltype.NewCursor(e.Ref().String(), kinds).Encode()
		conn.Edges = append(conn.Edges, &model.EntityEdge{Cursor: cursor, Node: &gqltype.Entity{Entity: e}})
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	return conn
}

// FederationEntities resolves federation representations {__typename, ref} in one
// batch, keeping their order; an unknown ref resolves to null.
func (r *Resolver) FederationEntities(ctx context.Context, reps []map[string]any) ([]gqltype.FederatedEntity, error) {
	out := make([]gqltype.FederatedEntity, len(reps))
	for i, rep := range reps {
		typename, _ := rep["__typename"].(string)
		ref, _ := rep["ref"].(string)
		if typename != "Entity" || ref == "" {
			return nil, portal.Errorf(portal.EINVALID, "representation %d: expected __typename Entity and a ref, got %v", i, rep)
		}
		parsed, err := parseRef(ref)
		if err != nil {
			return nil, fmt.Errorf("representation %d: %w", i, err)
		}
		e, err := r.Catalog.EntityByRef(ctx, parsed)
		if portal.ErrorCode(err) == portal.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[i] = gqltype.Entity{Entity: e}
	}
	return out, nil
}
