package catalog_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

func entity(kind, namespace, name string, spec map[string]any) *catalog.Entity {
	apiVersion := v1alpha1
	if kind == catalog.KindTemplate {
		apiVersion = scaffolder
	}
	return &catalog.Entity{
		APIVersion: apiVersion,
		Kind:       kind,
		Metadata:   catalog.Metadata{Name: name, Namespace: namespace},
		Spec:       spec,
	}
}

func ref(kind, namespace, name string) catalog.Ref {
	return catalog.Ref{Kind: kind, Namespace: namespace, Name: name}
}

// both returns the pair of relations one spec field emits: forward from
// self to target, and the reverse from target to self.
func both(self catalog.Ref, forward string, target catalog.Ref) []catalog.Relation {
	return []catalog.Relation{
		{Source: self, Type: forward, Target: target},
		{Source: target, Type: catalog.ReverseRelation[forward], Target: self},
	}
}

func concat(parts ...[]catalog.Relation) []catalog.Relation {
	var out []catalog.Relation
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestRelations covers every row of the table in backstage-spec.md §1.6.
// The source entities live in namespace "ns", so that a target without a
// namespace must land there, not in "default".
func TestRelations(t *testing.T) {
	comp := ref("Component", "ns", "artist-web")
	api := ref("API", "ns", "artist-api")
	res := ref("Resource", "ns", "artists-db")
	sys := ref("System", "ns", "artist-engagement")
	dom := ref("Domain", "ns", "artists")
	user := ref("User", "ns", "jdoe")
	grp := ref("Group", "ns", "team-a")
	tmpl := ref("Template", "ns", "react-app")

	tests := []struct {
		name   string
		entity *catalog.Entity
		want   []catalog.Relation
	}{
		{
			name:   "Component/owner",
			entity: entity("Component", "ns", "artist-web", map[string]any{"owner": "team-a"}),
			want:   both(comp, catalog.RelationOwnedBy, ref("Group", "ns", "team-a")),
		},
		{
			name:   "Component/subcomponentOf",
			entity: entity("Component", "ns", "artist-web", map[string]any{"subcomponentOf": "artist-platform"}),
			want:   both(comp, catalog.RelationPartOf, ref("Component", "ns", "artist-platform")),
		},
		{
			name:   "Component/providesApis",
			entity: entity("Component", "ns", "artist-web", map[string]any{"providesApis": []any{"artist-api", "search-api"}}),
			want: concat(
				both(comp, catalog.RelationProvidesAPI, ref("API", "ns", "artist-api")),
				both(comp, catalog.RelationProvidesAPI, ref("API", "ns", "search-api"))),
		},
		{
			name:   "Component/consumesApis",
			entity: entity("Component", "ns", "artist-web", map[string]any{"consumesApis": []any{"artist-api"}}),
			want:   both(comp, catalog.RelationConsumesAPI, ref("API", "ns", "artist-api")),
		},
		{
			name:   "Component/dependsOn",
			entity: entity("Component", "ns", "artist-web", map[string]any{"dependsOn": []any{"resource:artists-db", "component:other/lookup"}}),
			want: concat(
				both(comp, catalog.RelationDependsOn, ref("resource", "ns", "artists-db")),
				both(comp, catalog.RelationDependsOn, ref("component", "other", "lookup"))),
		},
		{
			name:   "Component/dependencyOf",
			entity: entity("Component", "ns", "artist-web", map[string]any{"dependencyOf": []any{"component:artist-lookup"}}),
			want:   both(comp, catalog.RelationDependencyOf, ref("component", "ns", "artist-lookup")),
		},
		{
			name:   "Component/system",
			entity: entity("Component", "ns", "artist-web", map[string]any{"system": "artist-engagement"}),
			want:   both(comp, catalog.RelationPartOf, ref("System", "ns", "artist-engagement")),
		},
		{
			name:   "API/owner",
			entity: entity("API", "ns", "artist-api", map[string]any{"owner": "team-a"}),
			want:   both(api, catalog.RelationOwnedBy, ref("Group", "ns", "team-a")),
		},
		{
			name:   "API/system",
			entity: entity("API", "ns", "artist-api", map[string]any{"system": "artist-engagement"}),
			want:   both(api, catalog.RelationPartOf, ref("System", "ns", "artist-engagement")),
		},
		{
			name:   "Resource/owner",
			entity: entity("Resource", "ns", "artists-db", map[string]any{"owner": "team-a"}),
			want:   both(res, catalog.RelationOwnedBy, ref("Group", "ns", "team-a")),
		},
		{
			name:   "Resource/dependsOn",
			entity: entity("Resource", "ns", "artists-db", map[string]any{"dependsOn": []any{"resource:storage"}}),
			want:   both(res, catalog.RelationDependsOn, ref("resource", "ns", "storage")),
		},
		{
			name:   "Resource/dependencyOf",
			entity: entity("Resource", "ns", "artists-db", map[string]any{"dependencyOf": []any{"component:artist-web"}}),
			want:   both(res, catalog.RelationDependencyOf, ref("component", "ns", "artist-web")),
		},
		{
			name:   "Resource/system",
			entity: entity("Resource", "ns", "artists-db", map[string]any{"system": "artist-engagement"}),
			want:   both(res, catalog.RelationPartOf, ref("System", "ns", "artist-engagement")),
		},
		{
			name:   "System/owner",
			entity: entity("System", "ns", "artist-engagement", map[string]any{"owner": "team-a"}),
			want:   both(sys, catalog.RelationOwnedBy, ref("Group", "ns", "team-a")),
		},
		{
			name:   "System/domain",
			entity: entity("System", "ns", "artist-engagement", map[string]any{"domain": "artists"}),
			want:   both(sys, catalog.RelationPartOf, ref("Domain", "ns", "artists")),
		},
		{
			name:   "Domain/owner",
			entity: entity("Domain", "ns", "artists", map[string]any{"owner": "team-a"}),
			want:   both(dom, catalog.RelationOwnedBy, ref("Group", "ns", "team-a")),
		},
		{
			name:   "Domain/subdomainOf",
			entity: entity("Domain", "ns", "artists", map[string]any{"subdomainOf": "music"}),
			want:   both(dom, catalog.RelationPartOf, ref("Domain", "ns", "music")),
		},
		{
			name:   "User/memberOf",
			entity: entity("User", "ns", "jdoe", map[string]any{"memberOf": []any{"team-a", "team-b"}}),
			want: concat(
				both(user, catalog.RelationMemberOf, ref("Group", "ns", "team-a")),
				both(user, catalog.RelationMemberOf, ref("Group", "ns", "team-b"))),
		},
		{
			name:   "Group/parent",
			entity: entity("Group", "ns", "team-a", map[string]any{"parent": "backstage"}),
			want:   both(grp, catalog.RelationChildOf, ref("Group", "ns", "backstage")),
		},
		{
			name:   "Group/children",
			entity: entity("Group", "ns", "team-a", map[string]any{"children": []any{"team-a1"}}),
			want:   both(grp, catalog.RelationParentOf, ref("Group", "ns", "team-a1")),
		},
		{
			name:   "Group/members",
			entity: entity("Group", "ns", "team-a", map[string]any{"members": []any{"jdoe"}}),
			want:   both(grp, catalog.RelationHasMember, ref("User", "ns", "jdoe")),
		},
		{
			name:   "Template/owner",
			entity: entity("Template", "ns", "react-app", map[string]any{"owner": "team-a"}),
			want:   both(tmpl, catalog.RelationOwnedBy, ref("Group", "ns", "team-a")),
		},
		{
			name:   "Location",
			entity: entity("Location", "ns", "loc", map[string]any{"type": "url", "target": "https://example.com/a.yaml", "targets": []any{"./b.yaml"}, "owner": "team-a", "system": "s"}),
			want:   nil,
		},
		{
			name: "ComponentAllFieldsInOrder",
			entity: entity("Component", "ns", "artist-web", map[string]any{
				"type": "service", "lifecycle": "production",
				"system": "artist-engagement", "owner": "team-a", "subcomponentOf": "artist-platform",
				"providesApis": []any{"artist-api"}, "consumesApis": []any{"search-api"},
				"dependsOn": []any{"resource:artists-db"}, "dependencyOf": []any{"component:lookup"},
			}),
			want: concat(
				both(comp, catalog.RelationOwnedBy, ref("Group", "ns", "team-a")),
				both(comp, catalog.RelationPartOf, ref("Component", "ns", "artist-platform")),
				both(comp, catalog.RelationProvidesAPI, ref("API", "ns", "artist-api")),
				both(comp, catalog.RelationConsumesAPI, ref("API", "ns", "search-api")),
				both(comp, catalog.RelationDependsOn, ref("resource", "ns", "artists-db")),
				both(comp, catalog.RelationDependencyOf, ref("component", "ns", "lookup")),
				both(comp, catalog.RelationPartOf, ref("System", "ns", "artist-engagement"))),
		},
		{
			name:   "ExplicitKindAndNamespace",
			entity: entity("Component", "ns", "artist-web", map[string]any{"owner": "user:other/jdoe", "system": "system:default/core"}),
			want: concat(
				both(comp, catalog.RelationOwnedBy, ref("user", "other", "jdoe")),
				both(comp, catalog.RelationPartOf, ref("system", "default", "core"))),
		},
		{
			name:   "NamespaceWithoutKind",
			entity: entity("Component", "ns", "artist-web", map[string]any{"owner": "platform/team-a"}),
			want:   both(comp, catalog.RelationOwnedBy, ref("Group", "platform", "team-a")),
		},
		{
			name:   "CaseKept",
			entity: entity("Component", "ns", "Artist-Web", map[string]any{"owner": "Group:Team-A"}),
			want:   both(ref("Component", "ns", "Artist-Web"), catalog.RelationOwnedBy, ref("Group", "ns", "Team-A")),
		},
		{
			name:   "NoSpec",
			entity: entity("Component", "ns", "artist-web", nil),
			want:   nil,
		},
		{
			name:   "EmptyLists",
			entity: entity("Group", "ns", "team-a", map[string]any{"children": []any{}, "members": []any{}}),
			want:   nil,
		},
		{
			name:   "WrongTypesIgnored",
			entity: entity("Component", "ns", "artist-web", map[string]any{"owner": int64(1), "providesApis": map[string]any{"a": "b"}, "consumesApis": []any{int64(1), nil, ""}, "system": ""}),
			want:   nil,
		},
		{
			// Like Backstage's [targets].flat(), a list field holding one
			// string still emits (validation reports the wrong type).
			name:   "ListFieldAsString",
			entity: entity("Component", "ns", "artist-web", map[string]any{"providesApis": "artist-api"}),
			want:   both(comp, catalog.RelationProvidesAPI, ref("API", "ns", "artist-api")),
		},
		{
			// Kinds Greenroom does not model keep their owner and system.
			name:   "UnknownKind",
			entity: entity("AiResource", "ns", "rule", map[string]any{"owner": "team-a", "system": "ai", "dependsOn": []any{"resource:x"}}),
			want: concat(
				both(ref("AiResource", "ns", "rule"), catalog.RelationOwnedBy, ref("Group", "ns", "team-a")),
				both(ref("AiResource", "ns", "rule"), catalog.RelationPartOf, ref("System", "ns", "ai"))),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := catalog.Relations(tt.entity)
			if len(problems) > 0 {
				t.Errorf("Relations problems = %+v; want none", problems)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Relations mismatch (-want +got):\n%s", diff)
			}
			checkPairs(t, got)
		})
	}
}

// checkPairs checks that relations come in forward/reverse pairs.
func checkPairs(t *testing.T, rels []catalog.Relation) {
	t.Helper()
	if len(rels)%2 != 0 {
		t.Fatalf("got %d relations; want an even number", len(rels))
	}
	for i := 0; i < len(rels); i += 2 {
		fwd, rev := rels[i], rels[i+1]
		if rev.Source != fwd.Target || rev.Target != fwd.Source || rev.Type != catalog.ReverseRelation[fwd.Type] {
			t.Errorf("relation %d %+v is not the reverse of %+v", i+1, rev, fwd)
		}
	}
}

func TestRelations_DefaultNamespaceIsSource(t *testing.T) {
	for _, ns := range []string{"default", "team-ns"} {
		t.Run(ns, func(t *testing.T) {
			e := entity("Component", ns, "x", map[string]any{"owner": "team-a", "providesApis": []any{"api:y"}, "dependsOn": []any{"resource:db"}})
			rels, problems := catalog.Relations(e)
			if len(problems) > 0 {
				t.Fatalf("Relations problems = %+v; want none", problems)
			}
			var got []string
			for _, r := range rels {
				got = append(got, r.Source.String()+" "+r.Type+" "+r.Target.String())
			}
			want := []string{
				"component:" + ns + "/x ownedBy group:" + ns + "/team-a",
				"group:" + ns + "/team-a ownerOf component:" + ns + "/x",
				"component:" + ns + "/x providesApi api:" + ns + "/y",
				"api:" + ns + "/y apiProvidedBy component:" + ns + "/x",
				"component:" + ns + "/x dependsOn resource:" + ns + "/db",
				"resource:" + ns + "/db dependencyOf component:" + ns + "/x",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("relations mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRelations_TargetsNotValidated checks that relation targets are not
// held to the name rules (backstage-spec.md §1.3).
func TestRelations_TargetsNotValidated(t *testing.T) {
	tests := []struct {
		owner string
		want  string
	}{
		{owner: "john@example.com", want: "group:default/john@example.com"},
		{owner: "Not A Valid Name!", want: "group:default/not a valid name!"},
		{owner: "user:John.Doe@Example.com", want: "user:default/john.doe@example.com"},
		{owner: "-leading-dash", want: "group:default/-leading-dash"},
		{owner: "NS_Upper/team", want: "group:ns_upper/team"},
		{owner: strings.Repeat("x", 100), want: "group:default/" + strings.Repeat("x", 100)},
	}
	for _, tt := range tests {
		t.Run(tt.owner, func(t *testing.T) {
			e := entity("Component", "default", "x", map[string]any{"owner": tt.owner})
			rels, problems := catalog.Relations(e)
			if len(problems) > 0 {
				t.Fatalf("Relations problems = %+v; want none", problems)
			}
			if len(rels) != 2 {
				t.Fatalf("got %d relations; want 2", len(rels))
			}
			if got := rels[0].Target.String(); got != tt.want {
				t.Errorf("ownedBy target = %q; want %q", got, tt.want)
			}
			if got := rels[1].Source.String(); got != tt.want {
				t.Errorf("ownerOf source = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestRelations_Problems(t *testing.T) {
	tests := []struct {
		name      string
		entity    *catalog.Entity
		wantPaths []string
		wantMsg   string
		want      []catalog.Relation // what is still emitted
	}{
		{
			name:      "DependsOnWithoutKind",
			entity:    entity("Component", "ns", "x", map[string]any{"dependsOn": []any{"artists-db"}}),
			wantPaths: []string{"spec.dependsOn.0"},
			wantMsg:   `entity reference "artists-db" had missing or empty kind`,
		},
		{
			name:      "DependsOnOneBadItem",
			entity:    entity("Component", "ns", "x", map[string]any{"dependsOn": []any{"resource:a", "artists-db", "resource:b"}}),
			wantPaths: []string{"spec.dependsOn.1"},
			want: concat(
				both(ref("Component", "ns", "x"), catalog.RelationDependsOn, ref("resource", "ns", "a")),
				both(ref("Component", "ns", "x"), catalog.RelationDependsOn, ref("resource", "ns", "b"))),
		},
		{
			name:      "DependsOnIndexAfterNonString",
			entity:    entity("Component", "ns", "x", map[string]any{"dependsOn": []any{int64(1), "", "artists-db"}}),
			wantPaths: []string{"spec.dependsOn.2"},
		},
		{
			name:      "DependencyOfWithoutKind",
			entity:    entity("Component", "ns", "x", map[string]any{"dependencyOf": []any{"artist-web"}}),
			wantPaths: []string{"spec.dependencyOf.0"},
		},
		{
			name:      "ResourceDependsOnWithoutKind",
			entity:    entity("Resource", "ns", "x", map[string]any{"dependsOn": []any{"storage"}, "dependencyOf": []any{"web"}}),
			wantPaths: []string{"spec.dependsOn.0", "spec.dependencyOf.0"},
		},
		{
			name:      "NamespaceWithoutKind",
			entity:    entity("Component", "ns", "x", map[string]any{"dependsOn": []any{"default/artists-db"}}),
			wantPaths: []string{"spec.dependsOn.0"},
			wantMsg:   "had missing or empty kind",
		},
		{
			name:      "EmptyNamespace",
			entity:    entity("Component", "ns", "x", map[string]any{"owner": "group:/team-a"}),
			wantPaths: []string{"spec.owner"},
			wantMsg:   "was not on the form [<kind>:][<namespace>/]<name>",
		},
		{
			name:      "EmptyKind",
			entity:    entity("User", "ns", "x", map[string]any{"memberOf": []any{"team-a", ":team-b"}}),
			wantPaths: []string{"spec.memberOf.1"},
			want:      both(ref("User", "ns", "x"), catalog.RelationMemberOf, ref("Group", "ns", "team-a")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := catalog.Relations(tt.entity)
			var paths []string
			for _, p := range problems {
				paths = append(paths, p.Path)
			}
			if diff := cmp.Diff(tt.wantPaths, paths); diff != "" {
				t.Errorf("problem paths mismatch (-want +got):\n%s", diff)
			}
			if tt.wantMsg != "" && (len(problems) == 0 || !strings.Contains(problems[0].Message, tt.wantMsg)) {
				t.Errorf("problems = %+v; want the first to contain %q", problems, tt.wantMsg)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Relations mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReverseRelation(t *testing.T) {
	pairs := [][2]string{
		{catalog.RelationOwnedBy, catalog.RelationOwnerOf},
		{catalog.RelationConsumesAPI, catalog.RelationAPIConsumedBy},
		{catalog.RelationProvidesAPI, catalog.RelationAPIProvidedBy},
		{catalog.RelationDependsOn, catalog.RelationDependencyOf},
		{catalog.RelationParentOf, catalog.RelationChildOf},
		{catalog.RelationMemberOf, catalog.RelationHasMember},
		{catalog.RelationPartOf, catalog.RelationHasPart},
	}
	wantNames := map[string]string{
		catalog.RelationOwnedBy: "ownedBy", catalog.RelationOwnerOf: "ownerOf",
		catalog.RelationConsumesAPI: "consumesApi", catalog.RelationAPIConsumedBy: "apiConsumedBy",
		catalog.RelationProvidesAPI: "providesApi", catalog.RelationAPIProvidedBy: "apiProvidedBy",
		catalog.RelationDependsOn: "dependsOn", catalog.RelationDependencyOf: "dependencyOf",
		catalog.RelationParentOf: "parentOf", catalog.RelationChildOf: "childOf",
		catalog.RelationMemberOf: "memberOf", catalog.RelationHasMember: "hasMember",
		catalog.RelationPartOf: "partOf", catalog.RelationHasPart: "hasPart",
	}
	if len(wantNames) != 14 {
		t.Fatalf("relation constants are not distinct: %v", wantNames)
	}
	for c, name := range wantNames {
		if c != name {
			t.Errorf("relation constant = %q; want %q", c, name)
		}
	}
	for _, p := range pairs {
		if got := catalog.ReverseRelation[p[0]]; got != p[1] {
			t.Errorf("ReverseRelation[%q] = %q; want %q", p[0], got, p[1])
		}
		if got := catalog.ReverseRelation[p[1]]; got != p[0] {
			t.Errorf("ReverseRelation[%q] = %q; want %q", p[1], got, p[0])
		}
	}
	if len(catalog.ReverseRelation) != 2*len(pairs) {
		t.Errorf("len(ReverseRelation) = %d; want %d", len(catalog.ReverseRelation), 2*len(pairs))
	}
	for k, v := range catalog.ReverseRelation {
		if back := catalog.ReverseRelation[v]; back != k {
			t.Errorf("ReverseRelation[ReverseRelation[%q]] = %q; want %q", k, back, k)
		}
		if k == v {
			t.Errorf("ReverseRelation[%q] = %q; want a different type", k, v)
		}
	}
}
