package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/greenroomhq/greenroom/graph"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/identity"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// leakMarker is in the name of every entity of leakYAML, and in its
// descriptions, labels, annotations and targets: a response that holds it
// shows something of an entity.
const leakMarker = "hidden"

// leakYAML is a catalog of every kind, with what makes a location's and an
// entity's problems: an invalid entity, a dangling reference, a Location
// whose target is missing; leakOrphanYAML is removed from it to make an
// orphan. hidden-crew (hidden-owner) owns hidden-svc and hidden-api;
// hidden-team (hidden-jane) owns nothing; hidden-admins (hidden-root) owns
// the rest.
const leakYAML = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: hidden-admins, description: hidden admins}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: hidden-root}
spec: {memberOf: [hidden-admins], profile: {displayName: hidden root, email: hidden-root@example.com}}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: hidden-crew}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: hidden-owner}
spec: {memberOf: [hidden-crew]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: hidden-team}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: hidden-jane}
spec: {memberOf: [hidden-team]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: hidden-svc
  title: hidden service
  description: hidden description
  labels: {tier: hidden-tier}
  annotations: {example.com/note: hidden-note}
  tags: [hidden-tag]
  links: [{url: "https://hidden.example.com", title: hidden link}]
spec:
  type: service
  lifecycle: production
  owner: hidden-crew
  system: hidden-system
  providesApis: [hidden-api]
  dependsOn: [resource:hidden-db, component:hidden-ghost]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: hidden-api}
spec: {type: openapi, lifecycle: production, owner: hidden-crew, system: hidden-system, definition: hidden definition}
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: hidden-db}
spec: {type: database, owner: hidden-admins, system: hidden-system}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: hidden-system}
spec: {owner: hidden-admins, domain: hidden-domain}
---
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: hidden-domain}
spec: {owner: hidden-admins}
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: hidden-template}
spec: {owner: hidden-admins, type: service, parameters: [{title: hidden step}], steps: []}
---
apiVersion: example.com/v1
kind: HiddenThing
metadata: {name: hidden-thing}
spec: {owner: hidden-admins}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: hidden-invalid}
spec: {type: service, owner: hidden-admins}
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: hidden-loc}
spec: {type: file, target: ./hidden-missing.yaml}
`

const leakOrphanYAML = `---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: hidden-orphan}
spec: {type: service, lifecycle: production, owner: hidden-admins}
`

// leakConflictYAML is a second location: it emits hidden-svc again (a
// CONFLICT about an entity) and a document that is not YAML (a problem of
// the file, which names no entity).
const leakConflictYAML = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: hidden-svc}
spec: {type: service, lifecycle: production, owner: hidden-team}
---
key: [unclosed
`

// leakPolicy lets everyone read locations, owners read what they own, and
// hidden-admins do everything: a caller who owns nothing reads no entity.
const leakPolicy = `rules:
  - name: everyone-reads-locations
    allow: [catalog.location.read]
    to: [anyone]
  - name: owners-read
    allow: [catalog.entity.read]
    to: [users]
    when: {isOwner: true}
  - name: admins-do-everything
    allow: ["*"]
    to: [group:default/hidden-admins]
`

// leakCatalog is leakYAML and leakConflictYAML served with leakPolicy and
// no limits on queries.
type leakCatalog struct {
	srv            *httptest.Server
	main, conflict string // the ids of the two locations
}

func mustServeLeakCatalog(t *testing.T, db *store.DB) leakCatalog {
	t.Helper()
	dir := t.TempDir()
	main := MustWriteFile(t, dir, "catalog.yaml", leakYAML+leakOrphanYAML)
	conflict := MustWriteFile(t, dir, "other.yaml", leakConflictYAML)
	eng := MustIngest(t, db, main, conflict)
	MustWriteFile(t, dir, "catalog.yaml", leakYAML)
	if err := eng.RefreshAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	opts := secureOptions(t, db, eng, leakPolicy, identity.Options{})
	opts.Limits = server.Limits{MaxTokens: -1, MaxDepth: -1, MaxComplexity: -1, MaxAliases: -1}
	srv := httptest.NewServer(server.New(opts))
	t.Cleanup(srv.Close)
	c := leakCatalog{srv: srv}
	locs, err := db.Locations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range locs {
		switch l.Target {
		case main:
			c.main = l.ID
		case conflict:
			c.conflict = l.ID
		}
	}
	return c
}

type processingError struct {
	Code      string
	Message   string
	EntityRef *string
}

// TestReadPolicy_LocationErrors checks that a location's problems about an
// entity show only to callers who may read that entity, and its problems
// about files to every caller who may read locations.
func TestReadPolicy_LocationErrors(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		lc := mustServeLeakCatalog(t, db)
		const q = `{ locations { id errors { code message entityRef } } }`
		for _, tc := range []struct {
			name string
			c    caller
			want []string // "id code entityRef" of each problem, sorted
		}{
			{"Admin", as(t, lc.srv, "user:default/hidden-root"), []string{
				lc.conflict + " CONFLICT component:default/hidden-svc",
				lc.conflict + " SYNTAX ",
				lc.main + " INVALID component:default/hidden-invalid",
				lc.main + " READ location:default/hidden-loc",
				lc.main + " REFERENCE component:default/hidden-svc",
			}},
			// hidden-owner reads hidden-svc, which has a dangling reference
			// and is the entity of the other location's conflict.
			{"Owner", as(t, lc.srv, "user:default/hidden-owner"), []string{
				lc.conflict + " CONFLICT component:default/hidden-svc",
				lc.conflict + " SYNTAX ",
				lc.main + " REFERENCE component:default/hidden-svc",
			}},
			{"OwnsNothing", as(t, lc.srv, "user:default/hidden-jane"), []string{lc.conflict + " SYNTAX "}},
			{"Service", as(t, lc.srv, "service:deploy-bot"), []string{lc.conflict + " SYNTAX "}},
			{"Anonymous", anonymous(lc.srv), []string{lc.conflict + " SYNTAX "}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var got struct {
					Locations []struct {
						ID     string
						Errors []processingError
					}
				}
				tc.c.MustQuery(t, q, nil, &got)
				var problems []string
				for _, l := range got.Locations {
					for _, e := range l.Errors {
						problems = append(problems, fmt.Sprintf("%s %s %s", l.ID, e.Code, deref(e.EntityRef)))
					}
				}
				slices.Sort(problems)
				slices.Sort(tc.want)
				if !slices.Equal(tc.want, problems) {
					t.Errorf("problems\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(tc.want, "\n"))
				}
				var one struct {
					Location struct{ Errors []processingError }
				}
				tc.c.MustQuery(t, `query($id: ID!) { location(id: $id) { errors { code message entityRef } } }`,
					map[string]any{"id": lc.main}, &one)
				n := 0
				for _, p := range tc.want {
					if strings.HasPrefix(p, lc.main+" ") {
						n++
					}
				}
				if len(one.Location.Errors) != n {
					t.Errorf("location(id) has %d problems %+v; want %d", len(one.Location.Errors), one.Location.Errors, n)
				}
			})
		}
	})
}

// TestReadPolicy_EveryField walks every field the schema can reach from
// the Query roots, with every argument it requires, as callers who may read
// no entity, and checks that no response shows anything of one: no entity's
// ref, uid or etag, nothing of the catalog's files but what names no
// entity. A field added to the schema is walked without a change here.
// hidden-root, who may read everything, walks the same fields first, to
// show that they reach every entity.
//
// The caller's own identity is the one thing of the catalog it always
// sees: viewer.ref and viewer.ownershipRefs, which the policy judges it by.
// An echo of the ref the walk passes as an argument is no leak either: a
// caller learns nothing from it; nor are the refs the policy names, which
// explains its decisions to the caller (FORBIDDEN names the rule's subject).
func TestReadPolicy_EveryField(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		lc := mustServeLeakCatalog(t, db)
		page, err := db.FindEntities(context.Background(), catalog.EntityQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var secrets []string // what no caller who may read nothing may see
		for _, r := range page.Records {
			secrets = append(secrets, r.Ref, r.UID, r.Etag)
		}
		const arg = "component:default/hidden-svc" // the ref passed where a string is required
		w := fieldWalker{
			schema: graph.NewExecutableSchema(graph.Config{}).Schema(),
			args: map[string]string{
				"entityFacets.facets": `["kind", "namespace", "spec.type", "spec.lifecycle", "owner", "metadata.tags",
					"metadata.labels.tier", "metadata.annotations.example.com/note"]`,
				"explain.permission": strconv.Quote("catalog.entity.read"),
				"explain.resource":   strconv.Quote(arg),
				"annotation.key":     strconv.Quote("example.com/note"),
				"traverse.relations": listLiteral(slices.Collect(maps.Keys(catalog.ReverseRelation))),
				"location.id":        strconv.Quote(lc.main),
				"_entities.representations": fmt.Sprintf(`[{__typename: "Component", ref: %q}, {__typename: "Location", ref: "location:default/hidden-loc"}]`,
					arg),
			},
			str: strconv.Quote(arg),
			id:  strconv.Quote(lc.conflict),
		}
		queries := w.queries()

		admin := walkAll(t, as(t, lc.srv, "user:default/hidden-root"), queries)
		for _, s := range append(slices.Clone(secrets), leakMarker) {
			if !strings.Contains(admin, strings.ToLower(s)) {
				t.Errorf("the walk never reaches %q, even for a caller who may read everything", s)
			}
		}

		for _, tc := range []struct {
			name     string
			c        caller
			identity []string // viewer.ref and viewer.ownershipRefs
		}{
			{"OwnsNothing", as(t, lc.srv, "user:default/hidden-jane"), []string{"user:default/hidden-jane", "group:default/hidden-team"}},
			{"Service", as(t, lc.srv, "service:deploy-bot"), []string{"service:deploy-bot"}},
			{"Anonymous", anonymous(lc.srv), nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, q := range queries {
					_, r := tc.c.post(t, q.text, nil)
					var data any
					if len(r.Data) > 0 {
						if err := json.Unmarshal(r.Data, &data); err != nil {
							t.Fatal(err)
						}
					}
					var shown []string
					collectStrings(data, &shown, func(key string, v any) bool {
						if key != "Viewer_ref" && key != "Viewer_ownershipRefs" {
							return false
						}
						var got []string
						collectStrings(v, &got, nil)
						for _, s := range got {
							if !slices.Contains(tc.identity, s) {
								t.Errorf("%s: viewer shows %q; want only the caller's identity %q", q.root, s, tc.identity)
							}
						}
						return true
					})
					for _, e := range r.Errors {
						shown = append(shown, e.Message)
					}
					for _, s := range shown {
						s = strings.ToLower(s)
						for _, echo := range append([]string{arg, "group:default/hidden-admins"}, tc.identity...) {
							s = strings.ReplaceAll(s, echo, "")
						}
						for _, secret := range append(slices.Clone(secrets), leakMarker) {
							if strings.Contains(s, strings.ToLower(secret)) {
								t.Errorf("%s shows %q in %q", q.root, secret, s)
							}
						}
					}
				}
			})
		}
	})
}

// listLiteral writes values as a GraphQL list of strings.
func listLiteral(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = strconv.Quote(v)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// walkAll sends each query as c and returns every response, lower-cased.
func walkAll(t *testing.T, c caller, queries []walkQuery) string {
	t.Helper()
	var sb strings.Builder
	for _, q := range queries {
		_, r := c.post(t, q.text, nil)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		sb.Write(b)
	}
	return strings.ToLower(sb.String())
}

// collectStrings appends every string in v, a decoded JSON value, to out,
// except under the keys for which skip (when not nil) returns true.
func collectStrings(v any, out *[]string, skip func(key string, v any) bool) {
	switch v := v.(type) {
	case string:
		*out = append(*out, v)
	case []any:
		for _, item := range v {
			collectStrings(item, out, skip)
		}
	case map[string]any:
		for k, item := range v {
			if skip == nil || !skip(k, item) {
				collectStrings(item, out, skip)
			}
		}
	}
}

// walkQuery is a query selecting everything below one Query field.
type walkQuery struct {
	root, text string
}

// fieldWalker writes, for each field of the Query type, a query that
// selects every field reachable below it. Each object, interface or union
// gets one fragment selecting all its fields (an interface or union also
// spreads the fragments of its possible types); where that would make the
// fragments refer to one another in a cycle, a field selects only the
// scalars of its type instead. Every field is aliased Type_field, so that
// fields of one name but different types never have to merge.
type fieldWalker struct {
	schema *ast.Schema
	// args are literal values of arguments, by "field.arg": required ones
	// that need a meaningful value, and optional ones worth setting.
	args map[string]string
	// str and id are the literals of other required String and ID arguments.
	str, id string

	frags map[string]string // fragment name → definition
	stack map[string]bool   // fragments being written
}

func (w *fieldWalker) queries() []walkQuery {
	var out []walkQuery
	q := w.schema.Query
	for _, f := range q.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		w.frags, w.stack = map[string]string{}, map[string]bool{}
		sel := w.field(q, f, false)
		names := make([]string, 0, len(w.frags))
		for n := range w.frags {
			names = append(names, n)
		}
		slices.Sort(names)
		var sb strings.Builder
		sb.WriteString("query {\n" + sel + "\n}\n")
		for _, n := range names {
			sb.WriteString(w.frags[n])
		}
		out = append(out, walkQuery{root: f.Name, text: sb.String()})
	}
	return out
}

// field selects f of parent, with its arguments and, for a composite type,
// the fragment of that type: scalars only when leaf is set.
func (w *fieldWalker) field(parent *ast.Definition, f *ast.FieldDefinition, leaf bool) string {
	s := parent.Name + "_" + f.Name + ": " + f.Name + w.arguments(f)
	def := w.schema.Types[f.Type.Name()]
	if def.Kind == ast.Scalar || def.Kind == ast.Enum {
		return s
	}
	return s + " { " + w.spread(def, leaf) + " }"
}

func (w *fieldWalker) arguments(f *ast.FieldDefinition) string {
	var parts []string
	for _, a := range f.Arguments {
		if v, ok := w.args[f.Name+"."+a.Name]; ok {
			parts = append(parts, a.Name+": "+v)
		} else if a.Type.NonNull && a.DefaultValue == nil {
			parts = append(parts, a.Name+": "+w.literal(a.Type))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// literal is a value of type t for a required argument.
func (w *fieldWalker) literal(t *ast.Type) string {
	if t.Elem != nil {
		return "[" + w.literal(t.Elem) + "]"
	}
	def := w.schema.Types[t.NamedType]
	switch def.Kind {
	case ast.Enum:
		return def.EnumValues[0].Name
	case ast.InputObject:
		var parts []string
		for _, f := range def.Fields {
			if f.Type.NonNull && f.DefaultValue == nil {
				parts = append(parts, f.Name+": "+w.literal(f.Type))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	switch def.Name {
	case "String":
		return w.str
	case "ID":
		return w.id
	case "Int", "Float":
		return "1"
	case "Boolean":
		return "true"
	}
	return "{}"
}

// spread returns the spread of def's fragment, written first if need be:
// its scalars only when leaf is set or when its full fragment is being
// written, which would make a cycle.
func (w *fieldWalker) spread(def *ast.Definition, leaf bool) string {
	name := "Full_" + def.Name
	if leaf || w.stack[name] {
		name = "Leaf_" + def.Name
		leaf = true
	}
	if _, ok := w.frags[name]; ok {
		return "..." + name
	}
	w.stack[name] = true
	var sels []string
	sels = append(sels, "__typename")
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		if t := w.schema.Types[f.Type.Name()]; leaf && t.Kind != ast.Scalar && t.Kind != ast.Enum {
			continue
		}
		sels = append(sels, w.field(def, f, false))
	}
	if def.Kind == ast.Interface || def.Kind == ast.Union {
		for _, p := range w.schema.GetPossibleTypes(def) {
			sels = append(sels, w.spread(p, leaf))
		}
	}
	delete(w.stack, name)
	w.frags[name] = fmt.Sprintf("fragment %s on %s {\n  %s\n}\n", name, def.Name, strings.Join(sels, "\n  "))
	return "..." + name
}
