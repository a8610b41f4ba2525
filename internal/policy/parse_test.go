package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/policy"
)

// MustParse parses a policy written in a test.
func MustParse(tb testing.TB, src string) *policy.Policy {
	tb.Helper()
	pol, err := policy.Parse([]byte(src), "test.yaml")
	if err != nil {
		tb.Fatalf("parse:\n%v", err)
	}
	return pol
}

// problems returns the problems Parse finds in src, formatted.
func problems(tb testing.TB, src string) []string {
	tb.Helper()
	_, err := policy.Parse([]byte(src), "p.yaml")
	if err == nil {
		return nil
	}
	var pe *policy.ParseError
	if !errors.As(err, &pe) {
		tb.Fatalf("error %T %v; want a *policy.ParseError", err, err)
	}
	var out []string
	for _, p := range pe.Problems {
		out = append(out, p.String())
	}
	if got, want := err.Error(), strings.Join(out, "\n"); got != want {
		tb.Errorf("Error() = %q; want the problems one a line, %q", got, want)
	}
	return out
}

const knownPerms = `the permissions are catalog.entity.read, catalog.entity.refresh, catalog.entity.delete, ` +
	`catalog.location.read, catalog.location.create, catalog.location.delete, audit.event.read, ` +
	`jobs.job.read, jobs.job.cancel, scaffolder.template.read, scaffolder.task.create, scaffolder.task.read, scaffolder.task.cancel, ` +
	`scaffolder.task.approve, plugins.plugin.read, plugins.plugin.create, plugins.plugin.delete, ` +
	`wildcards such as "*" and "catalog.entity.*", and plugins' own, named plugin.thing.action in lower case`

func TestParse_Problems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"Empty", ``, []string{"p.yaml: the file is empty; a policy needs a rules list"}},
		{"OnlyComments", "# nothing\n", []string{"p.yaml: the file is empty; a policy needs a rules list"}},
		{"OnlyDocumentMarker", "---\n", []string{"p.yaml: the file has no rules; a policy needs a rules list"}},
		{"Null", "~\n", []string{"p.yaml: the file has no rules; a policy needs a rules list"}},
		{"Syntax", "rules:\n\t- name: a\n", []string{"p.yaml:2: found character that cannot start any token"}},
		{"UnquotedStar", "rules:\n  - name: a\n    allow: [*]\n", []string{"p.yaml:3: did not find expected alphabetic or numeric character"}},
		{"TwoDocuments", "rules:\n  - {name: a, allow: '*', to: anyone}\n---\nrules: []\n", []string{
			"p.yaml:3: a policy file holds one YAML document; this is a second",
		}},
		{"SecondDocumentBroken", "rules:\n  - {name: a, allow: '*', to: anyone}\n---\n[\n", []string{
			"p.yaml:4: did not find expected node content",
		}},
		{"NotAMapping", "- a\n", []string{"p.yaml:1: the policy must be a mapping"}},
		{"NoRules", "version: 1\n", []string{
			`p.yaml:1: the policy: unknown key "version"; the keys are rules`,
			"p.yaml:1: the policy needs a rules list",
		}},
		{"EmptyRules", "rules: []\n", []string{"p.yaml:1: rules must be a list of at least one rule"}},
		{"RuleNotAMapping", "rules:\n  - everyone\n", []string{"p.yaml:2: rule 1 must be a mapping"}},
		{"UnknownKey", "rules:\n  - name: a\n    allow: ['*']\n    to: [anyone]\n    who: [users]\n", []string{
			`p.yaml:5: rule a: unknown key "who"; the keys are name, description, allow, deny, to, when`,
		}},
		{"KeyTwice", "rules:\n  - name: a\n    allow: ['*']\n    to: [anyone]\n    to: [users]\n", []string{
			"p.yaml:5: rule a: to is given twice (first on line 4)",
		}},
		{"NoName", "rules:\n  - allow: ['*']\n    to: [anyone]\n", []string{"p.yaml:2: rule 1 needs a name"}},
		{"BadName", "rules:\n  - name: two words\n    allow: ['*']\n    to: [anyone]\n", []string{
			"p.yaml:2: rule 1: name must be letters, digits, '.', '_' and '-', starting with a letter or digit",
		}},
		{"DuplicateName", "rules:\n  - {name: a, allow: ['*'], to: [anyone]}\n  - {name: b, allow: ['*'], to: [anyone]}\n  - {name: a, deny: ['*'], to: [users]}\n", []string{
			"p.yaml:4: rule a: the name is taken by the rule on line 2",
		}},
		{"BadDescription", "rules:\n  - name: a\n    description: [x]\n    allow: ['*']\n    to: [anyone]\n", []string{
			"p.yaml:3: rule a: description must be a string",
		}},
		{"AllowAndDeny", "rules:\n  - name: a\n    allow: ['*']\n    deny: [catalog.entity.delete]\n    to: [anyone]\n", []string{
			"p.yaml:4: rule a has both allow and deny; a rule does one or the other, so write two rules",
		}},
		{"NeitherAllowNorDeny", "rules:\n  - name: a\n    to: [anyone]\n", []string{"p.yaml:2: rule a needs allow or deny"}},
		{"UnknownPermission", "rules:\n  - name: a\n    allow:\n      - catalog.entity.read\n      - catalog.entity.update\n    to: [anyone]\n", []string{
			`p.yaml:5: rule a: unknown permission "catalog.entity.update"; ` + knownPerms,
		}},
		{"WildcardCoversNothing", "rules:\n  - name: a\n    allow: [catalog.docs.*, catalog.ent*, catalog.entity.read.*]\n    to: [anyone]\n", []string{
			`p.yaml:3: rule a: unknown permission "catalog.docs.*"; ` + knownPerms,
			`p.yaml:3: rule a: unknown permission "catalog.ent*"; ` + knownPerms,
			`p.yaml:3: rule a: unknown permission "catalog.entity.read.*"; ` + knownPerms,
		}},
		// A plugin's permissions are three lower-case parts outside the
		// core's namespaces; they are about no entity.
		{"PluginPermissions", "rules:\n  - name: a\n    allow: [techradar.radar.update, scorecard.*, x.y.*, TechRadar.radar.read, techradar.update, jobs.radar.update, techradar.radar.*.read]\n    to: [anyone]\n    when: {isOwner: true}\n", []string{
			`p.yaml:3: rule a: unknown permission "TechRadar.radar.read"; ` + knownPerms,
			`p.yaml:3: rule a: unknown permission "techradar.update"; ` + knownPerms,
			`p.yaml:3: rule a: unknown permission "jobs.radar.update"; ` + knownPerms,
			`p.yaml:3: rule a: unknown permission "techradar.radar.*.read"; ` + knownPerms,
			"p.yaml:5: rule a: when tests an entity, and none of the rule's permissions is about one",
		}},
		{"PermissionsCaseSensitive", "rules:\n  - name: a\n    deny: [Catalog.Entity.Read]\n    to: [anyone]\n", []string{
			`p.yaml:3: rule a: unknown permission "Catalog.Entity.Read"; ` + knownPerms,
		}},
		{"EmptyAllow", "rules:\n  - name: a\n    allow: []\n    to: [anyone]\n", []string{"p.yaml:3: rule a: allow must list at least one entry"}},
		{"NullDeny", "rules:\n  - name: a\n    deny:\n    to: [anyone]\n", []string{"p.yaml:3: rule a: deny must list at least one entry"}},
		{"AllowNotAList", "rules:\n  - name: a\n    allow: {catalog.entity.read: true}\n    to: [anyone]\n", []string{"p.yaml:3: rule a: allow must be a list"}},
		{"BadListEntry", "rules:\n  - name: a\n    allow:\n      - catalog.entity.read\n      - [catalog.entity.delete]\n      - ''\n    to: [anyone]\n", []string{
			"p.yaml:5: rule a: allow: every entry must be a non-empty string",
			"p.yaml:6: rule a: allow: every entry must be a non-empty string",
		}},
		{"NoTo", "rules:\n  - name: a\n    allow: ['*']\n", []string{"p.yaml:2: rule a needs to, the callers it applies to"}},
		{"EmptyTo", "rules:\n  - name: a\n    allow: ['*']\n    to: []\n", []string{"p.yaml:4: rule a: to must list at least one entry"}},
		{"BadSubjects", "rules:\n  - name: a\n    allow: ['*']\n    to:\n      - everyone\n      - 'user:'\n      - group:default/\n      - component:default/x\n      - service:ci/deploy\n      - 'service:'\n      - user:ns/\n", []string{
			`p.yaml:5: rule a: unknown subject "everyone"; write anyone, users, services, anonymous, user:<namespace>/<name>, group:<namespace>/<name> or service:<name>`,
			`p.yaml:6: rule a: bad subject "user:": entity reference "user:" was not on the form [<kind>:][<namespace>/]<name>`,
			`p.yaml:7: rule a: bad subject "group:default/": entity reference "group:default/" was not on the form [<kind>:][<namespace>/]<name>`,
			`p.yaml:8: rule a: bad subject "component:default/x": the kinds of subject are user, group and service`,
			`p.yaml:9: rule a: bad subject "service:ci/deploy": a service is named service:<name>, without a namespace or spaces`,
			`p.yaml:10: rule a: bad subject "service:": a service is named service:<name>, without a namespace or spaces`,
			`p.yaml:11: rule a: bad subject "user:ns/": entity reference "user:ns/" was not on the form [<kind>:][<namespace>/]<name>`,
		}},
		{"WhenOnLocationRule", "rules:\n  - name: a\n    allow: [catalog.location.read, catalog.location.create]\n    to: [users]\n    when: {isOwner: true}\n", []string{
			"p.yaml:5: rule a: when tests an entity, and none of the rule's permissions is about one",
		}},
		{"WhenOnLocationWildcard", "rules:\n  - name: a\n    deny: [catalog.location.*]\n    to: [users]\n    when:\n      kind: [Component]\n", []string{
			"p.yaml:5: rule a: when tests an entity, and none of the rule's permissions is about one",
		}},
		{"WhenOnJobRule", "rules:\n  - name: a\n    allow: [jobs.*]\n    to: [users]\n    when: {isOwner: true}\n", []string{
			"p.yaml:5: rule a: when tests an entity, and none of the rule's permissions is about one",
		}},
		{"EmptyWhen", "rules:\n  - name: a\n    allow: ['*']\n    to: [users]\n    when: {}\n", []string{
			"p.yaml:5: rule a: when has no conditions; leave it out for a rule about every entity",
		}},
		{"WhenNotAMapping", "rules:\n  - name: a\n    allow: ['*']\n    to: [users]\n    when: [isOwner]\n", []string{
			"p.yaml:5: rule a: when must be a mapping",
		}},
		{"BadConditions", "rules:\n  - name: a\n    allow: ['*']\n    to: [users]\n    when:\n      isOwner: yes\n      kind: []\n      namespace: {a: b}\n      labels: {env: '', tier: ~, Env: x, ENV: y}\n      annotations: []\n      lifecycle: [production]\n", []string{
			"p.yaml:6: rule a: when: isOwner must be true",
			"p.yaml:7: rule a: when: kind must list at least one entry",
			"p.yaml:8: rule a: when: namespace must be a list",
			`p.yaml:9: rule a: when: labels: env needs a value; write "*" for any value`,
			`p.yaml:9: rule a: when: labels: tier needs a value; write "*" for any value`,
			"p.yaml:9: rule a: when: labels: ENV is given twice (first on line 9); keys compare without case",
			`p.yaml:10: rule a: when: annotations must map at least one key to a value ("*" for any value)`,
			`p.yaml:11: rule a: when: unknown key "lifecycle"; the keys are isOwner, kind, namespace, labels, annotations`,
		}},
		{"IsOwnerFalse", "rules:\n  - name: a\n    allow: ['*']\n    to: [users]\n    when: {isOwner: false}\n", []string{
			"p.yaml:5: rule a: when: isOwner must be true; to match entities whatever their owner, leave it out",
		}},
		{"EveryProblemAtOnce", "rules:\n  - name: a\n    allow: [catalog.entity.reed]\n    to: [nobody]\n  - name: a\n    deny: []\n    to: [users]\n  - description: no name\n    allow: ['*']\n    to: [anyone]\n", []string{
			`p.yaml:3: rule a: unknown permission "catalog.entity.reed"; ` + knownPerms,
			`p.yaml:4: rule a: unknown subject "nobody"; write anyone, users, services, anonymous, user:<namespace>/<name>, group:<namespace>/<name> or service:<name>`,
			"p.yaml:5: rule a: the name is taken by the rule on line 2",
			"p.yaml:6: rule a: deny must list at least one entry",
			"p.yaml:8: rule 3 needs a name",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, problems(t, tt.src)); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParse_OK(t *testing.T) {
	tests := []struct {
		name string
		src  string
	}{
		{"ScalarsForLists", "rules:\n  - name: a\n    allow: catalog.entity.read\n    to: anyone\n    when: {kind: Component, namespace: default}\n"},
		{"Wildcards", "rules:\n  - name: a.b_c-1\n    allow: ['*', 'catalog.*', 'catalog.entity.*', catalog.location.*]\n    to: [ANYONE, Users, services, anonymous, user:jane, group:default/Admins, Service:Deploy-Bot]\n"},
		{"WhenOnMixedWildcard", "rules:\n  - name: a\n    deny: ['*']\n    to: [users]\n    when: {labels: {env: '*'}, annotations: {a/b: c}}\n"},
		{"Aliases", "rules:\n  - {name: a, allow: [catalog.entity.read], to: &s [users]}\n  - {name: b, deny: [catalog.entity.delete], to: *s}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := policy.Parse([]byte(tt.src), "p.yaml"); err != nil {
				t.Fatalf("parse:\n%v", err)
			}
		})
	}
}

func TestProblem_String(t *testing.T) {
	tests := []struct {
		p    policy.Problem
		want string
	}{
		{policy.Problem{File: "p.yaml", Line: 3, Message: "m"}, "p.yaml:3: m"},
		{policy.Problem{File: "p.yaml", Message: "m"}, "p.yaml: m"},
		{policy.Problem{Line: 3, Message: "m"}, "line 3: m"},
		{policy.Problem{Message: "m"}, "m"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v.String() = %q; want %q", tt.p, got, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		pol, err := policy.Load(filepath.Join("..", "..", "examples", "policy.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := pol.Len(), 4; got != want {
			t.Errorf("Len() = %d; want %d", got, want)
		}
	})
	t.Run("ErrNotExist", func(t *testing.T) {
		_, err := policy.Load(filepath.Join(t.TempDir(), "policy.yaml"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v; want os.ErrNotExist", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "policy.yaml")
		if err := os.WriteFile(p, []byte("rules: []\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := policy.Load(p)
		if got, want := err.Error(), p+":1: rules must be a list of at least one rule"; got != want {
			t.Errorf("err = %q; want %q", got, want)
		}
	})
}
