package catalog_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

const (
	v1alpha1   = "backstage.io/v1alpha1"
	v1beta1    = "backstage.io/v1beta1"
	scaffolder = "scaffolder.backstage.io/v1beta3"
)

// The documents below are shaped as the YAML decoder produces them:
// map[string]any, []any, string, int64, float64, bool and nil.

func mkDoc(apiVersion, kind string, metadata map[string]any, spec any) map[string]any {
	d := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": metadata}
	if spec != nil {
		d["spec"] = spec
	}
	return d
}

func named(name string) map[string]any { return map[string]any{"name": name} }

// validSpecs returns, for every kind Greenroom models, a fresh spec with
// every required field and some optional ones.
func validSpecs() map[string]map[string]any {
	return map[string]map[string]any{
		catalog.KindComponent: {
			"type": "service", "lifecycle": "production", "owner": "team-a",
			"system": "artist-engagement", "subcomponentOf": "artist-platform",
			"providesApis": []any{"artist-api"}, "consumesApis": []any{"api:default/search-api"},
			"dependsOn": []any{"resource:artists-db"}, "dependencyOf": []any{"component:default/artist-lookup"},
		},
		catalog.KindAPI: {
			"type": "openapi", "lifecycle": "production", "owner": "team-a", "system": "artist-engagement",
			"definition": "openapi: 3.0.0\ninfo:\n  title: Artist API\n",
		},
		catalog.KindResource: {
			"type": "database", "owner": "team-a", "system": "artist-engagement",
			"dependsOn": []any{"resource:storage"}, "dependencyOf": []any{"component:artist-web"},
		},
		catalog.KindSystem: {"owner": "team-a", "domain": "artists", "type": "product"},
		catalog.KindDomain: {"owner": "team-a", "subdomainOf": "music", "type": "business"},
		catalog.KindGroup: {
			"type": "team", "children": []any{}, "parent": "backstage", "members": []any{"jdoe"},
			"profile": map[string]any{"displayName": "Team A", "email": "team-a@example.com", "picture": "https://example.com/a.png"},
		},
		catalog.KindUser: {
			"memberOf": []any{},
			"profile":  map[string]any{"displayName": "Jane Doe", "email": "jdoe@example.com"},
		},
		catalog.KindLocation: {"type": "url", "target": "https://example.com/catalog-info.yaml", "presence": "optional"},
		catalog.KindTemplate: {
			"type": "service", "owner": "team-a", "lifecycle": "experimental",
			"parameters": []any{map[string]any{"title": "Name", "properties": map[string]any{"name": map[string]any{"type": "string"}}}},
			"steps":      []any{map[string]any{"id": "fetch", "action": "fetch:template", "input": map[string]any{"url": "./skeleton"}}},
			"output":     map[string]any{"links": []any{map[string]any{"title": "Repo", "url": "${{ steps.publish.output.remoteUrl }}"}}},
		},
	}
}

func versionOf(kind string) string {
	if kind == catalog.KindTemplate {
		return scaffolder
	}
	return v1alpha1
}

func validDoc(kind string) map[string]any {
	return mkDoc(versionOf(kind), kind, named("my-"+strings.ToLower(kind)), validSpecs()[kind])
}

// problemPaths returns the Paths of problems, sorted, or nil.
func problemPaths(problems []catalog.Problem) []string {
	var paths []string
	for _, p := range problems {
		paths = append(paths, p.Path)
	}
	slices.Sort(paths)
	return paths
}

func mustParse(t *testing.T, doc map[string]any) *catalog.Entity {
	t.Helper()
	e, problems := catalog.Parse(doc)
	if len(problems) > 0 {
		t.Fatalf("Parse problems = %+v; want none", problems)
	}
	if e == nil {
		t.Fatal("Parse entity = nil; want an entity")
	}
	return e
}

func TestParse_Valid(t *testing.T) {
	mcp := mkDoc(v1alpha1, catalog.KindAPI, named("backstage-mcp-actions"), map[string]any{
		"type": "mcp-server", "lifecycle": "experimental", "owner": "backstage",
		"remotes": []any{map[string]any{"type": "streamable-http", "url": "http://internal.example.com:7007/api/mcp-actions/v1"}},
	})
	tests := []struct {
		name string
		doc  map[string]any
	}{
		{name: "Component", doc: validDoc(catalog.KindComponent)},
		{name: "ComponentMinimal", doc: mkDoc(v1alpha1, "Component", named("x"), map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"})},
		{name: "ComponentV1beta1", doc: mkDoc(v1beta1, "Component", named("x"), map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"})},
		{name: "ComponentExtraSpecKeys", doc: mkDoc(v1alpha1, "Component", named("x"), map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a", "custom": map[string]any{"k": int64(1)}, "replicas": int64(3), "ratio": 0.5, "enabled": true, "nothing": nil})},
		{name: "API", doc: validDoc(catalog.KindAPI)},
		{name: "APIMCPServer", doc: mcp},
		{name: "Resource", doc: validDoc(catalog.KindResource)},
		{name: "System", doc: validDoc(catalog.KindSystem)},
		{name: "SystemMinimal", doc: mkDoc(v1alpha1, "System", named("x"), map[string]any{"owner": "team-a"})},
		{name: "Domain", doc: validDoc(catalog.KindDomain)},
		{name: "Group", doc: validDoc(catalog.KindGroup)},
		{name: "GroupMinimal", doc: mkDoc(v1alpha1, "Group", named("x"), map[string]any{"type": "team", "children": []any{}})},
		{name: "User", doc: validDoc(catalog.KindUser)},
		{name: "UserMinimal", doc: mkDoc(v1alpha1, "User", named("jdoe"), map[string]any{"memberOf": []any{}})},
		{name: "Location", doc: validDoc(catalog.KindLocation)},
		{name: "LocationTargets", doc: mkDoc(v1alpha1, "Location", named("x"), map[string]any{"targets": []any{"./a.yaml", "./b.yaml"}, "presence": "required"})},
		{name: "LocationEmptySpec", doc: mkDoc(v1alpha1, "Location", named("x"), map[string]any{})},
		{name: "Template", doc: validDoc(catalog.KindTemplate)},
		{name: "TemplateParametersObject", doc: mkDoc(scaffolder, "Template", named("x"), map[string]any{"type": "service", "parameters": map[string]any{"properties": map[string]any{}}, "steps": []any{}})},
		{name: "MixedCaseName", doc: mkDoc(v1alpha1, "Component", named("Artist_Web.V2-beta"), map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"})},
		{name: "Name63", doc: mkDoc(v1alpha1, "Component", named(strings.Repeat("n", 63)), map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"})},
		{name: "UnknownKind", doc: mkDoc(v1alpha1, "AiResource", named("code-review-rule"), map[string]any{"type": "rule", "owner": "team-a", "anything": []any{int64(1), "two"}})},
		{name: "UnknownKindNoSpec", doc: mkDoc("example.com/v2", "Widget", named("w"), nil)},
		{name: "FullMetadata", doc: mkDoc(v1alpha1, "Component", map[string]any{
			"name": "artist-web", "namespace": "team-a", "title": "Artist Web", "description": "",
			"labels":      map[string]any{"tier": "frontend", "example.com/empty": "", "Env_Name": "Prod.1"},
			"annotations": map[string]any{"backstage.io/techdocs-ref": "dir:.", "example.com/free-text": "Anything at all: even spaces!", "empty": ""},
			"tags":        []any{"java", "c++", "c#", "lang:go", "k8s-v1"},
			"links": []any{
				map[string]any{"url": "https://admin.example.com", "title": "Admin", "icon": "dashboard", "type": "admin"},
				map[string]any{"url": "mailto:team-a@example.com"},
			},
			"generation": int64(3),
		}, map[string]any{"type": "website", "lifecycle": "experimental", "owner": "team-a"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustParse(t, tt.doc)
			if got, want := e.Kind, tt.doc["kind"]; got != want {
				t.Errorf("Kind = %q; want %q", got, want)
			}
			if got, want := e.APIVersion, tt.doc["apiVersion"]; got != want {
				t.Errorf("APIVersion = %q; want %q", got, want)
			}
			if got, want := e.Metadata.Name, tt.doc["metadata"].(map[string]any)["name"]; got != want {
				t.Errorf("Metadata.Name = %q; want %q", got, want)
			}
		})
	}
}

func TestParse_Metadata(t *testing.T) {
	e := mustParse(t, mkDoc(v1alpha1, "Component", map[string]any{
		"name": "Artist-Web", "namespace": "team-a", "uid": "u-1", "etag": "e-1",
		"title": "Artist Web", "description": "The web site",
		"labels":      map[string]any{"tier": "frontend", "empty": ""},
		"annotations": map[string]any{"backstage.io/techdocs-ref": "dir:."},
		"tags":        []any{"java", "lang:go"},
		"links":       []any{map[string]any{"url": "https://example.com", "title": "Home"}},
		"custom":      map[string]any{"k": "v"},
	}, map[string]any{"type": "website", "lifecycle": "production", "owner": "team-a"}))
	want := catalog.Metadata{
		Name: "Artist-Web", Namespace: "team-a", UID: "u-1", Etag: "e-1",
		Title: "Artist Web", Description: "The web site",
		Labels:      map[string]string{"tier": "frontend", "empty": ""},
		Annotations: map[string]string{"backstage.io/techdocs-ref": "dir:."},
		Tags:        []string{"java", "lang:go"},
		Links:       []catalog.Link{{URL: "https://example.com", Title: "Home"}},
		Extra:       map[string]any{"custom": map[string]any{"k": "v"}},
	}
	if diff := cmp.Diff(want, e.Metadata); diff != "" {
		t.Errorf("Metadata mismatch (-want +got):\n%s", diff)
	}
	if got, want := e.Ref(), (catalog.Ref{Kind: "Component", Namespace: "team-a", Name: "Artist-Web"}); got != want {
		t.Errorf("Ref() = %+v; want %+v (case kept)", got, want)
	}
}

func TestParse_DefaultNamespace(t *testing.T) {
	tests := []struct {
		name     string
		metadata map[string]any
		want     string
	}{
		{name: "Absent", metadata: named("x"), want: "default"},
		{name: "Given", metadata: map[string]any{"name": "x", "namespace": "team-a"}, want: "team-a"},
		{name: "ExplicitDefault", metadata: map[string]any{"name": "x", "namespace": "default"}, want: "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustParse(t, mkDoc(v1alpha1, "System", tt.metadata, map[string]any{"owner": "team-a"}))
			if e.Metadata.Namespace != tt.want {
				t.Errorf("Metadata.Namespace = %q; want %q", e.Metadata.Namespace, tt.want)
			}
			if got := e.Doc()["metadata"].(map[string]any)["namespace"]; got != tt.want {
				t.Errorf("Doc() metadata.namespace = %v; want %q", got, tt.want)
			}
			if got, want := e.Ref().String(), "system:"+tt.want+"/x"; got != want {
				t.Errorf("Ref().String() = %q; want %q", got, want)
			}
		})
	}
}

// TestParse_Envelope covers documents whose envelope is invalid: Parse
// cannot name them and returns no entity.
func TestParse_Envelope(t *testing.T) {
	spec := func() map[string]any { return map[string]any{"owner": "team-a"} }
	tests := []struct {
		name      string
		doc       map[string]any
		wantPaths []string
	}{
		{name: "MissingAPIVersion", doc: map[string]any{"kind": "System", "metadata": named("x"), "spec": spec()}, wantPaths: []string{"apiVersion"}},
		{name: "EmptyAPIVersion", doc: mkDoc("", "System", named("x"), spec()), wantPaths: []string{"apiVersion"}},
		{name: "APIVersionNotString", doc: map[string]any{"apiVersion": int64(1), "kind": "System", "metadata": named("x"), "spec": spec()}, wantPaths: []string{"apiVersion"}},
		{name: "APIVersionBadFormat", doc: mkDoc("v1-beta", "System", named("x"), spec()), wantPaths: []string{"apiVersion"}},
		{name: "APIVersionTwoSlashes", doc: mkDoc("a/b/c", "System", named("x"), spec()), wantPaths: []string{"apiVersion"}},
		{name: "MissingKind", doc: map[string]any{"apiVersion": v1alpha1, "metadata": named("x"), "spec": spec()}, wantPaths: []string{"kind"}},
		{name: "EmptyKind", doc: mkDoc(v1alpha1, "", named("x"), spec()), wantPaths: []string{"kind"}},
		{name: "KindNotString", doc: map[string]any{"apiVersion": v1alpha1, "kind": true, "metadata": named("x"), "spec": spec()}, wantPaths: []string{"kind"}},
		{name: "KindBadFormat", doc: mkDoc(v1alpha1, "My-Kind", named("x"), spec()), wantPaths: []string{"kind"}},
		{name: "MissingMetadata", doc: map[string]any{"apiVersion": v1alpha1, "kind": "System", "spec": spec()}, wantPaths: []string{"metadata"}},
		{name: "MetadataNotObject", doc: map[string]any{"apiVersion": v1alpha1, "kind": "System", "metadata": "x", "spec": spec()}, wantPaths: []string{"metadata"}},
		{name: "MissingName", doc: mkDoc(v1alpha1, "System", map[string]any{"namespace": "default"}, spec()), wantPaths: []string{"metadata.name"}},
		{name: "EmptyName", doc: mkDoc(v1alpha1, "System", named(""), spec()), wantPaths: []string{"metadata.name"}},
		{name: "NameNotString", doc: mkDoc(v1alpha1, "System", map[string]any{"name": int64(42)}, spec()), wantPaths: []string{"metadata.name"}},
		{name: "NameLeadingDash", doc: mkDoc(v1alpha1, "System", named("-x"), spec()), wantPaths: []string{"metadata.name"}},
		{name: "NameTrailingDot", doc: mkDoc(v1alpha1, "System", named("x."), spec()), wantPaths: []string{"metadata.name"}},
		{name: "NameWithSpace", doc: mkDoc(v1alpha1, "System", named("invalid component"), spec()), wantPaths: []string{"metadata.name"}},
		{name: "Name64", doc: mkDoc(v1alpha1, "System", named(strings.Repeat("n", 64)), spec()), wantPaths: []string{"metadata.name"}},
		{name: "EmptyNamespace", doc: mkDoc(v1alpha1, "System", map[string]any{"name": "x", "namespace": ""}, spec()), wantPaths: []string{"metadata.namespace"}},
		{name: "NullNamespace", doc: mkDoc(v1alpha1, "System", map[string]any{"name": "x", "namespace": nil}, spec()), wantPaths: []string{"metadata.namespace"}},
		{name: "NamespaceNotString", doc: mkDoc(v1alpha1, "System", map[string]any{"name": "x", "namespace": int64(5)}, spec()), wantPaths: []string{"metadata.namespace"}},
		{name: "NamespaceUppercase", doc: mkDoc(v1alpha1, "System", map[string]any{"name": "x", "namespace": "Team-A"}, spec()), wantPaths: []string{"metadata.namespace"}},
		{name: "NamespaceUnderscore", doc: mkDoc(v1alpha1, "System", map[string]any{"name": "x", "namespace": "team_a"}, spec()), wantPaths: []string{"metadata.namespace"}},
		{name: "Everything", doc: map[string]any{"metadata": map[string]any{"namespace": "BAD"}}, wantPaths: []string{"apiVersion", "kind", "metadata.name", "metadata.namespace"}},
		{name: "EmptyDocument", doc: map[string]any{}, wantPaths: []string{"apiVersion", "kind", "metadata"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, problems := catalog.Parse(tt.doc)
			if e != nil {
				t.Errorf("Parse entity = %+v; want nil", e)
			}
			if diff := cmp.Diff(tt.wantPaths, problemPaths(problems)); diff != "" {
				t.Errorf("problem paths mismatch (-want +got):\n%s\nproblems: %+v", diff, problems)
			}
			for _, p := range problems {
				if p.Message == "" || p.Error() != p.Message {
					t.Errorf("problem %+v: Error() = %q; want the non-empty Message", p, p.Error())
				}
			}
		})
	}
}

// parseCase is a document whose envelope is valid but which has problems:
// Parse returns the entity and the problems.
type parseCase struct {
	name      string
	doc       map[string]any
	wantPaths []string
	wantMsg   string // a substring of some problem's message, if set
}

func runParseCases(t *testing.T, tests []parseCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, problems := catalog.Parse(tt.doc)
			if e == nil {
				t.Fatalf("Parse entity = nil; want an entity (problems %+v)", problems)
			}
			if diff := cmp.Diff(tt.wantPaths, problemPaths(problems)); diff != "" {
				t.Errorf("problem paths mismatch (-want +got):\n%s\nproblems: %+v", diff, problems)
			}
			if tt.wantMsg != "" && !slices.ContainsFunc(problems, func(p catalog.Problem) bool { return strings.Contains(p.Message, tt.wantMsg) }) {
				t.Errorf("problems = %+v; want a message containing %q", problems, tt.wantMsg)
			}
		})
	}
}

func TestParse_RequiredSpecFields(t *testing.T) {
	without := func(kind, key string) map[string]any {
		d := validDoc(kind)
		delete(d["spec"].(map[string]any), key)
		return d
	}
	mcp := func(drop string) map[string]any {
		spec := map[string]any{
			"type": "mcp-server", "lifecycle": "experimental", "owner": "backstage",
			"remotes": []any{map[string]any{"type": "sse", "url": "https://mcp.example.com/sse"}},
		}
		delete(spec, drop)
		return mkDoc(v1alpha1, "API", named("mcp"), spec)
	}
	tests := []parseCase{
		{name: "Component/type", doc: without("Component", "type"), wantPaths: []string{"spec.type"}, wantMsg: `"spec.type" is required`},
		{name: "Component/lifecycle", doc: without("Component", "lifecycle"), wantPaths: []string{"spec.lifecycle"}},
		{name: "Component/owner", doc: without("Component", "owner"), wantPaths: []string{"spec.owner"}},
		{name: "API/type", doc: without("API", "type"), wantPaths: []string{"spec.type"}},
		{name: "API/lifecycle", doc: without("API", "lifecycle"), wantPaths: []string{"spec.lifecycle"}},
		{name: "API/owner", doc: without("API", "owner"), wantPaths: []string{"spec.owner"}},
		{name: "API/definition", doc: without("API", "definition"), wantPaths: []string{"spec.definition"}},
		{name: "APIMCPServer/lifecycle", doc: mcp("lifecycle"), wantPaths: []string{"spec.lifecycle"}},
		{name: "APIMCPServer/owner", doc: mcp("owner"), wantPaths: []string{"spec.owner"}},
		{name: "APIMCPServer/remotes", doc: mcp("remotes"), wantPaths: []string{"spec.remotes"}, wantMsg: "mcp-server"},
		{name: "APIMCPServer/type", doc: mcp("type"), wantPaths: []string{"spec.definition", "spec.type"}},
		{name: "Resource/type", doc: without("Resource", "type"), wantPaths: []string{"spec.type"}},
		{name: "Resource/owner", doc: without("Resource", "owner"), wantPaths: []string{"spec.owner"}},
		{name: "System/owner", doc: without("System", "owner"), wantPaths: []string{"spec.owner"}},
		{name: "Domain/owner", doc: without("Domain", "owner"), wantPaths: []string{"spec.owner"}},
		{name: "Group/type", doc: without("Group", "type"), wantPaths: []string{"spec.type"}},
		{name: "Group/children", doc: without("Group", "children"), wantPaths: []string{"spec.children"}},
		{name: "User/memberOf", doc: without("User", "memberOf"), wantPaths: []string{"spec.memberOf"}},
		{name: "Template/type", doc: without("Template", "type"), wantPaths: []string{"spec.type"}},
		{name: "Template/steps", doc: without("Template", "steps"), wantPaths: []string{"spec.steps"}},
	}
	for _, kind := range []string{"Component", "API", "Resource", "System", "Domain", "Group", "User", "Location", "Template"} {
		d := validDoc(kind)
		delete(d, "spec")
		tests = append(tests, parseCase{name: kind + "/spec", doc: d, wantPaths: []string{"spec"}, wantMsg: "is required for kind " + kind})
		nullSpec := validDoc(kind)
		nullSpec["spec"] = nil
		tests = append(tests, parseCase{name: kind + "/nullSpec", doc: nullSpec, wantPaths: []string{"spec"}})
	}
	runParseCases(t, tests)
}

func TestParse_SpecFieldFormats(t *testing.T) {
	with := func(kind string, kv ...any) map[string]any {
		d := validDoc(kind)
		spec := d["spec"].(map[string]any)
		for i := 0; i+1 < len(kv); i += 2 {
			spec[kv[i].(string)] = kv[i+1]
		}
		return d
	}
	mcp := func(remotes any) map[string]any {
		return mkDoc(v1alpha1, "API", named("mcp"), map[string]any{"type": "mcp-server", "lifecycle": "experimental", "owner": "backstage", "remotes": remotes})
	}
	tests := []parseCase{
		{name: "SpecNotObject", doc: mkDoc(v1alpha1, "Component", named("x"), "service"), wantPaths: []string{"spec"}},
		{name: "SpecList", doc: mkDoc(v1alpha1, "System", named("x"), []any{"owner"}), wantPaths: []string{"spec"}},
		{name: "EmptyType", doc: with("Component", "type", ""), wantPaths: []string{"spec.type"}},
		{name: "OwnerNotString", doc: with("Component", "owner", int64(7)), wantPaths: []string{"spec.owner"}},
		{name: "LifecycleList", doc: with("Component", "lifecycle", []any{"production"}), wantPaths: []string{"spec.lifecycle"}},
		{name: "ProvidesAPIsString", doc: with("Component", "providesApis", "artist-api"), wantPaths: []string{"spec.providesApis"}},
		{name: "ProvidesAPIsEmptyItem", doc: with("Component", "providesApis", []any{"artist-api", ""}), wantPaths: []string{"spec.providesApis.1"}},
		{name: "ConsumesAPIsNumberItem", doc: with("Component", "consumesApis", []any{int64(1)}), wantPaths: []string{"spec.consumesApis.0"}},
		{name: "DefinitionNotString", doc: with("API", "definition", map[string]any{"openapi": "3.0.0"}), wantPaths: []string{"spec.definition"}},
		{name: "DefinitionEmpty", doc: with("API", "definition", ""), wantPaths: []string{"spec.definition"}},
		{name: "MCPEmptyRemotes", doc: mcp([]any{}), wantPaths: []string{"spec.remotes"}},
		{name: "MCPRemotesNotList", doc: mcp(map[string]any{"type": "sse", "url": "https://x"}), wantPaths: []string{"spec.remotes"}},
		{name: "MCPRemoteNotObject", doc: mcp([]any{"https://x"}), wantPaths: []string{"spec.remotes.0"}},
		{name: "MCPRemoteMissingURL", doc: mcp([]any{map[string]any{"type": "sse", "url": "https://x"}, map[string]any{"type": "stdio"}}), wantPaths: []string{"spec.remotes.1.url"}},
		{name: "MCPRemoteEmptyType", doc: mcp([]any{map[string]any{"type": "", "url": "https://x"}}), wantPaths: []string{"spec.remotes.0.type"}},
		{name: "GroupChildrenString", doc: with("Group", "children", "team-b"), wantPaths: []string{"spec.children"}},
		{name: "GroupProfileNotObject", doc: with("Group", "profile", "Team A"), wantPaths: []string{"spec.profile"}},
		{name: "GroupProfileEmptyEmail", doc: with("Group", "profile", map[string]any{"email": ""}), wantPaths: []string{"spec.profile.email"}},
		{name: "UserProfilePictureNumber", doc: with("User", "profile", map[string]any{"picture": int64(1)}), wantPaths: []string{"spec.profile.picture"}},
		{name: "UserMemberOfString", doc: with("User", "memberOf", "team-a"), wantPaths: []string{"spec.memberOf"}},
		{name: "LocationBadPresence", doc: with("Location", "presence", "sometimes"), wantPaths: []string{"spec.presence"}, wantMsg: "required, optional"},
		{name: "LocationTargetsNotList", doc: with("Location", "targets", "./a.yaml"), wantPaths: []string{"spec.targets"}},
		{name: "TemplateStepsObject", doc: with("Template", "steps", map[string]any{"id": "fetch"}), wantPaths: []string{"spec.steps"}},
		{name: "TemplateParametersString", doc: with("Template", "parameters", "name"), wantPaths: []string{"spec.parameters"}},
		{name: "TemplateOutputList", doc: with("Template", "output", []any{}), wantPaths: []string{"spec.output"}},
		{name: "TemplateWrongAPIVersion", doc: mkDoc(v1alpha1, "Template", named("t"), validSpecs()["Template"]), wantPaths: []string{"apiVersion"}, wantMsg: scaffolder},
		{name: "ComponentScaffolderAPIVersion", doc: mkDoc(scaffolder, "Component", named("c"), validSpecs()["Component"]), wantPaths: []string{"apiVersion"}},
		{name: "ComponentUnknownAPIVersion", doc: mkDoc("backstage.io/v2", "Component", named("c"), validSpecs()["Component"]), wantPaths: []string{"apiVersion"}},
		{name: "Several", doc: mkDoc(v1alpha1, "Component", named("x"), map[string]any{"type": "", "providesApis": "a"}), wantPaths: []string{"spec.lifecycle", "spec.owner", "spec.providesApis", "spec.type"}},
	}
	runParseCases(t, tests)
}

func TestParse_RootKeys(t *testing.T) {
	with := func(kv ...any) map[string]any {
		d := validDoc("Component")
		for i := 0; i+1 < len(kv); i += 2 {
			d[kv[i].(string)] = kv[i+1]
		}
		return d
	}
	relations := []any{map[string]any{"type": "ownedBy", "targetRef": "group:default/team-a"}}
	status := map[string]any{"items": []any{}}
	runParseCases(t, []parseCase{
		{name: "Relations", doc: with("relations", relations), wantPaths: []string{"relations"}, wantMsg: "Unknown field relations"},
		{name: "Status", doc: with("status", status), wantPaths: []string{"status"}, wantMsg: "Unknown field status"},
		{name: "Both", doc: with("relations", relations, "status", status), wantPaths: []string{"relations", "status"}},
		{name: "Other", doc: with("extra", "x"), wantPaths: []string{"extra"}, wantMsg: "Unknown field extra"},
		{name: "EmptyRelations", doc: with("relations", []any{}), wantPaths: []string{"relations"}},
	})
}

// TestParse_KindCase checks that kinds are case-sensitive: a built-in kind
// spelled in another case is reported, but the entity still has a name.
func TestParse_KindCase(t *testing.T) {
	spec := validSpecs()
	runParseCases(t, []parseCase{
		{name: "component", doc: mkDoc(v1alpha1, "component", named("x"), spec["Component"]), wantPaths: []string{"kind"}, wantMsg: `"Component" (kinds are case-sensitive)`},
		{name: "COMPONENT", doc: mkDoc(v1alpha1, "COMPONENT", named("x"), spec["Component"]), wantPaths: []string{"kind"}, wantMsg: `"Component"`},
		{name: "Api", doc: mkDoc(v1alpha1, "Api", named("x"), spec["API"]), wantPaths: []string{"kind"}, wantMsg: `"API"`},
		{name: "template", doc: mkDoc(scaffolder, "template", named("x"), spec["Template"]), wantPaths: []string{"kind"}, wantMsg: `"Template"`},
	})
	e, _ := catalog.Parse(mkDoc(v1alpha1, "component", named("X"), validSpecs()["Component"]))
	if e == nil || e.Kind != "component" || e.Metadata.Name != "X" {
		t.Fatalf("Parse entity = %+v; want kind %q and name %q kept as written", e, "component", "X")
	}
	if catalog.IsKnownKind("component") || !catalog.IsKnownKind("Component") {
		t.Errorf("IsKnownKind(component), IsKnownKind(Component) = %t, %t; want false, true",
			catalog.IsKnownKind("component"), catalog.IsKnownKind("Component"))
	}
}

func TestParse_UnknownKind(t *testing.T) {
	doc := mkDoc(v1alpha1, "AiResource", named("code-review-rule"), map[string]any{
		"type": "rule", "owner": "team-a", "content": map[string]any{"$text": "./rule.md"},
	})
	e := mustParse(t, doc)
	if e.Kind != "AiResource" {
		t.Errorf("Kind = %q; want %q", e.Kind, "AiResource")
	}
	if diff := cmp.Diff(doc["spec"], any(e.Spec)); diff != "" {
		t.Errorf("Spec mismatch (-want +got):\n%s", diff)
	}
	if catalog.IsKnownKind("AiResource") {
		t.Error("IsKnownKind(AiResource) = true; want false")
	}
}

func TestParse_SortsLists(t *testing.T) {
	tests := []struct {
		name string
		kind string
		spec map[string]any
		want map[string]any // the spec after Parse
	}{
		{
			name: "Component",
			kind: "Component",
			spec: map[string]any{
				"type": "service", "lifecycle": "production", "owner": "team-a",
				"providesApis": []any{"c-api", "a-api", "b-api"},
				"consumesApis": []any{"z-api", "API:default/A-api"},
				"dependsOn":    []any{"resource:z-db", "component:b", "resource:a-db"},
				"dependencyOf": []any{"component:y", "component:x"},
				"tags":         []any{"b", "a"},
			},
			want: map[string]any{
				"type": "service", "lifecycle": "production", "owner": "team-a",
				"providesApis": []any{"a-api", "b-api", "c-api"},
				"consumesApis": []any{"API:default/A-api", "z-api"},
				"dependsOn":    []any{"component:b", "resource:a-db", "resource:z-db"},
				"dependencyOf": []any{"component:x", "component:y"},
				"tags":         []any{"b", "a"},
			},
		},
		{
			name: "Resource",
			kind: "Resource",
			spec: map[string]any{"type": "database", "owner": "team-a", "dependsOn": []any{"resource:b", "resource:a"}, "dependencyOf": []any{"component:b", "component:a"}},
			want: map[string]any{"type": "database", "owner": "team-a", "dependsOn": []any{"resource:a", "resource:b"}, "dependencyOf": []any{"component:a", "component:b"}},
		},
		{
			name: "Group",
			kind: "Group",
			spec: map[string]any{"type": "team", "children": []any{"team-c", "team-b"}, "members": []any{"zoe", "adam", "Bob"}},
			want: map[string]any{"type": "team", "children": []any{"team-b", "team-c"}, "members": []any{"Bob", "adam", "zoe"}},
		},
		{
			name: "User",
			kind: "User",
			spec: map[string]any{"memberOf": []any{"team-b", "group:default/team-a", "team-a"}},
			want: map[string]any{"memberOf": []any{"group:default/team-a", "team-a", "team-b"}},
		},
		{
			name: "LocationTargetsKeepOrder",
			kind: "Location",
			spec: map[string]any{"targets": []any{"./b.yaml", "./a.yaml"}},
			want: map[string]any{"targets": []any{"./b.yaml", "./a.yaml"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustParse(t, mkDoc(v1alpha1, tt.kind, named("x"), tt.spec))
			if diff := cmp.Diff(tt.want, e.Spec); diff != "" {
				t.Errorf("Spec mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParse_SortsListsAfterBadList checks that a list that is not all
// strings is left as written and does not stop the other lists from being
// sorted.
func TestParse_SortsListsAfterBadList(t *testing.T) {
	spec := map[string]any{
		"type": "service", "lifecycle": "production", "owner": "team-a",
		"providesApis": []any{"b-api", int64(1), "a-api"},
		"consumesApis": []any{"d-api", "c-api"},
		"dependsOn":    []any{"resource:b", "resource:a"},
	}
	e, problems := catalog.Parse(mkDoc(v1alpha1, "Component", named("x"), spec))
	if e == nil {
		t.Fatalf("Parse entity = nil; want an entity (problems %+v)", problems)
	}
	if diff := cmp.Diff([]string{"spec.providesApis.1"}, problemPaths(problems)); diff != "" {
		t.Errorf("problem paths mismatch (-want +got):\n%s", diff)
	}
	want := map[string]any{
		"type": "service", "lifecycle": "production", "owner": "team-a",
		"providesApis": []any{"b-api", int64(1), "a-api"},
		"consumesApis": []any{"c-api", "d-api"},
		"dependsOn":    []any{"resource:a", "resource:b"},
	}
	if diff := cmp.Diff(want, e.Spec); diff != "" {
		t.Errorf("Spec mismatch (-want +got):\n%s", diff)
	}
}

func TestParse_MetadataProblems(t *testing.T) {
	withMeta := func(kv ...any) map[string]any {
		md := named("artist-web")
		for i := 0; i+1 < len(kv); i += 2 {
			md[kv[i].(string)] = kv[i+1]
		}
		return mkDoc(v1alpha1, "System", md, map[string]any{"owner": "team-a"})
	}
	link := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	runParseCases(t, []parseCase{
		// Labels: key and value formats; values must be strings.
		{name: "LabelKeyTwoSlashes", doc: withMeta("labels", map[string]any{"a/b/c": "x"}), wantPaths: []string{"metadata.labels.a/b/c"}},
		{name: "LabelKeyUppercasePrefix", doc: withMeta("labels", map[string]any{"Example.com/tier": "x"}), wantPaths: []string{"metadata.labels.Example.com/tier"}},
		{name: "LabelKeyEmptyName", doc: withMeta("labels", map[string]any{"example.com/": "x"}), wantPaths: []string{"metadata.labels.example.com/"}},
		{name: "LabelValueBad", doc: withMeta("labels", map[string]any{"tier": "-front"}), wantPaths: []string{"metadata.labels.tier"}, wantMsg: `found "-front"`},
		{name: "LabelValueTooLong", doc: withMeta("labels", map[string]any{"tier": strings.Repeat("v", 64)}), wantPaths: []string{"metadata.labels.tier"}},
		{name: "LabelValueWithSpace", doc: withMeta("labels", map[string]any{"product": "Random value Generator"}), wantPaths: []string{"metadata.labels.product"}},
		{name: "LabelValueNumber", doc: withMeta("labels", map[string]any{"tier": int64(1)}), wantPaths: []string{"metadata.labels.tier"}},
		{name: "LabelKeyAndValueBad", doc: withMeta("labels", map[string]any{"-k": "-v"}), wantPaths: []string{"metadata.labels.-k", "metadata.labels.-k"}},
		{name: "LabelsNotObject", doc: withMeta("labels", []any{"tier"}), wantPaths: []string{"metadata.labels"}},
		// Annotations: key format; any string value.
		{name: "AnnotationKeyBad", doc: withMeta("annotations", map[string]any{"Backstage.io/x": "v"}), wantPaths: []string{"metadata.annotations.Backstage.io/x"}},
		{name: "AnnotationKeyTwoSlashes", doc: withMeta("annotations", map[string]any{"backstage.io/a/b": "v"}), wantPaths: []string{"metadata.annotations.backstage.io/a/b"}},
		{name: "AnnotationValueBool", doc: withMeta("annotations", map[string]any{"example.com/flag": true}), wantPaths: []string{"metadata.annotations.example.com/flag"}},
		{name: "AnnotationValueNull", doc: withMeta("annotations", map[string]any{"example.com/none": nil}), wantPaths: []string{"metadata.annotations.example.com/none"}},
		{name: "AnnotationsNotObject", doc: withMeta("annotations", "x"), wantPaths: []string{"metadata.annotations"}},
		// Tags: the tag rule, at the index the tag has in the document.
		{name: "TagUppercase", doc: withMeta("tags", []any{"java", "Java"}), wantPaths: []string{"metadata.tags.1"}, wantMsg: `"metadata.tags.1" is not valid`},
		{name: "TagDoubleDash", doc: withMeta("tags", []any{"a--b"}), wantPaths: []string{"metadata.tags.0"}},
		{name: "TagEmpty", doc: withMeta("tags", []any{"ok", ""}), wantPaths: []string{"metadata.tags.1"}},
		{name: "TagTooLong", doc: withMeta("tags", []any{strings.Repeat("t", 64)}), wantPaths: []string{"metadata.tags.0"}},
		{name: "TagNumber", doc: withMeta("tags", []any{int64(1), "ok"}), wantPaths: []string{"metadata.tags.0"}},
		{name: "TagAfterNonString", doc: withMeta("tags", []any{int64(1), "Bad", "ok", "Bad_2"}), wantPaths: []string{"metadata.tags.0", "metadata.tags.1", "metadata.tags.3"}},
		{name: "TagsNotList", doc: withMeta("tags", "java"), wantPaths: []string{"metadata.tags"}},
		// Links: url required and absolute; title, icon, type non-blank.
		{name: "LinkBadURL", doc: withMeta("links", []any{link("url", "not a url")}), wantPaths: []string{"metadata.links.0.url"}},
		{name: "LinkRelativeURL", doc: withMeta("links", []any{link("url", "https://ok.example.com"), link("url", "/docs")}), wantPaths: []string{"metadata.links.1.url"}},
		{name: "LinkMissingURL", doc: withMeta("links", []any{link("title", "Docs")}), wantPaths: []string{"metadata.links.0.url"}},
		{name: "LinkURLNumber", doc: withMeta("links", []any{link("url", int64(5))}), wantPaths: []string{"metadata.links.0.url"}},
		{name: "LinkBlankTitle", doc: withMeta("links", []any{link("url", "https://x.example.com", "title", "  ")}), wantPaths: []string{"metadata.links.0.title"}},
		{name: "LinkEmptyIcon", doc: withMeta("links", []any{link("url", "https://x.example.com", "icon", "")}), wantPaths: []string{"metadata.links.0.icon"}},
		{name: "LinkEmptyType", doc: withMeta("links", []any{link("url", "https://x.example.com", "type", "")}), wantPaths: []string{"metadata.links.0.type"}},
		{name: "LinkNotObject", doc: withMeta("links", []any{"https://x.example.com"}), wantPaths: []string{"metadata.links.0"}},
		{name: "LinkAfterNonObject", doc: withMeta("links", []any{"https://x.example.com", link("url", "bad")}), wantPaths: []string{"metadata.links.0", "metadata.links.1.url"}},
		{name: "LinksNotList", doc: withMeta("links", link("url", "https://x.example.com")), wantPaths: []string{"metadata.links"}},
		// Other metadata fields.
		{name: "TitleEmpty", doc: withMeta("title", ""), wantPaths: []string{"metadata.title"}},
		{name: "TitleNumber", doc: withMeta("title", int64(1)), wantPaths: []string{"metadata.title"}},
		{name: "DescriptionNumber", doc: withMeta("description", 1.5), wantPaths: []string{"metadata.description"}},
		{name: "UIDNotString", doc: withMeta("uid", int64(1)), wantPaths: []string{"metadata.uid"}},
		// Problems in several places at once.
		{name: "Several", doc: withMeta("tags", []any{"OK"}, "labels", map[string]any{"a": "_"}, "links", []any{link("url", "x")}), wantPaths: []string{"metadata.labels.a", "metadata.links.0.url", "metadata.tags.0"}},
	})
}

// TestParse_MetadataValid checks values that look odd but are valid.
func TestParse_MetadataValid(t *testing.T) {
	md := map[string]any{
		"name":        "x",
		"title":       "   ", // minLength 1 only: blank is fine
		"description": "",
		"labels":      map[string]any{"empty": "", "backstage.io/Mixed_Case.name": "Value_1.2-x"},
		"annotations": map[string]any{"example.com/any": "Any string at all, even / and : and spaces", "empty": ""},
		"tags":        []any{"c++", "c#", "lang:go", "a-b-c", "123"},
		"links": []any{
			map[string]any{"url": "https://x.example.com"},
			map[string]any{"url": "mailto:team@example.com", "title": "Mail"},
			map[string]any{"url": "slack:#team-channel", "icon": "chat", "type": "chat"},
		},
	}
	mustParse(t, mkDoc(v1alpha1, "System", md, map[string]any{"owner": "team-a"}))
}

// TestParse_RelationProblems checks that references Parse cannot resolve are
// reported at the index they have in the document, before sorting.
func TestParse_RelationProblems(t *testing.T) {
	comp := func(kv ...any) map[string]any {
		spec := map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"}
		for i := 0; i+1 < len(kv); i += 2 {
			spec[kv[i].(string)] = kv[i+1]
		}
		return mkDoc(v1alpha1, "Component", named("x"), spec)
	}
	runParseCases(t, []parseCase{
		{name: "DependsOnWithoutKind", doc: comp("dependsOn", []any{"artists-db"}), wantPaths: []string{"spec.dependsOn.0"}, wantMsg: "had missing or empty kind"},
		{name: "DependencyOfWithoutKind", doc: comp("dependencyOf", []any{"artist-web"}), wantPaths: []string{"spec.dependencyOf.0"}},
		{name: "IndexBeforeSorting", doc: comp("dependsOn", []any{"resource:b", "artists-db"}), wantPaths: []string{"spec.dependsOn.1"}},
		{name: "IndexAfterEmptyItem", doc: comp("dependsOn", []any{"", "artists-db"}), wantPaths: []string{"spec.dependsOn.0", "spec.dependsOn.1"}},
		{name: "BadOwner", doc: comp("owner", "group:"), wantPaths: []string{"spec.owner"}, wantMsg: "was not on the form"},
		{name: "BadSystem", doc: comp("system", ":x"), wantPaths: []string{"spec.system"}},
	})
}

// TestParse_UnstorableText checks that a document with a NUL character or
// invalid UTF-8 in any string or key is refused whole, each bad string
// named by its path, and at most ten of them.
func TestParse_UnstorableText(t *testing.T) {
	with := func(edit func(d map[string]any)) map[string]any {
		d := validDoc("Component")
		edit(d)
		return d
	}
	many := map[string]any{}
	for i := range 50 {
		many[fmt.Sprintf("k%02d", i)] = "a\x00"
	}
	tests := []struct {
		name      string
		doc       map[string]any
		wantPaths []string
		wantMsg   string
	}{
		{"Description", with(func(d map[string]any) { d["metadata"].(map[string]any)["description"] = "a\x00b" }),
			[]string{"metadata.description"}, `The value at "metadata.description" holds a NUL character`},
		{"Deep", with(func(d map[string]any) {
			d["spec"].(map[string]any)["x"] = []any{"ok", map[string]any{"y": []any{"\x00"}}}
		}),
			[]string{"spec.x.1.y.0"}, `"spec.x.1.y.0" holds a NUL`},
		{"Key", with(func(d map[string]any) { d["spec"].(map[string]any)["a\x00b"] = 1 }),
			[]string{"spec.a\x00b"}, `The key at "spec.a\x00b" holds a NUL`},
		{"InvalidUTF8", with(func(d map[string]any) { d["metadata"].(map[string]any)["title"] = "caf\xe9" }),
			[]string{"metadata.title"}, `"metadata.title" is not valid UTF-8`},
		{"Name", with(func(d map[string]any) { d["metadata"].(map[string]any)["name"] = "a\x00" }),
			[]string{"metadata.name"}, `"metadata.name" holds a NUL`},
		{"AtMostTen", with(func(d map[string]any) { d["spec"].(map[string]any)["many"] = many }),
			[]string{"spec.many.k00", "spec.many.k01", "spec.many.k02", "spec.many.k03", "spec.many.k04",
				"spec.many.k05", "spec.many.k06", "spec.many.k07", "spec.many.k08", "spec.many.k09"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, problems := catalog.Parse(tt.doc)
			if e != nil {
				t.Errorf("Parse entity = %v; want nil", e.Ref())
			}
			if diff := cmp.Diff(tt.wantPaths, problemPaths(problems)); diff != "" {
				t.Errorf("problem paths mismatch (-want +got):\n%s", diff)
			}
			for _, p := range problems {
				if !catalog.IsStorableText(p.Message) {
					t.Errorf("message %q is not storable itself", p.Message)
				}
			}
			if tt.wantMsg != "" && (len(problems) == 0 || !strings.Contains(problems[0].Message, tt.wantMsg)) {
				t.Errorf("problems %+v; want a message containing %q", problems, tt.wantMsg)
			}
		})
	}
}
