package catalog_test

import (
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// ruleCase is one input of a boolean field rule and the verdict Backstage's
// validators give it (backstage-spec.md §1.3).
type ruleCase struct {
	in   string
	want bool
}

func runRule(t *testing.T, name string, rule func(string) bool, tests []ruleCase) {
	t.Helper()
	for _, tt := range tests {
		label := tt.in
		if len(label) > 40 {
			label = label[:20] + "…" + label[len(label)-10:]
		}
		t.Run(label, func(t *testing.T) {
			if got := rule(tt.in); got != tt.want {
				t.Errorf("%s(%q) = %t; want %t", name, tt.in, got, tt.want)
			}
		})
	}
}

func TestIsValidObjectName(t *testing.T) {
	runRule(t, "IsValidObjectName", catalog.IsValidObjectName, []ruleCase{
		{"a", true},
		{"7", true},
		{"artist-web", true},
		{"Artist-Web", true},
		{"ARTIST", true},
		{"artist_web", true},
		{"artist.web", true},
		{"a-_.b", true},
		{"a--b", true},
		{"a..b", true},
		{"v1.2.3", true},
		{"123", true},
		{strings.Repeat("a", 63), true},
		{"a" + strings.Repeat("-", 61) + "b", true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"-a", false},
		{"a-", false},
		{"_a", false},
		{"a_", false},
		{".a", false},
		{"a.", false},
		{"-", false},
		{"a b", false},
		{"a/b", false},
		{"a:b", false},
		{"a@b", false},
		{"john@example.com", false},
		{"ärzte", false},
		{"a\n", false},
	})
}

func TestIsValidNamespace(t *testing.T) {
	runRule(t, "IsValidNamespace", catalog.IsValidNamespace, []ruleCase{
		{"default", true},
		{"a", true},
		{"0", true},
		{"team-a", true},
		{"team--a", true},
		{"a---b", true},
		{"123", true},
		{strings.Repeat("n", 63), true},
		{strings.Repeat("n", 64), false},
		{"", false},
		{"Default", false},
		{"TEAM", false},
		{"team_a", false},
		{"team.a", false},
		{"-team", false},
		{"team-", false},
		{"team a", false},
		{"team/a", false},
	})
}

func TestIsValidKind(t *testing.T) {
	runRule(t, "IsValidKind", catalog.IsValidKind, []ruleCase{
		{"Component", true},
		{"component", true},
		{"API", true},
		{"AiResource", true},
		{"X", true},
		{"Kind2", true},
		{"a" + strings.Repeat("B", 62), true},
		{"a" + strings.Repeat("B", 63), false},
		{"", false},
		{"2Kind", false},
		{"My-Kind", false},
		{"My_Kind", false},
		{"My.Kind", false},
		{"My Kind", false},
		{"Kind:", false},
	})
}

func TestIsValidAPIVersion(t *testing.T) {
	runRule(t, "IsValidAPIVersion", catalog.IsValidAPIVersion, []ruleCase{
		{"backstage.io/v1alpha1", true},
		{"backstage.io/v1beta1", true},
		{"scaffolder.backstage.io/v1beta3", true},
		{"v1", true},
		{"V1Alpha1", true},
		{"my-org.example.com/V2", true},
		{"a/" + strings.Repeat("v", 63), true},
		{"a/" + strings.Repeat("v", 64), false},
		{strings.Repeat("v", 64), false},
		{"", false},
		{"v1-beta", false},
		{"backstage.io/v1-beta", false},
		{"backstage.io/v1_beta", false},
		{"backstage.io/v1.0", false},
		{"backstage.io/", false},
		{"/v1", false},
		{"a/b/c", false},
		{"backstage.io/v1/extra", false},
		{"Backstage.io/v1alpha1", false},
		{"backstage_io/v1alpha1", false},
		{"-backstage.io/v1", false},
		{"backstage..io/v1", false},
	})
}

func TestIsValidKey(t *testing.T) {
	label253 := strings.Repeat(strings.Repeat("a", 63)+".", 3) + strings.Repeat("b", 61) // 3*64 + 61 = 253
	label254 := label253 + "c"
	if len(label253) != 253 || len(label254) != 254 {
		t.Fatalf("bad fixture lengths %d, %d", len(label253), len(label254))
	}
	runRule(t, "IsValidKey", catalog.IsValidKey, []ruleCase{
		{"owner", true},
		{"Owner_Name.v1", true},
		{"backstage.io/managed-by-location", true},
		{"backstage.io/Source_Location", true},
		{"example.com/a", true},
		{"a/b", true},
		{label253 + "/key", true},
		{"x/" + strings.Repeat("k", 63), true},
		{label254 + "/key", false},
		{"x/" + strings.Repeat("k", 64), false},
		{strings.Repeat("k", 64), false},
		{"", false},
		{"/key", false},
		{"backstage.io/", false},
		{"a/b/c", false},
		{"backstage.io/x/y", false},
		{"Backstage.io/key", false},
		{"back_stage.io/key", false},
		{"backstage..io/key", false},
		{"backstage.io/-key", false},
		{"backstage.io/key-", false},
		{"-key", false},
		{"key with space", false},
		{"key:colon", false},
	})
}

func TestIsValidLabelValue(t *testing.T) {
	runRule(t, "IsValidLabelValue", catalog.IsValidLabelValue, []ruleCase{
		{"", true},
		{"production", true},
		{"Prod_1.2-x", true},
		{strings.Repeat("v", 63), true},
		{strings.Repeat("v", 64), false},
		{"-prod", false},
		{"prod-", false},
		{"a/b", false},
		{"a b", false},
		{" ", false},
	})
}

func TestIsValidTag(t *testing.T) {
	runRule(t, "IsValidTag", catalog.IsValidTag, []ruleCase{
		{"java", true},
		{"a", true},
		{"c++", true},
		{"c#", true},
		{"#hash", true},
		{"+", true},
		{"lang:go", true},
		{"::", true},
		{"k8s-v1", true},
		{"a-b-c", true},
		{"data:pii-level:2", true},
		{"123", true},
		{strings.Repeat("t", 63), true},
		{strings.Repeat("t", 64), false},
		{"", false},
		{"Java", false},
		{"JAVA", false},
		{"a--b", false},
		{"-a", false},
		{"a-", false},
		{"-", false},
		{"a_b", false},
		{"a.b", false},
		{"a b", false},
		{"a/b", false},
		{"a@b", false},
	})
}

func TestIsValidURL(t *testing.T) {
	runRule(t, "IsValidURL", catalog.IsValidURL, []ruleCase{
		{"https://backstage.io", true},
		{"https://backstage.io/docs?x=1#y", true},
		{"http://localhost:3000/catalog", true},
		{"http://127.0.0.1", true},
		{"mailto:team@example.com", true},
		{"slack:#team-channel", true},
		{"file:///etc/hosts", true},
		{"urn:isbn:0451450523", true},
		{"javascript:alert(1)", true},
		{"foo:", true},
		{"file:", true},
		{"HTTPS://EXAMPLE.COM", true},
		{"git+ssh://git@github.com/org/repo", true},
		{"http:example.com", true},
		{"http:/example.com", true},
		{" https://example.com ", true},
		{"https://exam\tple.com", true},
		{"https://example.com/a b", true},
		{"1http://example.com", false},
		{"https://", false},
		{"http:", false},
		{"http:///", false},
		{"ws://", false},
		{"", false},
		{"backstage.io", false},
		{"www.example.com/path", false},
		{"/docs/index.html", false},
		{"./relative", false},
		{"#fragment", false},
		{"?query", false},
		{"://missing-scheme", false},
		{"http://", false},
		{"http://exa mple.com", false},
		{"not a url", false},
	})
}
