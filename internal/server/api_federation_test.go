package server_test

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

const entitiesQuery = `query($r: [_Any!]!) { _entities(representations: $r) {
	__typename
	... on CatalogEntity { ref }
	... on Component { lifecycle }
	... on Group { type }
	... on GenericEntity { kind }
} }`

func TestFederation_Entities(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv, _ := MustServeExtras(t, db)
		rep := func(typename, ref string) map[string]any { return map[string]any{"__typename": typename, "ref": ref} }

		t.Run("EveryType", func(t *testing.T) {
			var got struct {
				Entities json.RawMessage `json:"_entities"`
			}
			MustQuery(t, srv, entitiesQuery, map[string]any{"r": []map[string]any{
				rep("Component", "component:default/catalog-service"),
				rep("API", "api:default/catalog-api"),
				rep("Resource", "Resource:Catalog-DB"), // any case, namespace left out
				rep("System", "system:default/music-catalog"),
				rep("Domain", "domain:default/content-platform"),
				rep("Group", "group:default/team-data"),
				rep("User", "user:default/jane.doe"),
				rep("Location", "location:default/larkspur-catalog"),
				rep("Template", "template:default/go-service"),
				rep("GenericEntity", "airesource:default/summarizer"),
				rep("Component", "component:default/no-such"),             // missing
				rep("Group", "component:default/catalog-service"),         // wrong __typename
				rep("CatalogEntity", "component:default/catalog-service"), // the entity interface: any kind (a plugin's @interfaceObject)
				rep("CatalogEntity", "group:default/team-data"),
				rep("CatalogEntity", "component:default/no-such"),
				rep("Component", "component:default/catalog-service"),
			}}, &got)
			want := `[
				{"__typename": "Component", "ref": "component:default/catalog-service", "lifecycle": "production"},
				{"__typename": "API", "ref": "api:default/catalog-api"},
				{"__typename": "Resource", "ref": "resource:default/catalog-db"},
				{"__typename": "System", "ref": "system:default/music-catalog"},
				{"__typename": "Domain", "ref": "domain:default/content-platform"},
				{"__typename": "Group", "ref": "group:default/team-data", "type": "team"},
				{"__typename": "User", "ref": "user:default/jane.doe"},
				{"__typename": "Location", "ref": "location:default/larkspur-catalog"},
				{"__typename": "Template", "ref": "template:default/go-service"},
				{"__typename": "GenericEntity", "ref": "airesource:default/summarizer", "kind": "AiResource"},
				null, null,
				{"__typename": "Component", "ref": "component:default/catalog-service", "lifecycle": "production"},
				{"__typename": "Group", "ref": "group:default/team-data", "type": "team"},
				null,
				{"__typename": "Component", "ref": "component:default/catalog-service", "lifecycle": "production"}
			]`
			if diff := diffJSON(t, want, got.Entities); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
		t.Run("Empty", func(t *testing.T) {
			var got struct {
				Entities []any `json:"_entities"`
			}
			MustQuery(t, srv, entitiesQuery, map[string]any{"r": []map[string]any{}}, &got)
			if len(got.Entities) != 0 {
				t.Errorf("got %v; want []", got.Entities)
			}
		})
		t.Run("ErrMalformedRef", func(t *testing.T) {
			for _, r := range []map[string]any{rep("Component", "component:"), {"__typename": "Component"}} {
				wantCode(t, srv, "INVALID", entitiesQuery, map[string]any{"r": []map[string]any{rep("Group", "group:team-data"), r}})
			}
		})
	})
}

func TestFederation_Service(t *testing.T) {
	t.Parallel()
	srv := MustServe(t, storetest.MustOpenSQLite(t))
	var got struct {
		Service struct{ SDL string } `json:"_service"`
	}
	MustQuery(t, srv, `{ _service { sdl } }`, nil, &got)
	for _, kind := range []string{"Component", "API", "Resource", "System", "Domain", "Group", "User", "Location", "Template", "GenericEntity"} {
		key := regexp.MustCompile(`(?m)^type ` + kind + ` implements [A-Za-z& ]+ @key\(fields: "ref"\) \{`)
		if !key.MatchString(got.Service.SDL) {
			t.Errorf("sdl lacks type %s with @key(fields: \"ref\")", kind)
		}
	}
	// The entity interface is keyed, so that plugins extend every kind at
	// once with @interfaceObject; Owner does not implement it, or a plugin's
	// fields on CatalogEntity would have to be declared on Owner too.
	if !regexp.MustCompile(`(?m)^interface CatalogEntity @key\(fields: "ref"\) \{`).MatchString(got.Service.SDL) {
		t.Error(`sdl lacks interface CatalogEntity @key(fields: "ref")`)
	}
	for _, unwanted := range []string{`interface Owner implements`, `interface Owner @key`, `_Service`, `_Any`} {
		if regexp.MustCompile(regexp.QuoteMeta(unwanted)).MatchString(got.Service.SDL) {
			t.Errorf("sdl includes %q", unwanted)
		}
	}
}
