// Command greenroom-gqlgen runs gqlgen over gqlgen.yml with two extra
// plugins: one writes graph/federation.go, the two Apollo Federation
// subgraph fields, _entities and _service, answered by the resolver root;
// the other has the fields of entity types resolved in sequence (see
// gqltype.Sequential).
//
// gqlgen's own federation plugin adds a schema type named "Entity" (its
// resolver root for entity lookups), which collides with the catalog's
// Entity type; the subgraph machinery is therefore declared in
// schema/federation.graphqls and wired here. Run it with `make generate`.
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
	seq := &sequential{}
	if err := api.Generate(cfg, api.AddPlugin(federation{}), api.AddPlugin(seq)); err != nil {
		fmt.Fprintln(os.Stderr, "greenroom-gqlgen:", err)
		os.Exit(3)
	}
	if err := chunkLists(cfg.Exec.Filename, seq.chunked); err != nil {
		fmt.Fprintln(os.Stderr, "greenroom-gqlgen:", err)
		os.Exit(3)
	}
}

// sequential makes gqlgen resolve the fields of the object types that
// gqltype.Sequential names one after another instead of each on its own
// goroutine. It runs before gqlgen writes the executable schema, and notes
// the types whose lists chunkLists may marshal in chunks.
type sequential struct {
	chunked map[string]bool
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
	}
	s.chunked = calm(data)
	return nil
}

// calm returns the types no part of which waits for its siblings: objects
// that resolve no field on a goroutine of its own (the sequential types, and
// types without resolvers), whose object fields are calm too, and the
// interfaces and unions whose every type is calm. Only a list of such
// elements may be marshalled in chunks: an element that waited for its
// siblings to batch a read would wait for each in turn.
func calm(data *codegen.Data) map[string]bool {
	out := map[string]bool{}
	objects := map[string]*codegen.Object{}
	for _, obj := range data.Objects {
		if obj.Root || obj.IsConcurrent() {
			continue
		}
		objects[obj.Name] = obj
		out[obj.Name] = true
	}
	abstract := func(def *ast.Definition) bool {
		for _, t := range data.Schema.GetPossibleTypes(def) {
			if t.Kind == ast.Object && !out[t.Name] { // interfaces such as Owner are judged by their own types
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
	return out
}

// sliceCall is how gqlgen marshals each list of objects: a goroutine per
// element, followed by the marshal function of the element's type, named
// marshalN<Type>2… or marshalO<Type>2….
var sliceCall = regexp.MustCompile(`graphql\.MarshalSliceConcurrently\((ctx, len\(v\), \d+, \w+, func\(ctx context\.Context, i int\) graphql\.Marshaler \{\n(?:[^\n]*\n){2}\s*return ec\.marshal[NO](\w+?)2)`)

// chunkLists rewrites the generated marshalling of lists of calm elements
// to gqltype.MarshalChunked. It fails when gqlgen's code no longer has the
// shape it expects, rather than leave the lists as they are unnoticed.
func chunkLists(path string, chunked map[string]bool) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	n := 0
	out := sliceCall.ReplaceAllFunc(src, func(m []byte) []byte {
		if !chunked[string(sliceCall.FindSubmatch(m)[2])] {
			return m
		}
		n++
		return append([]byte("gqltype.MarshalChunked("), sliceCall.FindSubmatch(m)[1]...)
	})
	if n == 0 {
		return fmt.Errorf("%s: found no list of entities to marshal in chunks; has gqlgen's generated code changed?", path)
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
