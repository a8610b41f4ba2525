package scaffolder

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRenderString checks Backstage's rules for one string of a template
// (backstage-spec.md §3.2, §8.1), with its filters.
func TestRenderString(t *testing.T) {
	data := map[string]any{"parameters": map[string]any{
		"tags": []any{"go", "web"}, "count": 3.0, "empty": "", "repoUrl": "github.com?owner=larkspur&repo=tempo",
		"gitlab": "gitlab.com?project=group/sub&repo=x", "owner": "group:platform/Team-A",
	}}
	for _, tc := range []struct {
		in      string
		want    any
		defined bool
	}{
		{"${{ parameters.tags }}", []any{"go", "web"}, true},
		{"${{ parameters.count }}", 3.0, true},
		{" ${{ parameters.count }}", " 3", true}, // surrounding text makes it text
		{`${{ "" }}`, "", true},
		{"${{ parameters.empty }}", "", true},
		{"${{ parameters.missing }}", nil, false},
		{"", nil, false},
		{"123", "123", true},
		{"{% if parameters.count %}false{% endif %}", false, true}, // only tags: JSON
		{"{% if parameters.count %}[1, 2]{% endif %}", []any{1.0, 2.0}, true},
		{"{% if parameters.count %}not json{% endif %}", "not json", true},
		{"${{ parameters.tags | dump }}", `["go","web"]`, true}, // dump stays a string
		{"${{ parameters.repoUrl | projectSlug }}", "larkspur/tempo", true},
		{"${{ (parameters.repoUrl | parseRepoUrl).repo }}", "tempo", true},
		{"${{ parameters.repoUrl | parseRepoUrl }}", map[string]any{"host": "github.com", "owner": "larkspur", "repo": "tempo"}, true},
		{"${{ parameters.gitlab | parseRepoUrl }}", map[string]any{"host": "gitlab.com", "project": "group/sub", "repo": "x"}, true},
		{"${{ parameters.owner | parseEntityRef }}", map[string]any{"kind": "group", "namespace": "platform", "name": "Team-A"}, true},
		{`${{ "tempo" | parseEntityRef({defaultKind: "Component"}) }}`, map[string]any{"kind": "Component", "namespace": "default", "name": "tempo"}, true},
		{`${{ parameters | pick("repoUrl") }}`, "github.com?owner=larkspur&repo=tempo", true},
	} {
		got, defined, err := renderString(tc.in, data)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" || defined != tc.defined {
			t.Errorf("%q: got %#v (defined %v); want %#v (defined %v)", tc.in, got, defined, tc.want, tc.defined)
		}
	}
	for _, bad := range []string{
		"${{ 'example.com?owner=o&repo=r' | parseRepoUrl }}", // no integration for the host
		"${{ 'github.com?repo=r' | parseRepoUrl }}",          // GitHub needs an owner
		"${{ 'bitbucket.org?repo=r&project=p' | parseRepoUrl }}",
		"${{ 'x' | parseEntityRef }}", // no kind and no default
		"${{ parameters.count | nosuchfilter }}",
	} {
		if got, _, err := renderString(bad, data); err == nil {
			t.Errorf("%q rendered %#v; want an error", bad, got)
		}
	}
}
