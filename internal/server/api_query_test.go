package server_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// TestQuery_EntityKinds reads the typed fields of every kind through
// fragments, against the example catalog plus extrasYAML.
func TestQuery_EntityKinds(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv, _ := MustServeExtras(t, db)
		tests := []struct {
			name, ref, selection, want string
		}{
			{
				name: "Component", ref: "component:catalog-service",
				selection: `... on Component { type lifecycle system { ref } subcomponentOf { ref } subcomponents { ref }
					providesApis { ref } consumesApis { ref } dependsOn { __typename ref } dependents { ref } }`,
				want: `{"__typename": "Component", "ref": "component:default/catalog-service",
					"type": "service", "lifecycle": "production",
					"system": {"ref": "system:default/music-catalog"},
					"subcomponentOf": null,
					"subcomponents": [{"ref": "component:default/catalog-ingest-worker"}],
					"providesApis": [{"ref": "api:default/catalog-api"}],
					"consumesApis": [],
					"dependsOn": [
						{"__typename": "Component", "ref": "component:default/larkspur-go-kit"},
						{"__typename": "Resource", "ref": "resource:default/audio-assets"},
						{"__typename": "Resource", "ref": "resource:default/catalog-db"}],
					"dependents": [
						{"ref": "component:default/playback-service"},
						{"ref": "component:default/recommendations-service"},
						{"ref": "component:default/search-service"},
						{"ref": "component:default/top-charts-legacy"}]}`,
			},
			{
				name: "Subcomponent", ref: "Component:Catalog-Ingest-Worker",
				selection: `... on Component { system { ref } subcomponentOf { ref } subcomponents { ref } consumesApis { ref }
					dependsOn { ref } dependents { ref } }`,
				want: `{"__typename": "Component", "ref": "component:default/catalog-ingest-worker",
					"system": {"ref": "system:default/music-catalog"},
					"subcomponentOf": {"ref": "component:default/catalog-service"},
					"subcomponents": [], "consumesApis": [],
					"dependsOn": [{"ref": "resource:default/audio-assets"}, {"ref": "resource:default/catalog-db"}],
					"dependents": [{"ref": "component:default/label-portal"}]}`,
			},
			{
				name: "ComponentConsumer", ref: "component:default/recommendations-service",
				selection: `... on Component { lifecycle providesApis { ref } consumesApis { ref } }`,
				want: `{"__typename": "Component", "ref": "component:default/recommendations-service",
					"lifecycle": "experimental",
					"providesApis": [{"ref": "api:default/recommendations-api"}],
					"consumesApis": [{"ref": "api:default/catalog-api"}, {"ref": "api:default/playback-events-api"}]}`,
			},
			{
				name: "API", ref: "api:catalog-api",
				selection: `... on API { type lifecycle system { ref } providers { ref } consumers { ref } }`,
				want: `{"__typename": "API", "ref": "api:default/catalog-api",
					"type": "openapi", "lifecycle": "production",
					"system": {"ref": "system:default/music-catalog"},
					"providers": [{"ref": "component:default/catalog-service"}],
					"consumers": [
						{"ref": "component:default/label-portal"},
						{"ref": "component:default/playback-service"},
						{"ref": "component:default/recommendations-service"},
						{"ref": "component:default/search-service"},
						{"ref": "component:default/top-charts-legacy"}]}`,
			},
			{
				name: "Resource", ref: "resource:catalog-db",
				selection: `... on Resource { type system { ref } dependsOn { ref } dependents { __typename ref } }`,
				want: `{"__typename": "Resource", "ref": "resource:default/catalog-db",
					"type": "database", "system": {"ref": "system:default/music-catalog"},
					"dependsOn": [],
					"dependents": [
						{"__typename": "Component", "ref": "component:default/catalog-ingest-worker"},
						{"__typename": "Component", "ref": "component:default/catalog-service"},
						{"__typename": "Resource", "ref": "resource:default/catalog-db-replica"}]}`,
			},
			{
				name: "System", ref: "system:music-catalog",
				selection: `... on System { type domain { ref } components { ref } apis { ref } resources { ref } }`,
				want: `{"__typename": "System", "ref": "system:default/music-catalog",
					"type": null, "domain": {"ref": "domain:default/content-platform"},
					"components": [
						{"ref": "component:default/catalog-ingest-worker"},
						{"ref": "component:default/catalog-service"},
						{"ref": "component:default/label-portal"}],
					"apis": [{"ref": "api:default/catalog-api"}],
					"resources": [
						{"ref": "resource:default/audio-assets"},
						{"ref": "resource:default/catalog-db"},
						{"ref": "resource:default/catalog-db-replica"}]}`,
			},
			{
				name: "Domain", ref: "domain:listening-experience",
				selection: `... on Domain { type subdomainOf { ref } subdomains { ref } systems { ref } }`,
				want: `{"__typename": "Domain", "ref": "domain:default/listening-experience",
					"type": null, "subdomainOf": null, "subdomains": [{"ref": "domain:default/charts"}],
					"systems": [{"ref": "system:default/discovery"}, {"ref": "system:default/playback"}]}`,
			},
			{
				name: "Subdomain", ref: "domain:charts",
				selection: `... on Domain { subdomainOf { ref } subdomains { ref } systems { ref } owner { ref } }`,
				want: `{"__typename": "Domain", "ref": "domain:default/charts",
					"subdomainOf": {"ref": "domain:default/listening-experience"}, "subdomains": [], "systems": [],
					"owner": {"ref": "group:default/team-discovery"}}`,
			},
			{
				name: "ResourceDependsOn", ref: "resource:catalog-db-replica",
				selection: `... on Resource { dependsOn { __typename ref } dependents { ref } }`,
				want: `{"__typename": "Resource", "ref": "resource:default/catalog-db-replica",
					"dependsOn": [{"__typename": "Resource", "ref": "resource:default/catalog-db"}],
					"dependents": [{"ref": "component:default/search-service"}]}`,
			},
			{
				name: "Group", ref: "group:engineering",
				selection: `... on Group { type profile { displayName email picture } parent { ref } children { ref }
					members { ref } ownedEntities { __typename ref } }`,
				want: `{"__typename": "Group", "ref": "group:default/engineering",
					"type": "department",
					"profile": {"displayName": "Engineering", "email": "engineering@larkspur.example", "picture": null},
					"parent": {"ref": "group:default/larkspur-records"},
					"children": [
						{"ref": "group:default/platform-admins"},
						{"ref": "group:default/team-data"},
						{"ref": "group:default/team-playback"}],
					"members": [{"ref": "user:default/ada.okafor"}],
					"ownedEntities": [{"__typename": "Domain", "ref": "domain:default/content-platform"}]}`,
			},
			{
				name: "GroupMembers", ref: "group:platform-admins",
				selection: `... on Group { parent { ref } children { ref } members { ref } ownedEntities { __typename ref } }`,
				want: `{"__typename": "Group", "ref": "group:default/platform-admins",
					"parent": {"ref": "group:default/engineering"}, "children": [],
					"members": [{"ref": "user:default/jane.doe"}, {"ref": "user:default/ravi.menon"}],
					"ownedEntities": [
						{"__typename": "Component", "ref": "component:default/larkspur-go-kit"},
						{"__typename": "Resource", "ref": "resource:default/playback-events"},
						{"__typename": "Template", "ref": "template:default/go-service"}]}`,
			},
			{
				name: "User", ref: "user:ravi.menon",
				selection: `... on User { profile { displayName email picture } memberOf { ref } members { ref } ownedEntities { ref } }`,
				want: `{"__typename": "User", "ref": "user:default/ravi.menon",
					"profile": {"displayName": "Ravi Menon", "email": "ravi.menon@larkspur.example", "picture": null},
					"memberOf": [{"ref": "group:default/platform-admins"}, {"ref": "group:default/team-data"}],
					"members": [{"ref": "user:default/ravi.menon"}],
					"ownedEntities": []}`,
			},
			{
				name: "UserOwner", ref: "user:jane.doe",
				selection: `... on Owner { members { ref } ownedEntities { __typename ref } }`,
				want: `{"__typename": "User", "ref": "user:default/jane.doe",
					"members": [{"ref": "user:default/jane.doe"}],
					"ownedEntities": [{"__typename": "GenericEntity", "ref": "airesource:default/summarizer"}]}`,
			},
			{
				name: "Location", ref: "location:larkspur-systems",
				selection: `... on Location { type target targets presence
					entities(first: 3) { totalCount edges { node { ref } } pageInfo { hasNextPage } } }`,
				want: `{"__typename": "Location", "ref": "location:default/larkspur-systems",
					"type": null, "target": null, "presence": null,
					"targets": ["./domains.yaml", "./music-catalog.yaml", "./playback.yaml", "./discovery.yaml"],
					"entities": {"totalCount": 5, "pageInfo": {"hasNextPage": true}, "edges": [
						{"node": {"ref": "domain:default/content-platform"}},
						{"node": {"ref": "domain:default/listening-experience"}},
						{"node": {"ref": "system:default/discovery"}}]}}`,
			},
			{
				name: "GenericEntity", ref: "AiResource:summarizer",
				selection: `... on GenericEntity { kind apiVersion spec owner { __typename ref } }`,
				want: `{"__typename": "GenericEntity", "ref": "airesource:default/summarizer",
					"kind": "AiResource", "apiVersion": "example.com/v1",
					"spec": {"owner": "user:jane.doe", "model": "small"},
					"owner": {"__typename": "User", "ref": "user:default/jane.doe"}}`,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got struct{ Entity json.RawMessage }
				MustQuery(t, srv, `query($ref: String!) { entity(ref: $ref) { __typename ref `+tt.selection+` } }`,
					map[string]any{"ref": tt.ref}, &got)
				if diff := diffJSON(t, tt.want, got.Entity); diff != "" {
					t.Errorf("%s mismatch (-want +got):\n%s", tt.ref, diff)
				}
			})
		}

		t.Run("Template", func(t *testing.T) {
			var got struct {
				Entity struct {
					Type       string
					Lifecycle  *string
					Parameters []struct{ Title string }
					Steps      []struct{ ID, Action string }
					Output     struct{ Links []struct{ Title string } }
				}
			}
			MustQuery(t, srv, `{ entity(ref: "template:go-service") { ... on Template { type lifecycle parameters steps output } } }`, nil, &got)
			e := got.Entity
			if e.Type != "service" || e.Lifecycle == nil || *e.Lifecycle != "production" {
				t.Errorf("type %q lifecycle %v; want service, production", e.Type, e.Lifecycle)
			}
			var params, steps, links []string
			for _, p := range e.Parameters {
				params = append(params, p.Title)
			}
			for _, s := range e.Steps {
				steps = append(steps, s.ID+" "+s.Action)
			}
			for _, l := range e.Output.Links {
				links = append(links, l.Title)
			}
			if diff := cmp.Diff([]string{"Service details", "Repository"}, params); diff != "" {
				t.Errorf("parameters mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"fetch fetch:template", "publish publish:github", "register catalog:register"}, steps); diff != "" {
				t.Errorf("steps mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"Repository", "Open in catalog"}, links); diff != "" {
				t.Errorf("output links mismatch (-want +got):\n%s", diff)
			}
		})

		t.Run("TemplateForm", func(t *testing.T) {
			var got struct {
				Entity struct {
					ParameterPages []struct {
						Index  int
						Title  *string
						Schema struct {
							Required   []string
							Properties map[string]map[string]any
						}
					}
					Valid, Invalid []struct {
						Page          int
						Path, Message string
					}
				}
			}
			MustQuery(t, srv, `query($ok: JSON!, $bad: JSON!) { entity(ref: "template:go-service") { ... on Template {
				parameterPages { index title schema }
				valid: validateValues(values: $ok) { page path message }
				invalid: validateValues(values: $bad) { page path message } } } }`, map[string]any{
				"ok":  map[string]any{"name": "tempo", "description": "Keeps time.", "owner": "team-a", "repoUrl": "github.com?owner=larkspur&repo=tempo"},
				"bad": map[string]any{"name": "Not A Name", "owner": "team-a", "visibility": "public"},
			}, &got)
			pages := got.Entity.ParameterPages
			if len(pages) != 2 || pages[1].Index != 1 || pages[0].Title == nil || *pages[0].Title != "Service details" {
				t.Fatalf("pages %+v; want Service details, then Repository", pages)
			}
			if f := pages[0].Schema.Properties["name"]["ui:field"]; f != "EntityNamePicker" {
				t.Errorf("name's ui:field %v; want EntityNamePicker, passed through", f)
			}
			if len(got.Entity.Valid) != 0 {
				t.Errorf("valid values refused: %+v", got.Entity.Valid)
			}
			var refused []string
			for _, e := range got.Entity.Invalid {
				refused = append(refused, fmt.Sprintf("%d %s", e.Page, e.Path))
			}
			slices.Sort(refused)
			if diff := cmp.Diff([]string{"0 description", "0 name", "1 repoUrl", "1 visibility"}, refused); diff != "" {
				t.Errorf("refused fields mismatch (-want +got):\n%s\n%+v", diff, got.Entity.Invalid)
			}
			if code, msg := MustFail(t, srv, `{ entity(ref: "template:go-service") { ... on Template { validateValues(values: [1]) { path } } } }`, nil); code != "INVALID" {
				t.Errorf("values that are not an object: %s %q; want INVALID", code, msg)
			}
		})

		t.Run("APIDefinition", func(t *testing.T) {
			var got struct {
				A, B struct{ Definition *string }
			}
			MustQuery(t, srv, `{
				a: entity(ref: "api:catalog-api") { ... on API { definition } }
				b: entity(ref: "api:playback-events-api") { ... on API { definition } }
			}`, nil, &got)
			// catalog-api pulls its definition from a file with $text;
			// playback-events-api keeps it inline.
			for name, c := range map[string]struct {
				def    *string
				prefix string
			}{"catalog-api": {got.A.Definition, "openapi: "}, "playback-events-api": {got.B.Definition, "asyncapi: 2.6.0"}} {
				if c.def == nil || !strings.HasPrefix(*c.def, c.prefix) {
					t.Errorf("%s definition %v; want text starting %q", name, c.def, c.prefix)
				}
			}
		})
	})
}

// TestQuery_EntityFields reads the fields every entity shares.
func TestQuery_EntityFields(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv, extras := MustServeExtras(t, db)
		root := exampleCatalog(t)

		t.Run("Metadata", func(t *testing.T) {
			var got struct {
				Entity struct {
					Ref, UID, APIVersion, Kind, Namespace, Name, Etag string
					Title, Description                                *string
					Labels, Annotations                               []struct{ Key, Value string }
					Slug, Missing                                     *string
					Tags                                              []string
					Links                                             []struct {
						URL         string
						Title, Icon *string
					}
					Spec   map[string]any
					Raw    map[string]any
					Orphan bool
					Errors []struct{ Code string }
				}
			}
			MustQuery(t, srv, `{ entity(ref: "component:catalog-service") {
				ref uid apiVersion kind namespace name etag title description
				labels { key value } annotations { key value }
				slug: annotation(key: "github.com/project-slug") missing: annotation(key: "no/such")
				tags links { url title icon } spec raw orphan errors { code }
			} }`, nil, &got)
			e := got.Entity
			type scalars struct{ Ref, APIVersion, Kind, Namespace, Name, Title, Description, Slug string }
			wantScalars := scalars{
				Ref: "component:default/catalog-service", APIVersion: "backstage.io/v1alpha1", Kind: "Component",
				Namespace: "default", Name: "catalog-service", Title: "Catalog Service",
				Description: "Serves the music catalogue (artists, albums, tracks) to the rest of Larkspur. Nearly every listener-facing service depends on it.",
				Slug:        "larkspur/catalog-service",
			}
			gotScalars := scalars{e.Ref, e.APIVersion, e.Kind, e.Namespace, e.Name, deref(e.Title), deref(e.Description), deref(e.Slug)}
			if diff := cmp.Diff(wantScalars, gotScalars); diff != "" {
				t.Errorf("scalars mismatch (-want +got):\n%s", diff)
			}
			if e.Missing != nil {
				t.Errorf("annotation(no/such) = %q; want null", *e.Missing)
			}
			if e.UID == "" || e.Etag == "" || e.Orphan || len(e.Errors) != 0 {
				t.Errorf("uid %q etag %q orphan %v errors %v; want an uid and etag, no orphan, no errors", e.UID, e.Etag, e.Orphan, e.Errors)
			}
			wantLabels := []struct{ Key, Value string }{{"larkspur.example/cost-centre", "cc-4102"}, {"tier", "critical"}}
			if diff := cmp.Diff(wantLabels, e.Labels); diff != "" {
				t.Errorf("labels mismatch (-want +got):\n%s", diff)
			}
			wantAnnotations := []struct{ Key, Value string }{
				{"backstage.io/managed-by-location", "file:" + strings.TrimSuffix(root, "all.yaml") + "components/catalog-service/catalog-info.yaml"},
				{"backstage.io/managed-by-origin-location", "file:" + root},
				{"backstage.io/techdocs-ref", "dir:."},
				{"github.com/project-slug", "larkspur/catalog-service"},
			}
			if diff := cmp.Diff(wantAnnotations, e.Annotations); diff != "" {
				t.Errorf("annotations mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"go", "grpc", "tier-1"}, e.Tags); diff != "" {
				t.Errorf("tags mismatch (-want +got):\n%s", diff)
			}
			var links []string
			for _, l := range e.Links {
				links = append(links, l.URL+" "+deref(l.Title)+" "+deref(l.Icon))
			}
			wantLinks := []string{
				"https://grafana.larkspur.example/d/catalog-service Service dashboard dashboard",
				"https://pager.larkspur.example/services/catalog-service On-call alert",
				"https://github.com/larkspur/catalog-service Repository github",
			}
			if diff := cmp.Diff(wantLinks, links); diff != "" {
				t.Errorf("links mismatch (-want +got):\n%s", diff)
			}
			wantSpec := MustJSON(t, `{"type": "service", "lifecycle": "production", "owner": "team-data",
				"system": "music-catalog", "providesApis": ["catalog-api"],
				"dependsOn": ["component:default/larkspur-go-kit", "resource:default/audio-assets", "resource:default/catalog-db"]}`)
			if diff := cmp.Diff(wantSpec, any(e.Spec)); diff != "" {
				t.Errorf("spec mismatch (-want +got):\n%s", diff)
			}
			md, _ := e.Raw["metadata"].(map[string]any)
			if e.Raw["apiVersion"] != "backstage.io/v1alpha1" || e.Raw["kind"] != "Component" ||
				md["name"] != "catalog-service" || md["uid"] != e.UID || md["etag"] != e.Etag {
				t.Errorf("raw %v; want the whole entity with its uid and etag", e.Raw)
			}
			if diff := cmp.Diff(any(e.Spec), e.Raw["spec"]); diff != "" {
				t.Errorf("raw spec differs from spec (-spec +raw):\n%s", diff)
			}
		})

		t.Run("Owner", func(t *testing.T) {
			var got struct {
				Group, User, Dangling, None struct {
					Owner json.RawMessage
				}
			}
			MustQuery(t, srv, `{
				group: entity(ref: "component:catalog-service") { owner { __typename ref ... on Group { type } members { ref } } }
				user: entity(ref: "airesource:summarizer") { owner { __typename ref members { ref } ownedEntities { ref } } }
				dangling: entity(ref: "component:ghost-service") { owner { ref } }
				none: entity(ref: "group:engineering") { owner { ref } }
			}`, nil, &got)
			for _, c := range []struct {
				name string
				got  json.RawMessage
				want string
			}{
				{"group", got.Group.Owner, `{"__typename": "Group", "ref": "group:default/team-data", "type": "team",
					"members": [{"ref": "user:default/priya.nair"}, {"ref": "user:default/ravi.menon"}]}`},
				{"user", got.User.Owner, `{"__typename": "User", "ref": "user:default/jane.doe",
					"members": [{"ref": "user:default/jane.doe"}], "ownedEntities": [{"ref": "airesource:default/summarizer"}]}`},
				{"dangling", got.Dangling.Owner, `null`},
				{"none", got.None.Owner, `null`},
			} {
				if diff := diffJSON(t, c.want, c.got); diff != "" {
					t.Errorf("%s owner mismatch (-want +got):\n%s", c.name, diff)
				}
			}
		})

		t.Run("Relations", func(t *testing.T) {
			const q = `query($ref: String!, $type: String, $first: Int, $after: String) { entity(ref: $ref) {
				relations(type: $type, first: $first, after: $after) {
					totalCount
					edges { cursor node { type targetRef target { ref } } }
					pageInfo { hasNextPage hasPreviousPage endCursor }
				}
			} }`
			type page struct {
				Entity struct {
					Relations struct {
						TotalCount int
						Edges      []struct {
							Cursor string
							Node   struct {
								Type, TargetRef string
								Target          *refNode
							}
						}
						PageInfo struct {
							HasNextPage, HasPreviousPage bool
							EndCursor                    *string
						}
					}
				}
			}
			all := []string{
				"dependencyOf component:default/playback-service",
				"dependencyOf component:default/recommendations-service",
				"dependencyOf component:default/search-service",
				"dependencyOf component:default/top-charts-legacy",
				"dependsOn component:default/larkspur-go-kit",
				"dependsOn resource:default/audio-assets",
				"dependsOn resource:default/catalog-db",
				"hasPart component:default/catalog-ingest-worker",
				"ownedBy group:default/team-data",
				"partOf system:default/music-catalog",
				"providesApi api:default/catalog-api",
			}
			tests := []struct {
				name, typ string
				first     int
				want      []string
			}{
				{"AllInPagesOf4", "", 4, all},
				{"AllInOnePage", "", 50, all},
				{"TypeAnyCase", "DEPENDSON", 2, all[4:7]},
				{"TypeLowerCase", "hasmember", 10, nil},
				{"TypeExact", "ownedBy", 10, all[8:9]},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					var got []string
					var after any
					for pages := 0; ; pages++ {
						vars := map[string]any{"ref": "component:catalog-service", "first": tt.first, "after": after}
						if tt.typ != "" {
							vars["type"] = tt.typ
						}
						var p page
						MustQuery(t, srv, q, vars, &p)
						rel := p.Entity.Relations
						if rel.TotalCount != len(tt.want) {
							t.Errorf("page %d: totalCount %d; want %d", pages, rel.TotalCount, len(tt.want))
						}
						if rel.PageInfo.HasPreviousPage != (pages > 0) {
							t.Errorf("page %d: hasPreviousPage %v", pages, rel.PageInfo.HasPreviousPage)
						}
						if len(rel.Edges) > tt.first {
							t.Fatalf("page %d has %d edges; first is %d", pages, len(rel.Edges), tt.first)
						}
						for _, e := range rel.Edges {
							got = append(got, e.Node.Type+" "+e.Node.TargetRef)
							if e.Node.Target == nil || e.Node.Target.Ref != e.Node.TargetRef {
								t.Errorf("%s: target %v; want the entity", e.Node.TargetRef, e.Node.Target)
							}
						}
						if !rel.PageInfo.HasNextPage {
							break
						}
						if pages > len(all) {
							t.Fatal("pagination does not end")
						}
						after = *rel.PageInfo.EndCursor
					}
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("relations mismatch (-want +got):\n%s", diff)
					}
				})
			}
			t.Run("DanglingTarget", func(t *testing.T) {
				var p page
				MustQuery(t, srv, q, map[string]any{"ref": "component:ghost-service", "type": "ownedBy"}, &p)
				edges := p.Entity.Relations.Edges
				if len(edges) != 1 || edges[0].Node.TargetRef != "group:default/ghosts" || edges[0].Node.Target != nil {
					t.Errorf("got %+v; want one ownedBy group:default/ghosts with a null target", edges)
				}
			})
			t.Run("ErrUnknownType", func(t *testing.T) {
				wantCode(t, srv, "INVALID", q, map[string]any{"ref": "component:catalog-service", "type": "lovedBy"})
			})
			t.Run("ErrCursorOfAnotherType", func(t *testing.T) {
				var p page
				MustQuery(t, srv, q, map[string]any{"ref": "component:catalog-service", "first": 1}, &p)
				wantCode(t, srv, "INVALID", q, map[string]any{"ref": "component:catalog-service", "type": "dependsOn", "after": *p.Entity.Relations.PageInfo.EndCursor})
			})
			t.Run("ErrBadCursor", func(t *testing.T) {
				wantCode(t, srv, "INVALID", q, map[string]any{"ref": "component:catalog-service", "after": "garbage"})
			})
		})

		t.Run("ErrorsOrphanSourceLocation", func(t *testing.T) {
			type procErr struct {
				Level, Code, LocationKey string
				Document, Line           *int
				EntityRef                *string
			}
			var got struct {
				Entities struct {
					Edges []struct {
						Node struct {
							Ref            string
							Orphan         bool
							OrphanNote     *string
							Errors         []procErr
							SourceLocation struct{ Type, Target string }
						}
					}
				}
			}
			MustQuery(t, srv, `{ entities(filter: {name: ["catalog-service", "ghost-service", "half-done", "leftover"]}) { edges { node {
				ref orphan orphanNote: annotation(key: "backstage.io/orphan")
				errors { level code locationKey document line entityRef }
				sourceLocation { type target }
			} } } }`, nil, &got)
			type row struct {
				Ref        string
				Orphan     bool
				OrphanNote string
				Errors     []string
				Location   string
			}
			var rows []row
			for _, e := range got.Entities.Edges {
				n := e.Node
				r := row{Ref: n.Ref, Orphan: n.Orphan, OrphanNote: deref(n.OrphanNote), Location: n.SourceLocation.Type + ":" + n.SourceLocation.Target}
				for _, pe := range n.Errors {
					if pe.LocationKey != "file:"+extras || deref(pe.EntityRef) != n.Ref {
						t.Errorf("%s: error at %s for %v; want at file:%s for the entity", n.Ref, pe.LocationKey, pe.EntityRef, extras)
					}
					r.Errors = append(r.Errors, pe.Level+" "+pe.Code+" doc "+intString(pe.Document)+" line "+intString(pe.Line))
				}
				rows = append(rows, r)
			}
			want := []row{
				{Ref: "component:default/catalog-service", Location: "file:" + root},
				{Ref: "component:default/ghost-service", Location: "file:" + extras, Errors: []string{
					"warning REFERENCE doc null line null", // dependsOn resource:default/missing-db
					"warning REFERENCE doc null line null", // ownedBy group:default/ghosts
				}},
				// The fourth document, spec.lifecycle missing, at the line of spec.
				{Ref: "component:default/half-done", Location: "file:" + extras, Errors: []string{"error INVALID doc 4 line 32"}},
				{Ref: "component:default/leftover", Orphan: true, OrphanNote: "true", Location: "file:" + extras},
			}
			if diff := cmp.Diff(want, rows); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})

		t.Run("ErrInvalidRef", func(t *testing.T) {
			for _, ref := range []string{"", "  ", "no-kind", "component:", ":x", "component:/x", "component:ns/"} {
				wantCode(t, srv, "INVALID", `query($ref: String!) { entity(ref: $ref) { ref } }`, map[string]any{"ref": ref})
			}
		})
	})
}

// TestQuery_EntitiesByRefs reads entities in a batch.
func TestQuery_EntitiesByRefs(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, db)
		const q = `query($refs: [String!]!) { entitiesByRefs(refs: $refs) { __typename ref } }`
		t.Run("OK", func(t *testing.T) {
			var got struct{ EntitiesByRefs json.RawMessage }
			MustQuery(t, srv, q, map[string]any{"refs": []string{
				"Group:Team-Data", "component:default/no-such", "component:catalog-service", "user:default/jane.doe", "group:team-data",
			}}, &got)
			want := `[{"__typename": "Group", "ref": "group:default/team-data"}, null,
				{"__typename": "Component", "ref": "component:default/catalog-service"},
				{"__typename": "User", "ref": "user:default/jane.doe"},
				{"__typename": "Group", "ref": "group:default/team-data"}]`
			if diff := diffJSON(t, want, got.EntitiesByRefs); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
		t.Run("Empty", func(t *testing.T) {
			var got struct{ EntitiesByRefs []any }
			MustQuery(t, srv, q, map[string]any{"refs": []string{}}, &got)
			if len(got.EntitiesByRefs) != 0 {
				t.Errorf("got %v; want []", got.EntitiesByRefs)
			}
		})
		t.Run("ErrInvalidRef", func(t *testing.T) {
			wantCode(t, srv, "INVALID", q, map[string]any{"refs": []string{"group:team-data", "component:"}})
		})
		t.Run("ErrTooMany", func(t *testing.T) {
			refs := make([]string, 1001)
			for i := range refs {
				refs[i] = "component:x"
			}
			wantCode(t, srv, "INVALID", q, map[string]any{"refs": refs})
		})
	})
}

// TestQuery_Locations reads the registered locations.
func TestQuery_Locations(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv, extras := MustServeExtras(t, db)
		root := exampleCatalog(t)
		type location struct {
			ID, Type, Target string
			Entity           *struct {
				Ref     string
				Type    *string
				Target  *string
				Targets []string
			}
			Entities struct {
				TotalCount int
				Edges      []struct{ Node refNode }
			}
			Errors []struct {
				Level, Code string
				EntityRef   *string
			}
		}
		const fields = `id type target entity { ref type target targets } entities(first: 2) { totalCount edges { node { ref } } } errors { level code entityRef }`
		var got struct{ Locations []location }
		MustQuery(t, srv, `{ locations { `+fields+` } }`, nil, &got)
		if len(got.Locations) != 2 {
			t.Fatalf("got %d locations; want 2", len(got.Locations))
		}
		ex, extra := got.Locations[0], got.Locations[1]
		t.Run("Example", func(t *testing.T) {
			if ex.Type != "file" || ex.Target != root {
				t.Errorf("first location %s:%s; want file:%s", ex.Type, ex.Target, root)
			}
			if ex.Entity == nil || !strings.HasPrefix(ex.Entity.Ref, "location:default/generated-") ||
				deref(ex.Entity.Type) != "file" || deref(ex.Entity.Target) != root {
				t.Errorf("entity %+v; want the generated Location of file:%s", ex.Entity, root)
			}
			// 43 entities in the example catalog and the generated Location.
			if ex.Entities.TotalCount != 44 || len(ex.Entities.Edges) != 2 || ex.Entities.Edges[0].Node.Ref != "api:default/catalog-api" {
				t.Errorf("entities %+v; want 44 in all, from api:default/catalog-api", ex.Entities)
			}
			if len(ex.Errors) != 0 {
				t.Errorf("errors %+v; want none", ex.Errors)
			}
		})
		t.Run("Extras", func(t *testing.T) {
			if extra.Target != extras {
				t.Errorf("second location %s; want %s", extra.Target, extras)
			}
			// summarizer, charts, ghost-service, half-done, the orphan
			// leftover and the generated Location.
			if extra.Entities.TotalCount != 6 {
				t.Errorf("entities totalCount %d; want 6", extra.Entities.TotalCount)
			}
			var errs []string
			for _, e := range extra.Errors {
				errs = append(errs, e.Level+" "+e.Code+" "+deref(e.EntityRef))
			}
			want := []string{
				"error INVALID component:default/half-done",
				"warning REFERENCE component:default/ghost-service",
				"warning REFERENCE component:default/ghost-service",
			}
			if diff := cmp.Diff(want, errs); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
		})
		t.Run("ByID", func(t *testing.T) {
			var one struct{ Location *location }
			MustQuery(t, srv, `query($id: ID!) { location(id: $id) { `+fields+` } }`, map[string]any{"id": ex.ID}, &one)
			if diff := cmp.Diff(&ex, one.Location); diff != "" {
				t.Errorf("location(id) mismatch (-locations +location):\n%s", diff)
			}
		})
		t.Run("EntitiesPaging", func(t *testing.T) {
			const q = `query($id: ID!, $after: String) { location(id: $id) { entities(first: 10, after: $after) {
				edges { node { ref } } pageInfo { hasNextPage endCursor } } } }`
			seen := map[string]bool{}
			var after any
			for {
				var p struct {
					Location struct {
						Entities struct {
							Edges    []struct{ Node refNode }
							PageInfo struct {
								HasNextPage bool
								EndCursor   *string
							}
						}
					}
				}
				MustQuery(t, srv, q, map[string]any{"id": ex.ID, "after": after}, &p)
				for _, e := range p.Location.Entities.Edges {
					if seen[e.Node.Ref] {
						t.Fatalf("%s listed twice", e.Node.Ref)
					}
					seen[e.Node.Ref] = true
				}
				if !p.Location.Entities.PageInfo.HasNextPage {
					break
				}
				after = *p.Location.Entities.PageInfo.EndCursor
			}
			if len(seen) != 44 {
				t.Errorf("paged through %d entities; want 44", len(seen))
			}
		})
		t.Run("NotFound", func(t *testing.T) {
			r := send(t, srv, `{ location(id: "00000000-0000-0000-0000-000000000000") { id } }`, nil)
			if len(r.Errors) > 0 || string(r.Data) != `{"location":null}` {
				t.Errorf("got data %s errors %+v; want a null location", r.Data, r.Errors)
			}
			r = send(t, srv, `{ location(id: "not-a-uuid") { id } }`, nil)
			if len(r.Errors) > 0 || string(r.Data) != `{"location":null}` {
				t.Errorf("malformed id: got data %s errors %+v; want a null location", r.Data, r.Errors)
			}
		})
	})
}

// TestQuery_EntityFacets counts entities by facet.
func TestQuery_EntityFacets(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, db)
		const q = `query($facets: [String!]!, $filter: EntityFilter) { entityFacets(facets: $facets, filter: $filter) { facet values { value count } } }`
		tests := []struct {
			name   string
			facets []string
			filter any
			want   string
		}{
			{
				name: "Kind", facets: []string{"kind"},
				want: `[{"facet": "kind", "values": [
					{"value": "API", "count": 5}, {"value": "Component", "count": 9}, {"value": "Domain", "count": 2},
					{"value": "Group", "count": 7}, {"value": "Location", "count": 3}, {"value": "Resource", "count": 5},
					{"value": "System", "count": 3}, {"value": "Template", "count": 1}, {"value": "User", "count": 9}]}]`,
			},
			{
				name: "OwnerOfComponents", facets: []string{"owner"}, filter: map[string]any{"kind": []string{"component"}},
				want: `[{"facet": "owner", "values": [
					{"value": "group:default/platform-admins", "count": 1}, {"value": "group:default/team-data", "count": 3},
					{"value": "group:default/team-discovery", "count": 3}, {"value": "group:default/team-playback", "count": 2}]}]`,
			},
			{
				name: "TagsOfResources", facets: []string{"tags"}, filter: map[string]any{"kind": []string{"Resource"}},
				want: `[{"facet": "tags", "values": [
					{"value": "cassandra", "count": 1}, {"value": "kafka", "count": 1}, {"value": "postgres", "count": 2},
					{"value": "queue", "count": 1}, {"value": "s3", "count": 1}, {"value": "storage", "count": 1},
					{"value": "tier-1", "count": 1}]}]`,
			},
			{
				name: "LifecycleAndType", facets: []string{"spec.lifecycle", "spec.type"}, filter: map[string]any{"kind": []string{"component", "api"}},
				want: `[{"facet": "spec.lifecycle", "values": [
					{"value": "deprecated", "count": 1}, {"value": "experimental", "count": 2}, {"value": "production", "count": 11}]},
					{"facet": "spec.type", "values": [
					{"value": "asyncapi", "count": 1}, {"value": "library", "count": 1}, {"value": "openapi", "count": 4},
					{"value": "service", "count": 5}, {"value": "website", "count": 3}]}]`,
			},
			{
				name: "Label", facets: []string{"metadata.labels.tier"},
				want: `[{"facet": "metadata.labels.tier", "values": [{"value": "critical", "count": 4}, {"value": "standard", "count": 1}]}]`,
			},
			{
				name: "Annotation", facets: []string{"metadata.annotations.backstage.io/techdocs-ref"},
				want: `[{"facet": "metadata.annotations.backstage.io/techdocs-ref", "values": [{"value": "dir:.", "count": 2}]}]`,
			},
			{
				name: "Namespace", facets: []string{"namespace"}, filter: map[string]any{"kind": []string{"user"}},
				want: `[{"facet": "namespace", "values": [{"value": "default", "count": 9}]}]`,
			},
			{
				name: "NothingSelected", facets: []string{"kind", "tags"}, filter: map[string]any{"kind": []string{"nothing"}},
				want: `[{"facet": "kind", "values": []}, {"facet": "tags", "values": []}]`,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got struct{ EntityFacets json.RawMessage }
				MustQuery(t, srv, q, map[string]any{"facets": tt.facets, "filter": tt.filter}, &got)
				if diff := diffJSON(t, tt.want, got.EntityFacets); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s", diff)
				}
			})
		}
		t.Run("ErrUnknownFacet", func(t *testing.T) {
			for _, f := range []string{"spec.color", "metadata.labels.", "relations.dependsOn"} {
				wantCode(t, srv, "INVALID", q, map[string]any{"facets": []string{"kind", f}})
			}
		})
		t.Run("ErrBadFilter", func(t *testing.T) {
			wantCode(t, srv, "INVALID", q, map[string]any{"facets": []string{"kind"}, "filter": map[string]any{"owner": []string{"group:"}}})
		})
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func intString(n *int) string {
	if n == nil {
		return "null"
	}
	b, _ := json.Marshal(*n)
	return string(b)
}
