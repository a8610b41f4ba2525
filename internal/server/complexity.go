package server

import (
	"context"
	"math"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/greenroomhq/greenroom/graph"
	"github.com/greenroomhq/greenroom/graph/model"
)

// Costs of fields, in units of one scalar field (gqlgen's default cost of
// any field is 1 plus the cost of its selection).
const (
	// readCost is what a field pays when its resolver reads the database,
	// through a loader or a query of its own.
	readCost = 5
	// writeCost is what a mutation pays: it reads a location or YAML and
	// writes the catalog.
	writeCost = 100
	// listEstimate is how many items a list that takes no page size (a
	// location's errors, the viewer's groups) is taken to hold.
	listEstimate = 10
)

// Page sizes, as the resolvers apply them (resolvers/entity.go): a
// connection without first or last returns a page of defaultPageSize, a
// list of related entities (dependsOn, members, …) defaultListSize, and
// one asked for more than maxPageSize fails, so it is priced at that size.
const (
	defaultPageSize = 50
	defaultListSize = 100
	maxPageSize     = 1000
)

// Traversal depths, as the resolvers apply them: traverse walks
// defaultTraversalDepth relations deep unless maxDepth says otherwise, and
// never more than maxTraversalDepth.
const (
	defaultTraversalDepth = 5
	maxTraversalDepth     = 10
)

// complexityRoot prices the fields whose cost is not gqlgen's default of 1
// plus their selection: those that read the database, those that return a
// page (their selection is paid once per item of the page: pageInfo and
// totalCount too, a small overestimate), lists of entities, and mutations.
// Fields left nil keep the default. The federation field _entities is
// priced by [costWalker], as the generated code keeps its slot unexported.
func complexityRoot() graph.ComplexityRoot {
	var c graph.ComplexityRoot

	c.Query.Entity = func(child int, _ string, _ *time.Time) int { return read(child) }
	c.Query.EntityHistory = func(child int, _ string, first *int, _ *string) int {
		return add(readCost, mul(pageSize(first, nil), child))
	}
	c.Query.Entities = func(child int, _ *model.EntityFilter, _ *model.EntityOrder, first *int, _ *string, last *int, _ *string) int {
		return add(readCost, mul(pageSize(first, last), child))
	}
	c.Query.EntitiesByRefs = func(child int, refs []string) int { return add(readCost, mul(len(refs), child)) }
	c.Query.EntityFacets = func(child int, facets []string, _ *model.EntityFilter) int {
		return mul(len(facets), read(child))
	}
	c.Query.Locations = readList
	c.Query.Location = func(child int, _ string) int { return read(child) }
	c.Query.Explain = func(child int, _ string, _ *string) int { return read(child) }
	c.Query.AuditEvents = func(child int, _ *model.AuditEventFilter, first *int, _ *string) int {
		return add(readCost, mul(pageSize(first, nil), child))
	}
	c.Query.Jobs = func(child int, _ []model.JobState, first *int, _ *string) int {
		return add(readCost, mul(pageSize(first, nil), child))
	}
	c.Query.Job = func(child int, _ string) int { return read(child) }
	c.Viewer.User = read
	c.Viewer.Groups = readList
	c.Viewer.Owns = entities

	c.Mutation.RegisterLocation = func(child int, _ *string, _ string, _ *bool) int { return write(child) }
	c.Mutation.RefreshLocation = func(child int, _ string, _ *bool) int { return write(child) }
	c.Mutation.RefreshEntity = func(child int, _ string, _ *bool) int { return write(child) }
	c.Mutation.DeleteLocation = func(child int, _ string) int { return write(child) }
	c.Mutation.DeleteEntity = func(child int, _ string) int { return write(child) }
	c.Mutation.ValidateEntities = func(child int, _ string) int { return write(child) }
	c.Mutation.CancelJob = func(child int, _ string) int { return write(child) }
	// What a mutation read is in memory, but each of its entities can
	// lead back into the catalog.
	c.RegisterLocationPayload.Entities = list
	c.ValidateEntitiesPayload.Entities = list
	c.IngestedEntity.Relations = list
	c.IngestedEntity.Entity = read

	c.Relation.Target = read
	c.RegisteredLocation.Entity = read
	c.RegisteredLocation.Entities = entities
	c.RegisteredLocation.Errors = readList

	// Every entity type, the same way: its relation fields as their
	// @relation declares them, and the Entity interface's other fields.
	graph.PriceRelationFields(&c, read, relatedList)
	graph.PriceEntityFields(&c, entityFields)
	c.User.Members = relatedList
	c.Location.Entities = entities
	return c
}

// entityFields prices the fields every entity type has that read the
// database, relation fields aside.
var entityFields = graph.EntityFieldPrices{
	Relations: func(child int, _ *string, first *int, _ *string) int {
		return add(readCost, mul(pageSize(first, nil), child))
	},
	// The walk costs a read per level, whatever the page size.
	Traverse: func(child int, _ []string, _ *model.Direction, maxDepth *int, _ []string, first *int, _ *string) int {
		depth := defaultTraversalDepth
		if maxDepth != nil {
			depth = min(max(*maxDepth, 1), maxTraversalDepth)
		}
		return add(mul(readCost, depth), mul(pageSize(first, nil), child))
	},
	Errors:         readList,
	SourceLocation: read,
	// A statement per entity: a page of histories is priced as such.
	History: func(child int, first *int, _ *string) int {
		return add(readCost, mul(pageSize(first, nil), child))
	},
	// One statement reads the relations of a whole page; the entity's
	// bytes are copied, not built field by field.
	Document: read,
}

// read prices a field that reads one row.
func read(child int) int { return add(readCost, child) }

// readList prices a field that reads a list of rows of unknown length.
func readList(child int) int { return add(readCost, mul(listEstimate, child)) }

// relatedList prices a list of related entities: the selection of each of
// the entities its first argument lets it return.
func relatedList(child int, first *int, _ *string) int {
	n := defaultListSize
	if first != nil {
		n = min(max(*first, 0), maxPageSize)
	}
	return add(readCost, mul(n, child))
}

// list prices a list held in memory whose items may read the database.
func list(child int) int { return add(1, mul(listEstimate, child)) }

// write prices a mutation.
func write(child int) int { return add(writeCost, child) }

// entities prices a page of entities with a fixed filter: a location's,
// or the caller's.
func entities(child int, first *int, _ *string) int {
	return add(readCost, mul(pageSize(first, nil), child))
}

// pageSize returns the number of items a connection returns at most.
func pageSize(first, last *int) int {
	n := defaultPageSize
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	return min(max(n, 0), maxPageSize)
}

// costWalker computes the complexity of an operation from the
// executable schema's field costs ([complexityRoot]). It differs from
// gqlgen's complexity.Calculate, which it otherwise follows (an interface
// field costs what it costs on its most expensive implementation), in that
// it prices each fragment once and, as execution does, spreads a fragment
// once per selection set: gqlgen's walker expands every spread, so a
// document of a few dozen fragments that each spread the next twice takes
// it exponential time.
type costWalker struct {
	ctx       context.Context
	es        graphql.ExecutableSchema
	vars      map[string]any
	fragments map[string]int
}

// complexity returns the complexity of op.
func complexity(ctx context.Context, es graphql.ExecutableSchema, op *ast.OperationDefinition, vars map[string]any) int {
	w := &costWalker{ctx: ctx, es: es, vars: vars}
	return w.selections(op.SelectionSet, nil)
}

// selections returns the cost of set; spread names the fragments already
// spread into it.
func (w *costWalker) selections(set ast.SelectionSet, spread map[string]bool) int {
	total := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			total = add(total, w.field(s))
		case *ast.InlineFragment:
			total = add(total, w.selections(s.SelectionSet, spread))
		case *ast.FragmentSpread:
			if spread[s.Name] {
				continue
			}
			if spread == nil {
				spread = map[string]bool{}
			}
			spread[s.Name] = true
			total = add(total, w.fragment(s.Definition))
		}
	}
	return total
}

// fragment returns the cost of a fragment's selection set, computed once.
// Validation has rejected fragment cycles, so the recursion ends.
func (w *costWalker) fragment(def *ast.FragmentDefinition) int {
	if c, ok := w.fragments[def.Name]; ok {
		return c
	}
	c := w.selections(def.SelectionSet, nil)
	if w.fragments == nil {
		w.fragments = map[string]int{}
	}
	w.fragments[def.Name] = c
	return c
}

func (w *costWalker) field(f *ast.Field) int {
	child := w.selections(f.SelectionSet, nil)
	var args map[string]any
	if f.Definition != nil && len(f.Definition.Arguments) > 0 {
		args = f.ArgumentMap(w.vars)
	}
	parent := f.ObjectDefinition
	if parent.Name == "Query" && f.Name == "_entities" {
		// One entity per representation, each read by key.
		reps, _ := args["representations"].([]any)
		return add(readCost, mul(len(reps), child))
	}
	if parent.Kind != ast.Interface {
		return w.cost(parent.Name, f.Name, child, args)
	}
	worst := 0
	for _, impl := range w.es.Schema().GetPossibleTypes(parent) {
		worst = max(worst, w.cost(impl.Name, f.Name, child, args))
	}
	return worst
}

// cost returns the price [complexityRoot] sets for a field of typeName,
// or gqlgen's default.
func (w *costWalker) cost(typeName, field string, child int, args map[string]any) int {
	if c, ok := w.es.Complexity(w.ctx, typeName, field, child, args); ok && c >= 1 {
		return c
	}
	return add(1, child)
}

// add and mul saturate at math.MaxInt rather than overflow, so that no
// query can wrap its complexity around to a small number. Costs are never
// negative.
func add(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

func mul(a, b int) int {
	if a != 0 && b > math.MaxInt/a {
		return math.MaxInt
	}
	return a * b
}
