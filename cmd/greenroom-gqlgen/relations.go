package main

import (
	"bytes"
	"fmt"
	"go/format"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/template"

	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
	"github.com/99designs/gqlgen/codegen/templates"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// relations derives everything a relation field needs from its @relation
// directive (see schema/catalog.graphqls): the body of its resolver, which
// gqlgen's resolver generator asks it for (plugin.ResolverImplementer); the
// description the resolver and the prefetch read (resolvers/relations_gen.go);
// and its complexity price (graph/relations_gen.go). A field of an object
// type that declares none takes the directive of the same field of an
// interface the type implements, so that CatalogEntity.owner is declared once for
// every kind.
//
// It also writes the resolvers of the fields every entity type has from
// the CatalogEntity interface (relations, errors, …): each calls the function of
// the same name in resolvers/entity.go, so that a new kind needs no
// resolver code of its own.
type relations struct {
	schema *ast.Schema
	cfg    *config.Config
}

// entityInterface is the interface every catalog entity type implements.
const entityInterface = "CatalogEntity"

func (*relations) Name() string { return "greenroom-relations" }

// MutateConfig keeps the schema, which Implement, called by gqlgen's
// resolver generator before this plugin's GenerateCode, needs.
func (r *relations) MutateConfig(cfg *config.Config) error {
	r.schema, r.cfg = cfg.Schema, cfg
	_, err := r.fields()
	return err
}

// relationField is one field declared with @relation.
type relationField struct {
	Object, Field     string // GraphQL names
	GoObject, GoField string // their names in Go (ComplexityRoot)
	Var               string // the variable of its description in resolvers
	Relation          string // the relation type, as catalog spells it
	Incoming          bool
	Types             []string // GraphQL types the field keeps; nil: any entity
	List              bool
}

// fields returns every relation field of the schema's object types,
// ordered by type then field, or the first declaration that is wrong.
func (r *relations) fields() ([]relationField, error) {
	var out []relationField
	for _, def := range r.schema.Types {
		if def.Kind != ast.Object {
			continue
		}
		for _, f := range def.Fields {
			rf, ok, err := r.field(def, f)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, rf)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Object != out[j].Object {
			return out[i].Object < out[j].Object
		}
		return out[i].Field < out[j].Field
	})
	return out, nil
}

// directive returns the @relation of field f of object def, its own or
// else one of its interfaces'.
func (r *relations) directive(def *ast.Definition, f *ast.FieldDefinition) *ast.Directive {
	if d := f.Directives.ForName("relation"); d != nil {
		return d
	}
	for _, iface := range r.schema.GetImplements(def) {
		if iff := iface.Fields.ForName(f.Name); iff != nil {
			if d := iff.Directives.ForName("relation"); d != nil {
				return d
			}
		}
	}
	return nil
}

// field reads the @relation of field f of object def, if it has one, and
// checks it: a relation type catalog knows, spelled as it spells it; a
// field of an entity type or a list of them; no arguments but a list's
// first and after.
func (r *relations) field(def *ast.Definition, f *ast.FieldDefinition) (relationField, bool, error) {
	d := r.directive(def, f)
	if d == nil {
		return relationField{}, false, nil
	}
	where := def.Name + "." + f.Name
	fail := func(format string, args ...any) (relationField, bool, error) {
		return relationField{}, false, fmt.Errorf("%s @relation: %s", where, fmt.Sprintf(format, args...))
	}
	rf := relationField{Object: def.Name, Field: f.Name, GoObject: templates.ToGo(def.Name), GoField: templates.ToGo(f.Name),
		Var: "rel" + templates.ToGo(def.Name) + templates.ToGo(f.Name), List: f.Type.Elem != nil}
	typ := d.Arguments.ForName("type")
	if typ == nil || typ.Value.Kind != ast.StringValue {
		return fail("type must be a string")
	}
	canon, ok := catalog.CanonicalRelationType(typ.Value.Raw)
	if !ok || canon != typ.Value.Raw {
		return fail("unknown relation type %q; write one of catalog's, as it spells it", typ.Value.Raw)
	}
	rf.Relation = canon
	if dir := d.Arguments.ForName("direction"); dir != nil {
		switch dir.Value.Raw {
		case "INCOMING":
			rf.Incoming = true
		case "OUTGOING":
		default:
			return fail("direction must be OUTGOING or INCOMING")
		}
	}
	elem := r.schema.Types[f.Type.Name()]
	if !r.isEntity(elem) {
		return fail("%s is not an entity type", f.Type.Name())
	}
	if elem.Name != entityInterface {
		for _, t := range r.schema.GetPossibleTypes(elem) {
			rf.Types = append(rf.Types, t.Name)
		}
		sort.Strings(rf.Types)
	}
	var args []string
	for _, a := range f.Arguments {
		args = append(args, a.Name+": "+a.Type.String())
	}
	want := []string(nil)
	if rf.List {
		want = []string{"first: Int", "after: String"}
	}
	if !slices.Equal(args, want) {
		return fail("takes (%s); a list takes (first: Int, after: String), a single entity nothing", strings.Join(args, ", "))
	}
	return rf, true, nil
}

// isEntity reports whether def is the CatalogEntity interface, a type that
// implements it, or an interface whose types all do.
func (r *relations) isEntity(def *ast.Definition) bool {
	if def == nil {
		return false
	}
	if def.Name == entityInterface {
		return true
	}
	if def.Kind == ast.Interface { // such as Owner: entities, without implementing CatalogEntity
		types := r.schema.GetPossibleTypes(def)
		return len(types) > 0 && !slices.ContainsFunc(types, func(t *ast.Definition) bool { return !r.isEntity(t) })
	}
	return slices.ContainsFunc(r.schema.GetImplements(def), func(d *ast.Definition) bool { return d.Name == entityInterface })
}

// Implement writes the body of a resolver: the relation field's, from its
// declaration; a field of the CatalogEntity interface on an entity type calls
// the function of resolvers/entity.go named after it; any other keeps what
// was written by hand.
func (r *relations) Implement(prev string, f *codegen.Field) string {
	def := f.Object.Definition
	rf, ok, err := r.field(def, f.FieldDefinition)
	if err != nil {
		panic(err) // MutateConfig has checked every field
	}
	args := []string{"ctx", "obj"}
	if ok {
		args = append(args, rf.Var)
		elem := f.TypeReference.GO
		if rf.List {
			elem = elem.(*types.Slice).Elem()
		}
		name := types.TypeString(elem, func(p *types.Package) string { return p.Name() })
		if rf.List {
			return fmt.Sprintf("return related[%s](%s, first, after)", name, strings.Join(args, ", "))
		}
		return fmt.Sprintf("return relatedOne[%s](%s)", name, strings.Join(args, ", "))
	}
	if iface := r.schema.Types[entityInterface]; def.Name != entityInterface && r.isEntity(def) && iface.Fields.ForName(f.Name) != nil {
		args = append([]string{"ctx", "r.Resolver", "obj"}, argNames(f)...)
		return fmt.Sprintf("return entity%s(%s)", f.GoFieldName, strings.Join(args, ", "))
	}
	if prev != "" {
		return prev
	}
	return fmt.Sprintf("panic(fmt.Errorf(\"not implemented: %v - %v\"))", f.GoFieldName, f.Name)
}

func argNames(f *codegen.Field) []string {
	out := make([]string, len(f.Args))
	for i, a := range f.Args {
		out[i] = a.VarName
	}
	return out
}

// GenerateCode writes resolvers/relations_gen.go, the description of every
// relation field, and graph/relations_gen.go, their prices and those of
// the CatalogEntity interface's fields on every entity type.
func (r *relations) GenerateCode(data *codegen.Data) error {
	fields, err := r.fields()
	if err != nil {
		return err
	}
	var entityFields []string // Go names of the CatalogEntity fields resolvers answer
	var kinds []string        // the entity object types
	for _, obj := range data.Objects {
		if obj.Name == entityInterface || !r.isEntity(obj.Definition) {
			continue
		}
		kinds = append(kinds, templates.ToGo(obj.Name))
		if entityFields != nil {
			continue
		}
		iface := r.schema.Types[entityInterface]
		for _, f := range obj.Fields {
			if f.IsResolver && iface.Fields.ForName(f.Name) != nil {
				if _, isRelation, _ := r.field(obj.Definition, f.FieldDefinition); !isRelation {
					entityFields = append(entityFields, f.GoFieldName)
				}
			}
		}
	}
	sort.Strings(kinds)
	// Each entity field's complexity signature, read from one kind's.
	signatures := map[string]string{}
	imports := map[string]bool{}
	qualify := func(p *types.Package) string {
		if p.Path() != r.cfg.Exec.ImportPath() {
			imports[p.Path()] = true
		}
		return p.Name()
	}
	for _, obj := range data.Objects {
		if !r.isEntity(obj.Definition) || obj.Name == entityInterface {
			continue
		}
		for _, f := range obj.Fields {
			if slices.Contains(entityFields, f.GoFieldName) {
				signatures[f.GoFieldName] = complexitySignature(f, qualify)
			}
		}
		break
	}
	in := struct {
		Package      string
		Fields       []relationField
		Kinds        []string
		EntityFields []string
		Signatures   map[string]string
		Imports      []string
	}{Fields: fields, Kinds: kinds, EntityFields: entityFields, Signatures: signatures}
	for p := range imports {
		in.Imports = append(in.Imports, p)
	}
	sort.Strings(in.Imports)

	in.Package = r.cfg.Resolver.Package
	if err := writeGenerated(filepath.Join(r.cfg.Resolver.Dir(), "relations_gen.go"), resolversTemplate, in); err != nil {
		return err
	}
	in.Package = r.cfg.Exec.Package
	return writeGenerated(filepath.Join(filepath.Dir(r.cfg.Exec.Filename), "relations_gen.go"), graphTemplate, in)
}

// complexitySignature returns the type of a field's complexity function,
// as gqlgen declares it in ComplexityRoot.
func complexitySignature(f *codegen.Field, qualify types.Qualifier) string {
	params := []string{"childComplexity int"}
	for _, a := range f.Args {
		params = append(params, a.VarName+" "+types.TypeString(a.TypeReference.GO, qualify))
	}
	return "func(" + strings.Join(params, ", ") + ") int"
}

func writeGenerated(path, text string, data any) error {
	var buf bytes.Buffer
	t := template.Must(template.New(filepath.Base(path)).Funcs(template.FuncMap{"quote": func(s string) string { return fmt.Sprintf("%q", s) }}).Parse(text))
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	out, err := format.Source(buf.Bytes())
	if err != nil {
		return fmt.Errorf("format %s: %w\n%s", path, err, buf.Bytes())
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, out) {
		return nil
	}
	return os.WriteFile(path, out, 0o644)
}

const resolversTemplate = `// Code generated by greenroom-gqlgen from the @relation fields of the schema, DO NOT EDIT.

package {{.Package}}

// The relation fields, as their @relation declares them. Their resolvers
// (written by greenroom-gqlgen into the *.resolvers.go files) and the
// prefetch read them.
var (
{{- range .Fields}}
	{{.Var}} = relatedField{relation: {{quote .Relation}}{{if .Incoming}}, incoming: true{{end}}{{if .Types}}, types: []string{ {{- range $i, $t := .Types}}{{if $i}}, {{end}}{{quote $t}}{{end -}} }{{end}}{{if .List}}, list: true{{end}}}
{{- end}}
)

// relatedByType is every relation field by type, then field: what the
// prefetch looks up for each field a query selects.
var relatedByType = map[string]map[string]relatedField{
{{- $obj := ""}}
{{- range $i, $f := .Fields}}
{{- if ne $f.Object $obj}}{{if $i}}
	},{{end}}
	{{quote $f.Object}}: {
{{- $obj = $f.Object}}{{end}}
		{{quote $f.Field}}: {{$f.Var}},
{{- end}}
	},
}
`

const graphTemplate = `// Code generated by greenroom-gqlgen from the schema, DO NOT EDIT.

package {{.Package}}
{{if .Imports}}
import (
{{- range .Imports}}
	{{quote .}}
{{- end}}
)
{{end}}
// PriceRelationFields sets the price of every field declared with
// @relation: one for a field that names one entity, list for a list.
func PriceRelationFields(c *ComplexityRoot, one func(childComplexity int) int, list func(childComplexity int, first *int, after *string) int) {
{{- range .Fields}}
	c.{{.GoObject}}.{{.GoField}} = {{if .List}}list{{else}}one{{end}}
{{- end}}
}

// EntityFieldPrices prices the fields every entity type has from the
// CatalogEntity interface and answers with a resolver; nil keeps gqlgen's default.
type EntityFieldPrices struct {
{{- range .EntityFields}}
	{{.}} {{index $.Signatures .}}
{{- end}}
}

// PriceEntityFields sets p's prices on every entity type.
func PriceEntityFields(c *ComplexityRoot, p EntityFieldPrices) {
{{- range $k := .Kinds}}
{{- range $.EntityFields}}
	c.{{$k}}.{{.}} = p.{{.}}
{{- end}}
{{- end}}
}
`
