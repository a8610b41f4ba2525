package ingest_test

import (
	"testing"

	"github.com/greenroomhq/greenroom/internal/ingest"
)

func TestRules_Allows(t *testing.T) {
	defaults, err := ingest.NewRules(nil)
	if err != nil {
		t.Fatal(err)
	}
	configured, err := ingest.NewRules([]ingest.Rule{
		{Allow: []string{"Component", "Location"}},
		{Allow: []string{"user", "GROUP"}, Locations: []ingest.RuleLocation{
			{Type: ingest.TypeFile, Target: "/srv/org/users.yaml"},
			{Type: ingest.TypeURL, Pattern: "https://git.example.com/org/*.yaml"},
		}},
		{Allow: []string{"Template"}, Locations: []ingest.RuleLocation{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		rules      *ingest.Rules
		configured bool
		typ, from  string
		kind       string
		want       bool
	}{
		{"DefaultConfiguredGroup", defaults, true, "file", "/srv/teams/a.yaml", "Group", true},
		{"DefaultRegisteredGroup", defaults, false, "url", "https://git.example.com/a.yaml", "Group", false},
		{"DefaultRegisteredUserLowerCase", defaults, false, "url", "https://git.example.com/a.yaml", "user", false},
		{"DefaultRegisteredTemplate", defaults, false, "url", "https://git.example.com/a.yaml", "template", true},
		{"DefaultRegisteredUnknownKind", defaults, false, "url", "https://git.example.com/a.yaml", "AiResource", false},
		{"RuleWithoutLocations", configured, false, "url", "https://elsewhere.example/a.yaml", "component", true},
		{"RuleTargetMatches", configured, true, "file", "/srv/org/../org/users.yaml", "User", true},
		{"RuleTargetOtherFile", configured, true, "file", "/srv/teams/users.yaml", "User", false},
		{"RulePatternMatches", configured, false, "url", "https://git.example.com/org/people.yaml", "Group", true},
		{"RulePatternStopsAtSlash", configured, false, "url", "https://git.example.com/org/sub/people.yaml", "Group", false},
		{"RulePatternEscapedSlash", configured, false, "url", "https://git.example.com/org/..%2Fteam%2Fx.yaml", "Group", false},
		{"RulePatternDotSegment", configured, false, "url", "https://git.example.com/org/../org/people.yaml", "Group", false},
		{"RulePatternWrongType", configured, true, "file", "https://git.example.com/org/people.yaml", "Group", false},
		{"EmptyLocationsMatchNothing", configured, true, "file", "/srv/org/users.yaml", "Template", false},
		{"ConfiguredGainsNothingOverRules", configured, true, "file", "/srv/teams/a.yaml", "System", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rules.Allows(tt.configured, tt.typ, tt.from, tt.kind); got != tt.want {
				t.Errorf("Allows = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestCheckLocationURL(t *testing.T) {
	for target, ok := range map[string]bool{
		"https://git.example.com/org/catalog-info.yaml?ref=main":       true,
		"https://git.example.com/org/catalog-info.yaml#L10":            true,
		"ftp://git.example.com/a.yaml":                                 false,
		"https://git.example.com/a.yaml?Signature=abc&Expires=1":       false,
		"https://git.example.com/a.yaml?se=2030&sig=abc":               false,
		"https://git.example.com/a.yaml#id_token=abc&state=x":          false,
		"https://git.example.com/a.yaml?x=1;auth=abc":                  false,
		"https://git.example.com/a.yaml?%74oken=abc":                   false,
		"https://git.example.com/a.yaml?X-Goog-Credential=abc&x=1":     false,
		"https://user@git.example.com/a.yaml":                          false,
		"https://git.example.com/a.yaml?private-token=abc&ref=main&a=": false,
	} {
		if _, err := ingest.CheckLocationURL(target); (err == nil) != ok {
			t.Errorf("%s: error %v; want ok=%v", target, err, ok)
		}
	}
}
