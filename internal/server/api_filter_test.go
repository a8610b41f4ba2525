package server_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// TestQuery_EntitiesFilter checks every EntityFilter field against the
// example catalog plus extrasYAML: the values of one field are
// alternatives, the fields must all hold, or and not combine filters, and
// values compare case-insensitively.
func TestQuery_EntitiesFilter(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv, _ := MustServeExtras(t, db)
		all := MustFilter(t, srv, nil)
		if len(all) != 50 { // 44 from the example, 5 extras and their generated Location
			t.Fatalf("%d entities in all; want 50", len(all))
		}
		components := []string{
			"component:default/catalog-ingest-worker", "component:default/catalog-service",
			"component:default/ghost-service", "component:default/half-done",
			"component:default/label-portal", "component:default/larkspur-go-kit",
			"component:default/leftover", "component:default/playback-service",
			"component:default/recommendations-service", "component:default/search-service",
			"component:default/top-charts-legacy", "component:default/web-player",
		}
		except := func(list []string, drop ...string) []string {
			return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
		}
		tests := []struct {
			name   string
			filter map[string]any
			want   []string
		}{
			{"Empty", map[string]any{}, all},
			{"KindAnyCase", map[string]any{"kind": []string{"COMPONENT"}}, components},
			{"KindsAreOr", map[string]any{"kind": []string{"api", "Resource"}}, []string{
				"api:default/catalog-api", "api:default/playback-api", "api:default/playback-events-api",
				"api:default/recommendations-api", "api:default/search-api",
				"resource:default/audio-assets", "resource:default/catalog-db", "resource:default/catalog-db-replica",
				"resource:default/listening-history-db", "resource:default/playback-events",
			}},
			{"KindGeneric", map[string]any{"kind": []string{"airesource"}}, []string{"airesource:default/summarizer"}},
			{"Namespace", map[string]any{"namespace": []string{"DEFAULT"}, "kind": []string{"domain"}},
				[]string{"domain:default/charts", "domain:default/content-platform", "domain:default/listening-experience"}},
			{"NamespaceNone", map[string]any{"namespace": []string{"other"}}, nil},
			{"Name", map[string]any{"name": []string{"CATALOG-DB", "Jane.Doe"}}, []string{"resource:default/catalog-db", "user:default/jane.doe"}},
			{"Type", map[string]any{"type": []string{"Website"}}, []string{
				"component:default/label-portal", "component:default/top-charts-legacy", "component:default/web-player",
			}},
			{"Types", map[string]any{"type": []string{"database", "QUEUE"}}, []string{
				"resource:default/catalog-db", "resource:default/catalog-db-replica",
				"resource:default/listening-history-db", "resource:default/playback-events",
			}},
			{"Lifecycle", map[string]any{"lifecycle": []string{"EXPERIMENTAL", "deprecated"}}, []string{
				"api:default/recommendations-api", "component:default/recommendations-service", "component:default/top-charts-legacy",
			}},
			{"OwnerDefaultsToGroup", map[string]any{"owner": []string{"team-data"}}, []string{
				"api:default/catalog-api", "component:default/catalog-ingest-worker", "component:default/catalog-service",
				"component:default/half-done", "component:default/label-portal", "component:default/leftover",
				"resource:default/audio-assets", "resource:default/catalog-db", "resource:default/catalog-db-replica",
				"system:default/music-catalog",
			}},
			{"OwnerFullRefAnyCase", map[string]any{"owner": []string{"Group:Default/Team-Data"}, "kind": []string{"system"}},
				[]string{"system:default/music-catalog"}},
			{"OwnerUser", map[string]any{"owner": []string{"user:jane.doe"}}, []string{"airesource:default/summarizer"}},
			{"OwnersAreOr", map[string]any{"owner": []string{"team-playback", "platform-admins"}, "kind": []string{"resource"}},
				[]string{"resource:default/listening-history-db", "resource:default/playback-events"}},
			{"System", map[string]any{"system": []string{"music-catalog"}}, []string{
				"api:default/catalog-api", "component:default/catalog-ingest-worker", "component:default/catalog-service",
				"component:default/label-portal", "resource:default/audio-assets", "resource:default/catalog-db",
				"resource:default/catalog-db-replica",
			}},
			{"SystemFullRef", map[string]any{"system": []string{"System:Discovery"}, "kind": []string{"api"}},
				[]string{"api:default/recommendations-api", "api:default/search-api"}},
			{"TagsAll", map[string]any{"tags": map[string]any{"all": []string{"GO", "tier-1"}}},
				[]string{"component:default/catalog-service", "component:default/playback-service"}},
			{"TagsAny", map[string]any{"tags": map[string]any{"any": []string{"kotlin", "PHP"}}},
				[]string{"component:default/search-service", "component:default/top-charts-legacy"}},
			{"TagsAllAndAny", map[string]any{"tags": map[string]any{"all": []string{"go"}, "any": []string{"batch", "library"}}},
				[]string{"component:default/catalog-ingest-worker", "component:default/larkspur-go-kit"}},
			{"LabelKey", map[string]any{"labels": []map[string]any{{"key": "TIER"}}}, []string{
				"component:default/catalog-service", "component:default/playback-service", "resource:default/catalog-db",
				"resource:default/catalog-db-replica", "resource:default/listening-history-db",
			}},
			{"LabelValue", map[string]any{"labels": []map[string]any{{"key": "tier", "value": "CRITICAL"}}}, []string{
				"component:default/catalog-service", "component:default/playback-service", "resource:default/catalog-db",
				"resource:default/listening-history-db",
			}},
			{"LabelsAreOr", map[string]any{"labels": []map[string]any{{"key": "tier", "value": "standard"}, {"key": "larkspur.example/exposure"}}},
				[]string{"api:default/playback-api", "resource:default/catalog-db-replica"}},
			{"AnnotationKey", map[string]any{"annotations": []map[string]any{{"key": "backstage.io/techdocs-ref"}}},
				[]string{"component:default/catalog-service", "component:default/playback-service"}},
			{"AnnotationValue", map[string]any{"annotations": []map[string]any{{"key": "backstage.io/source-template", "value": "TEMPLATE:default/go-service"}}},
				[]string{"component:default/recommendations-service"}},
			{"AnnotationOrphan", map[string]any{"annotations": []map[string]any{{"key": "backstage.io/orphan", "value": "true"}}},
				[]string{"component:default/leftover"}},
			{"Relation", map[string]any{"relation": []map[string]any{{"type": "DEPENDSON", "targetRef": "Resource:Catalog-DB"}}}, []string{
				"component:default/catalog-ingest-worker", "component:default/catalog-service", "resource:default/catalog-db-replica",
			}},
			{"RelationsAreOr", map[string]any{"relation": []map[string]any{
				{"type": "dependsOn", "targetRef": "resource:default/catalog-db"},
				{"type": "consumesapi", "targetRef": "api:playback-events-api"},
			}}, []string{
				"component:default/catalog-ingest-worker", "component:default/catalog-service",
				"component:default/recommendations-service", "resource:default/catalog-db-replica",
			}},
			{"RelationHasMember", map[string]any{"relation": []map[string]any{{"type": "hasMember", "targetRef": "user:ravi.menon"}}},
				[]string{"group:default/platform-admins", "group:default/team-data"}},
			{"Orphan", map[string]any{"orphan": true}, []string{"component:default/leftover"}},
			{"NotOrphan", map[string]any{"orphan": false, "kind": []string{"component"}}, except(components, "component:default/leftover")},
			{"HasErrors", map[string]any{"hasErrors": true}, []string{"component:default/half-done"}},
			// Dangling references are warnings, not errors.
			{"HasNoErrors", map[string]any{"hasErrors": false, "name": []string{"half-done", "ghost-service"}},
				[]string{"component:default/ghost-service"}},
			{"TextDescription", map[string]any{"text": "DDEX"}, []string{"component:default/catalog-ingest-worker"}},
			{"TextTagAndDescription", map[string]any{"text": "Kafka"}, []string{"api:default/playback-events-api", "resource:default/playback-events"}},
			{"TextTitleAndDescription", map[string]any{"text": "read replica"}, []string{"component:default/search-service", "resource:default/catalog-db-replica"}},
			{"TextIsNotAPattern", map[string]any{"text": "%"}, nil},
			{"TextUnderscoreIsNotAPattern", map[string]any{"text": "catalog_db"}, nil},
			{"FieldsAreAnd", map[string]any{"kind": []string{"component"}, "owner": []string{"team-discovery"}, "tags": map[string]any{"any": []string{"ml"}}},
				[]string{"component:default/recommendations-service"}},
			{"Or", map[string]any{"or": []map[string]any{
				{"kind": []string{"user"}, "name": []string{"jane.doe"}},
				{"kind": []string{"group"}, "name": []string{"platform-admins"}},
			}}, []string{"group:default/platform-admins", "user:default/jane.doe"}},
			{"OrAndField", map[string]any{"kind": []string{"component"}, "or": []map[string]any{
				{"lifecycle": []string{"experimental"}},
				{"tags": map[string]any{"any": []string{"php"}}},
			}}, []string{"component:default/recommendations-service", "component:default/top-charts-legacy"}},
			// An entity without a lifecycle does not have lifecycle
			// production, so not selects it.
			{"NotLifecycle", map[string]any{"kind": []string{"component"}, "not": map[string]any{"lifecycle": []string{"production"}}}, []string{
				"component:default/half-done", "component:default/recommendations-service", "component:default/top-charts-legacy",
			}},
			{"NotLifecycleNoneSet", map[string]any{"kind": []string{"resource"}, "not": map[string]any{"lifecycle": []string{"production"}}}, []string{
				"resource:default/audio-assets", "resource:default/catalog-db", "resource:default/catalog-db-replica",
				"resource:default/listening-history-db", "resource:default/playback-events",
			}},
			{"NotTypeNoneSet", map[string]any{"kind": []string{"system"}, "not": map[string]any{"type": []string{"service"}}}, []string{
				"system:default/discovery", "system:default/music-catalog", "system:default/playback",
			}},
			{"NotOwner", map[string]any{"kind": []string{"component"}, "not": map[string]any{"owner": []string{"team-data"}}},
				except(components, "component:default/catalog-ingest-worker", "component:default/catalog-service",
					"component:default/half-done", "component:default/label-portal", "component:default/leftover")},
			{"NotLabel", map[string]any{"kind": []string{"resource"}, "not": map[string]any{"labels": []map[string]any{{"key": "tier", "value": "critical"}}}},
				[]string{"resource:default/audio-assets", "resource:default/catalog-db-replica", "resource:default/playback-events"}},
			{"NotOr", map[string]any{"kind": []string{"group"}, "not": map[string]any{"or": []map[string]any{
				{"name": []string{"engineering"}}, {"name": []string{"product"}},
			}}}, []string{
				"group:default/larkspur-records", "group:default/platform-admins", "group:default/team-data",
				"group:default/team-discovery", "group:default/team-playback",
			}},
			{"NotNot", map[string]any{"not": map[string]any{"not": map[string]any{"name": []string{"catalog-db"}}}},
				[]string{"resource:default/catalog-db"}},
			{"NotEverything", map[string]any{"not": map[string]any{"namespace": []string{"default"}}}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := MustFilter(t, srv, tt.filter)
				if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("filter %v mismatch (-want +got):\n%s", tt.filter, diff)
				}
			})
		}
	})
}

// TestQuery_EntitiesFilterLimits checks the limits on a filter's shape.
func TestQuery_EntitiesFilterLimits(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, db)
		// nested returns a filter nested depth levels deep, the root
		// being level 1, alternating not and or.
		nested := func(depth int) map[string]any {
			f := map[string]any{"kind": []string{"nothing"}}
			for i := 1; i < depth; i++ {
				if i%2 == 0 {
					f = map[string]any{"or": []map[string]any{f}}
				} else {
					f = map[string]any{"not": f}
				}
			}
			return f
		}
		names := func(n int) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = fmt.Sprintf("name-%d", i)
			}
			return out
		}
		tests := []struct {
			name   string
			filter map[string]any
			code   string // "" when the filter is valid
		}{
			{"Depth5", nested(5), ""},
			{"ErrDepth6", nested(6), "INVALID"},
			{"ErrDepth20", nested(20), "INVALID"},
			{"Values200", map[string]any{"name": names(200)}, ""},
			{"ErrValues201", map[string]any{"name": names(201)}, "INVALID"},
			{"ErrValues201AcrossFields", map[string]any{"name": names(100), "kind": names(50), "tags": map[string]any{"any": names(51)}}, "INVALID"},
			{"ErrValues201AcrossOr", map[string]any{"or": []map[string]any{{"name": names(101)}, {"not": map[string]any{"owner": names(100)}}}}, "INVALID"},
			{"ErrValues201Labels", map[string]any{"labels": func() []map[string]any {
				out := make([]map[string]any, 201)
				for i := range out {
					out[i] = map[string]any{"key": fmt.Sprint(i)}
				}
				return out
			}()}, "INVALID"},
			{"ErrUnknownRelationType", map[string]any{"relation": []map[string]any{{"type": "lovedBy", "targetRef": "group:team-data"}}}, "INVALID"},
			{"ErrUnknownRelationTypeNested", map[string]any{"not": map[string]any{"relation": []map[string]any{{"type": "friendOf", "targetRef": "group:team-data"}}}}, "INVALID"},
			{"ErrRelationTargetMalformed", map[string]any{"relation": []map[string]any{{"type": "dependsOn", "targetRef": "catalog-db"}}}, "INVALID"},
			{"ErrOwnerMalformed", map[string]any{"owner": []string{"group:"}}, "INVALID"},
			{"ErrSystemMalformed", map[string]any{"system": []string{"system:default/"}}, "INVALID"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				vars := map[string]any{"filter": tt.filter}
				if tt.code == "" {
					p := MustList(t, srv, vars)
					if len(p.Edges) != 0 {
						t.Errorf("got %v; want nothing", p.refs())
					}
					return
				}
				wantCode(t, srv, tt.code, listQuery, vars)
				// entityFacets checks its filter the same way.
				wantCode(t, srv, tt.code, `query($filter: EntityFilter) { entityFacets(facets: ["kind"], filter: $filter) { facet } }`, vars)
			})
		}
	})
}
