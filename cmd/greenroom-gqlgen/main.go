// Command greenroom-gqlgen runs gqlgen over gqlgen.yml with three extra
// plugins, which work through gqlgen's plugin API: one writes graph/federation.go, the two Apollo
// Federation subgraph fields, _entities and _service, answered by the
// resolver root; one has the fields of entity types resolved in sequence
// (see gqltype.Sequential); and one derives what a relation field needs
// (its resolver, the description the prefetch reads, its complexity
// price) from its @relation directive in the schema (see relations.go).
// One edit of gqlgen's output remains, for which gqlgen has no hook: lists
// of the sequential types marshalled in chunks rather than a goroutine per
// element, and no @defer group for them (see rewrite); without it the
// 100-component screen costs 70% more instructions.
//
// The subgraph machinery is declared in schema/federation.graphqls and
// wired here rather than by gqlgen's own federation plugin, which was
// first written off because it adds a schema type named "Entity" (its
// resolver root for entity lookups): the catalog's interface had that
// name. It is CatalogEntity now, so that plugins made with that plugin
// can name it (see plugins/); the core keeps this wiring, which its
// rewrites build on. Run it with `make generate`.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/greenroomhq/greenroom/internal/gqltype"
)

func main() {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		fmt.Fprintln(os.Stderr, "greenroom-gqlgen: load config:", err)
		os.Exit(2)
	}
	seq := &sequential{objects: map[string]bool{}}
	if err := api.Generate(cfg, api.AddPlugin(federation{}), api.AddPlugin(seq), api.AddPlugin(&relations{})); err != nil {
		fmt.Fprintln(os.Stderr, "greenroom-gqlgen:", err)
		os.Exit(3)
	}
	// Still an edit of gqlgen's output, which gqlgen offers no hook for:
	// see rewrite.
	if err := rewrite(cfg.Exec.Filename, seq); err != nil {
		fmt.Fprintln(os.Stderr, "greenroom-gqlgen:", err)
		os.Exit(3)
	}
}

// sequential makes gqlgen resolve the fields of the object types that
// gqltype.Sequential names one after another instead of each on its own
// goroutine. It runs before gqlgen writes the executable schema, and notes
// the types whose lists chunkLists may marshal in chunks.
type sequential struct {
	objects map[string]bool // resolved in sequence, by this plugin or for want of resolvers
	chunked map[string]bool // calm: listed in chunks
}

func (*sequential) Name() string { return "greenroom-sequential" }

func (s *sequential) GenerateCode(data *codegen.Data) error {
	for _, obj := range data.Objects {
		names := make([]string, len(obj.Implements))
		for i, d := range obj.Implements {
			names[i] = d.Name
		}
		if !obj.Root && gqltype.Sequential(obj.Name, names) {
			obj.DisableConcurrency = true
		}
		if !obj.Root && !obj.IsConcurrent() {
			s.objects[obj.Name] = true
		}
	}
	var why map[string]string
	s.chunked, why = calm(data)
	// The entity types must stay calm: a field of theirs that leads to a
	// type resolved concurrently would make every list of entities
	// marshalled a goroutine per element again, silently (a page of 500
	// whole entities took twice the CPU when TechDocs was added so).
	for _, obj := range data.Objects {
		for _, d := range obj.Implements {
			if d.Name == "CatalogEntity" && !s.chunked[obj.Name] {
				return fmt.Errorf("entity type %s is no longer resolved in sequence: %s; make that type sequential (gqltype.Sequential) or its fields plain", obj.Name, why[obj.Name])
			}
		}
	}
	return nil
}

// calm returns the types no part of which waits for its siblings: objects
// that resolve no field on a goroutine of its own (the sequential types, and
// types without resolvers), whose object fields are calm too, and the
// interfaces and unions whose every type is calm. Only a list of such
// elements may be marshalled in chunks: an element that waited for its
// siblings to batch a read would wait for each in turn. why says, for an
// object that is not calm, which field leads to what.
func calm(data *codegen.Data) (out map[string]bool, why map[string]string) {
	out, why = map[string]bool{}, map[string]string{}
	objects := map[string]*codegen.Object{}
	for _, obj := range data.Objects {
		if obj.Root || obj.IsConcurrent() {
			why[obj.Name] = "its fields are resolved concurrently"
			continue
		}
		objects[obj.Name] = obj
		out[obj.Name] = true
	}
	abstract := func(def *ast.Definition) bool {
		for _, t := range data.Schema.GetPossibleTypes(def) {
			if t.Kind == ast.Object && !out[t.Name] { // interfaces such as Owner are judged by their own types
				why[def.Name] = fmt.Sprintf("its type %s is not: %s", t.Name, why[t.Name])
				return false
			}
		}
		return true
	}
	for changed := true; changed; {
		changed = false
		for name, obj := range objects {
			if !out[name] {
				continue
			}
			for _, f := range obj.Fields {
				def := data.Schema.Types[f.Type.Name()]
				if def == nil || def.Kind == ast.Scalar || def.Kind == ast.Enum {
					continue
				}
				ok := out[def.Name]
				if def.Kind == ast.Interface || def.Kind == ast.Union {
					ok = abstract(def)
				}
				if !ok {
					why[name] = fmt.Sprintf("its field %s leads to %s (%s)", f.Name, def.Name, why[def.Name])
					out[name], changed = false, true
					break
				}
			}
		}
	}
	for name, def := range data.Schema.Types {
		if (def.Kind == ast.Interface || def.Kind == ast.Union) && abstract(def) {
			out[name] = true
		}
	}
	return out, why
}

// sliceCall is how gqlgen marshals each list of objects: a goroutine per
// element, followed by the marshal function of the element's type, named
// marshalN<Type>2… or marshalO<Type>2….
var sliceCall = regexp.MustCompile(`graphql\.MarshalSliceConcurrently\((ctx, len\(v\), \d+, \w+, func\(ctx context\.Context, i int\) graphql\.Marshaler \{\n(?:[^\n]*\n){2}\s*return ec\.marshal[NO](\w+?)2)`)

// deferredGroup is where gqlgen's marshaller of an object type starts the
// group of its @defer fragments, which computes the object's path.
var deferredGroup = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) _(\w+)\(ctx context\.Context, sel ast\.SelectionSet, obj [^)]*\) graphql\.Marshaler \{\n(?:.*\n){1,4}?\tdeferred := graphql\.NewDeferredGroup\(ctx\)\n`)

// rewrite edits the generated executable schema for the sequential types:
// lists of calm elements are marshalled in chunks (gqltype.MarshalChunked
// instead of a goroutine per element), and the marshaller of an object
// whose fields are all resolved in sequence starts no @defer group, since
// gqlgen defers only fields it resolves concurrently: building the group, path included, was a tenth of
// the time of a large page. It fails when gqlgen's code no longer has the
// shape it expects, rather than leave the code as it is unnoticed.
func rewrite(path string, seq *sequential) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lists := 0
	out := sliceCall.ReplaceAllFunc(src, func(m []byte) []byte {
		sub := sliceCall.FindSubmatch(m)
		if !seq.chunked[string(sub[2])] {
			return m
		}
		lists++
		return append([]byte("gqltype.MarshalChunked("), sub[1]...)
	})
	groups := 0
	out = deferredGroup.ReplaceAllFunc(out, func(m []byte) []byte {
		if !seq.objects[string(deferredGroup.FindSubmatch(m)[1])] {
			return m
		}
		groups++
		return bytes.Replace(m, []byte("deferred := graphql.NewDeferredGroup(ctx)"),
			[]byte("var deferred graphql.DeferredGroup // resolved in sequence: nothing is deferred"), 1)
	})
	if lists == 0 || groups == 0 {
		return fmt.Errorf("%s: found %d lists to marshal in chunks and %d @defer groups to drop; has gqlgen's generated code changed?", path, lists, groups)
	}
	if bytes.Equal(out, src) {
		return nil
	}
	return os.WriteFile(path, out, 0o644)
}

// federation writes the executionContext methods that gqlgen's generated
// code calls for Query._entities and Query._service.
type federation struct{}

func (federation) Name() string { return "greenroom-federation" }

func (federation) GenerateCode(data *codegen.Data) error {
	entity := data.Config.Models["_Entity"].Model
	if len(entity) == 0 {
		return fmt.Errorf("gqlgen.yml must bind _Entity to a Go interface")
	}
	pkg, name := splitType(entity[0])
	src := fmt.Sprintf(federationTemplate, data.Config.Exec.Package, pkg, filepath.Base(pkg)+"."+name)
	out, err := format.Source([]byte(src))
	if err != nil {
		return fmt.Errorf("format federation.go: %w", err)
	}
	path := filepath.Join(filepath.Dir(data.Config.Exec.Filename), "federation.go")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, out) {
		return nil
	}
	return os.WriteFile(path, out, 0o644)
}

func splitType(full string) (pkg, name string) {
	i := len(full) - 1
	for i >= 0 && full[i] != '.' {
		i--
	}
	return full[:i], full[i+1:]
}

const federationTemplate = `// Code generated by greenroom-gqlgen, DO NOT EDIT.

package %[1]s

import (
	"context"

	"github.com/99designs/gqlgen/plugin/federation/fedruntime"

	%[2]q
)

// FederationResolver answers the Apollo Federation subgraph fields. The
// resolver root must implement it.
type FederationResolver interface {
	// Entities resolves each representation ({__typename, key fields}) to
	// an entity, or nil where there is none, in the order given.
	FederationEntities(ctx context.Context, representations []map[string]any) ([]%[3]s, error)
	// Service returns the subgraph's SDL.
	FederationService(ctx context.Context) (fedruntime.Service, error)
}

func (ec *executionContext) federationResolver() FederationResolver {
	return ec.Resolvers.(FederationResolver)
}

func (ec *executionContext) __resolve__service(ctx context.Context) (fedruntime.Service, error) {
	return ec.federationResolver().FederationService(ctx)
}

func (ec *executionContext) __resolve_entities(ctx context.Context, representations []map[string]any) []%[3]s {
	list, err := ec.federationResolver().FederationEntities(ctx, representations)
	if err != nil {
		ec.Error(ctx, err)
		return make([]%[3]s, len(representations))
	}
	return list
}
`
