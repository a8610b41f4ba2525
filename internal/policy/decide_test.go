package policy_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// The callers the decision tests ask for. jane is in team-a, a subgroup of
// eng, so her ownership refs list both, as the auth layer resolves them.
var (
	jane = &portal.Principal{Kind: portal.PrincipalUser, Ref: "user:default/jane",
		Ownership: []string{"user:default/jane", "group:default/team-a", "group:default/eng"}}
	bob = &portal.Principal{Kind: portal.PrincipalUser, Ref: "user:default/bob",
		Ownership: []string{"user:default/bob", "group:default/admins"}}
	// nobody signed in but is not in the catalog, so owns through nothing.
	nobody    = &portal.Principal{Kind: portal.PrincipalUser, Ref: "user:default/nobody"}
	deployBot = &portal.Principal{Kind: portal.PrincipalService, Ref: "service:deploy-bot"}
	otherBot  = &portal.Principal{Kind: portal.PrincipalService, Ref: "service:other-bot"}
	anon      = portal.Anonymous
)

// The entities the decision tests ask about.
var (
	teamAService = &policy.Resource{Ref: "component:default/payments", Kind: "Component", Namespace: "default",
		Labels: map[string]string{"env": "staging"}, Owners: []string{"group:default/team-a"}}
	prodService = &policy.Resource{Ref: "component:default/ledger", Kind: "Component", Namespace: "default",
		Labels: map[string]string{"Env": "PRODUCTION"}, Owners: []string{"group:default/team-a"}}
	engAPI = &policy.Resource{Ref: "api:prod/billing", Kind: "API", Namespace: "prod",
		Annotations: map[string]string{"greenroom.io/tier": "gold"}, Owners: []string{"group:default/eng", "user:default/bob"}}
	unowned = &policy.Resource{Ref: "resource:default/bucket", Kind: "Resource", Namespace: "default"}
)

const decidePolicy = `
rules:
  - name: everyone-reads
    allow: [catalog.entity.read, catalog.location.read]
    to: anyone
  - name: owners-maintain
    allow: [catalog.entity.refresh, catalog.entity.delete]
    to: [users]
    when: {isOwner: true}
  - name: admins-do-everything
    allow: ["*"]
    to: [group:default/admins]
  - name: production-is-not-deleted
    deny: [catalog.entity.delete]
    to: [anyone]
    when: {labels: {env: production}}
  - name: deploy-bot-refreshes
    allow: [catalog.entity.refresh]
    to: [Service:Deploy-Bot]
  - name: services-register
    allow: [catalog.location.create]
    to: [services]
  - name: eng-removes-locations
    allow: [catalog.location.delete]
    to: [group:eng]
  - name: jane-too
    allow: [catalog.location.delete]
    to: [User:JANE]
  - name: no-anonymous-locations
    deny: [catalog.location.*]
    to: [anonymous]
`

func TestPolicy_Decide(t *testing.T) {
	pol := MustParse(t, decidePolicy)
	tests := []struct {
		name string
		perm string
		p    *portal.Principal
		r    *policy.Resource
		want policy.Decision
	}{
		{"Anyone", policy.EntityRead, jane, teamAService, policy.Decision{Allowed: true, Rule: "everyone-reads", Line: 3,
			Reason: "allowed: rule everyone-reads allows catalog.entity.read to anyone"}},
		{"AnyoneIncludesAnonymous", policy.EntityRead, anon, prodService, policy.Decision{Allowed: true, Rule: "everyone-reads", Line: 3,
			Reason: "allowed: rule everyone-reads allows catalog.entity.read to anyone"}},
		{"NilPrincipalIsAnonymous", policy.LocationRead, nil, nil, policy.Decision{Rule: "no-anonymous-locations", Line: 29,
			Reason: "denied: rule no-anonymous-locations denies catalog.location.read to anonymous callers; this overrides rule everyone-reads, which allows it"}},
		{"Anonymous", policy.LocationRead, anon, nil, policy.Decision{Rule: "no-anonymous-locations", Line: 29,
			Reason: "denied: rule no-anonymous-locations denies catalog.location.read to anonymous callers; this overrides rule everyone-reads, which allows it"}},
		{"AnonymousRuleSparesUsers", policy.LocationRead, nobody, nil, policy.Decision{Allowed: true, Rule: "everyone-reads", Line: 3,
			Reason: "allowed: rule everyone-reads allows catalog.location.read to anyone"}},
		{"OwnerThroughGroup", policy.EntityRefresh, jane, teamAService, policy.Decision{Allowed: true, Rule: "owners-maintain", Line: 6,
			Reason: "allowed: rule owners-maintain allows catalog.entity.refresh to users, and user:default/jane owns component:default/payments as a member of group:default/team-a"}},
		{"OwnerThroughParentGroup", policy.EntityDelete, jane, engAPI, policy.Decision{Allowed: true, Rule: "owners-maintain", Line: 6,
			Reason: "allowed: rule owners-maintain allows catalog.entity.delete to users, and user:default/jane owns api:prod/billing as a member of group:default/eng"}},
		{"OwnerDirectly", policy.EntityDelete, bob, engAPI, policy.Decision{Allowed: true, Rule: "owners-maintain", Line: 6,
			Reason: "allowed: rule owners-maintain allows catalog.entity.delete to users, and user:default/bob owns api:prod/billing"}},
		{"NotOwner", policy.EntityDelete, nobody, teamAService, policy.Decision{
			Reason: "denied: no rule allows catalog.entity.delete to user:default/nobody; " +
				"rule owners-maintain needs the caller to own component:default/payments, which is owned by group:default/team-a; " +
				"rule admins-do-everything is only for members of group:default/admins"}},
		{"NoOwner", policy.EntityRefresh, jane, unowned, policy.Decision{
			Reason: "denied: no rule allows catalog.entity.refresh to user:default/jane; " +
				"rule owners-maintain needs the caller to own resource:default/bucket, which has no owner; " +
				"rule admins-do-everything is only for members of group:default/admins; " +
				"rule deploy-bot-refreshes is only for service:deploy-bot"}},
		{"UsersExcludeServices", policy.EntityDelete, deployBot, teamAService, policy.Decision{
			Reason: "denied: no rule allows catalog.entity.delete to service:deploy-bot; " +
				"rule owners-maintain is only for users; rule admins-do-everything is only for members of group:default/admins"}},
		{"UsersExcludeAnonymous", policy.EntityRefresh, anon, teamAService, policy.Decision{
			Reason: "denied: no rule allows catalog.entity.refresh to an anonymous caller; " +
				"rule owners-maintain is only for users; rule admins-do-everything is only for members of group:default/admins; " +
				"rule deploy-bot-refreshes is only for service:deploy-bot"}},
		{"OneService", policy.EntityRefresh, deployBot, unowned, policy.Decision{Allowed: true, Rule: "deploy-bot-refreshes", Line: 17,
			Reason: "allowed: rule deploy-bot-refreshes allows catalog.entity.refresh to service:deploy-bot"}},
		{"OtherService", policy.EntityRefresh, otherBot, unowned, policy.Decision{
			Reason: "denied: no rule allows catalog.entity.refresh to service:other-bot; " +
				"rule owners-maintain is only for users; rule admins-do-everything is only for members of group:default/admins; " +
				"rule deploy-bot-refreshes is only for service:deploy-bot"}},
		{"Services", policy.LocationCreate, otherBot, nil, policy.Decision{Allowed: true, Rule: "services-register", Line: 20,
			Reason: "allowed: rule services-register allows catalog.location.create to services"}},
		{"ServicesExcludeUsers", policy.LocationCreate, jane, nil, policy.Decision{
			Reason: "denied: no rule allows catalog.location.create to user:default/jane; " +
				"rule admins-do-everything is only for members of group:default/admins; rule services-register is only for services"}},
		{"NestedGroup", policy.LocationDelete, jane, nil, policy.Decision{Allowed: true, Rule: "eng-removes-locations", Line: 23,
			Reason: "allowed: rule eng-removes-locations allows catalog.location.delete to members of group:default/eng"}},
		{"GroupWildcard", policy.LocationCreate, bob, nil, policy.Decision{Allowed: true, Rule: "admins-do-everything", Line: 10,
			Reason: "allowed: rule admins-do-everything allows catalog.location.create to members of group:default/admins"}},
		{"JobsThroughWildcard", policy.JobCancel, bob, nil, policy.Decision{Allowed: true, Rule: "admins-do-everything", Line: 10,
			Reason: "allowed: rule admins-do-everything allows jobs.job.cancel to members of group:default/admins"}},
		{"JobsNotForOthers", policy.JobRead, jane, nil, policy.Decision{
			Reason: "denied: no rule allows jobs.job.read to user:default/jane; " +
				"rule admins-do-everything is only for members of group:default/admins"}},
		{"UserRefCaseInsensitive", policy.LocationDelete, &portal.Principal{Kind: portal.PrincipalUser, Ref: "user:default/jane"}, nil,
			policy.Decision{Allowed: true, Rule: "jane-too", Line: 26,
				Reason: "allowed: rule jane-too allows catalog.location.delete to user:default/jane"}},
		{"UserRefIsNotAService", policy.LocationDelete, &portal.Principal{Kind: portal.PrincipalService, Ref: "user:default/jane"}, nil,
			policy.Decision{Reason: "denied: no rule allows catalog.location.delete to user:default/jane; " +
				"rule admins-do-everything is only for members of group:default/admins; rule eng-removes-locations is only for members of group:default/eng; " +
				"rule jane-too is only for user:default/jane"}},
		{"DenyOverridesAllow", policy.EntityDelete, jane, prodService, policy.Decision{Rule: "production-is-not-deleted", Line: 13,
			Reason: "denied: rule production-is-not-deleted denies catalog.entity.delete to anyone, and component:default/ledger has label env=production; " +
				"this overrides rule owners-maintain, which allows it"}},
		{"DenyOverridesWildcard", policy.EntityDelete, bob, prodService, policy.Decision{Rule: "production-is-not-deleted", Line: 13,
			Reason: "denied: rule production-is-not-deleted denies catalog.entity.delete to anyone, and component:default/ledger has label env=production; " +
				"this overrides rule admins-do-everything, which allows it"}},
		{"DenyWithoutAllow", policy.EntityDelete, nobody, prodService, policy.Decision{Rule: "production-is-not-deleted", Line: 13,
			Reason: "denied: rule production-is-not-deleted denies catalog.entity.delete to anyone, and component:default/ledger has label env=production"}},
		{"DenyConditionMissed", policy.EntityDelete, bob, teamAService, policy.Decision{Allowed: true, Rule: "admins-do-everything", Line: 10,
			Reason: "allowed: rule admins-do-everything allows catalog.entity.delete to members of group:default/admins"}},
		{"UnknownPermission", "catalog.entity.update", bob, teamAService, policy.Decision{
			Reason: `denied: "catalog.entity.update" is not a permission Greenroom knows`}},
		{"EveryEntityUnconditional", policy.EntityRead, nobody, nil, policy.Decision{Allowed: true, Rule: "everyone-reads", Line: 3,
			Reason: "allowed: rule everyone-reads allows catalog.entity.read to anyone"}},
		{"EveryEntityConditional", policy.EntityRefresh, jane, nil, policy.Decision{
			Reason: "denied: no rule allows catalog.entity.refresh to user:default/jane on every entity; " +
				"rule owners-maintain allows it only on entities owned by the caller; " +
				"rule admins-do-everything is only for members of group:default/admins; " +
				"rule deploy-bot-refreshes is only for service:deploy-bot"}},
		{"EveryEntityConditionalDeny", policy.EntityDelete, bob, nil, policy.Decision{Rule: "production-is-not-deleted", Line: 13,
			Reason: "denied: rule production-is-not-deleted denies catalog.entity.delete to anyone on entities with label env=production, so not on every entity"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, pol.Decide(tt.perm, tt.p, tt.r)); diff != "" {
				t.Errorf("Decide(%s) mismatch (-want +got):\n%s", tt.perm, diff)
			}
		})
	}
}

const conditionsPolicy = `rules:
  - name: prod-apis
    allow: [catalog.entity.*]
    to: [users]
    when:
      kind: [api, Component]
      namespace: [PROD]
      annotations: {greenroom.io/tier: GOLD}
  - name: labelled
    allow: ['*']
    to: [services]
    when: {labels: {env: '*', team: a}}
`

func TestPolicy_Decide_Conditions(t *testing.T) {
	pol := MustParse(t, conditionsPolicy)
	tests := []struct {
		name string
		perm string
		p    *portal.Principal
		r    *policy.Resource
		want policy.Decision
	}{
		{"AllHold", policy.EntityDelete, nobody, engAPI, policy.Decision{Allowed: true, Rule: "prod-apis", Line: 2,
			Reason: "allowed: rule prod-apis allows catalog.entity.delete to users, and api:prod/billing is of kind API and " +
				"api:prod/billing is in namespace prod and api:prod/billing has annotation greenroom.io/tier=GOLD"}},
		{"AllMissed", policy.EntityRead, nobody, &policy.Resource{Ref: "resource:default/db", Kind: "Resource",
			Annotations: map[string]string{"greenroom.io/tier": "silver"}}, policy.Decision{
			Reason: "denied: no rule allows catalog.entity.read to user:default/nobody; " +
				"rule prod-apis needs kind api or Component, and resource:default/db is of kind Resource; " +
				"it also needs namespace PROD, and resource:default/db is in namespace default; " +
				"it also needs annotation greenroom.io/tier=GOLD, and resource:default/db has greenroom.io/tier=silver; " +
				"rule labelled is only for services"}},
		{"WildcardValue", policy.EntityRefresh, deployBot, &policy.Resource{Kind: "Group",
			Labels: map[string]string{"ENV": "", "Team": "A"}}, policy.Decision{Allowed: true, Rule: "labelled", Line: 9,
			Reason: "allowed: rule labelled allows catalog.entity.refresh to services, and the entity has label env and the entity has label team=a"}},
		{"KeyAbsent", policy.EntityRefresh, deployBot, &policy.Resource{Ref: "group:default/x", Kind: "Group",
			Labels: map[string]string{"team": "a"}}, policy.Decision{
			Reason: "denied: no rule allows catalog.entity.refresh to service:deploy-bot; rule prod-apis is only for users; " +
				"rule labelled needs label env, and group:default/x has no label env"}},
		{"ConditionsNeverHoldWithoutEntity", policy.LocationCreate, deployBot, unowned, policy.Decision{
			Reason: "denied: no rule allows catalog.location.create to service:deploy-bot; " +
				"rule labelled has conditions on entities, and catalog.location.create is not about an entity"}},
		{"EntityWildcardSkipsLocations", policy.LocationRead, nobody, nil, policy.Decision{
			Reason: "denied: no rule allows catalog.location.read to user:default/nobody; rule labelled is only for services"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, pol.Decide(tt.perm, tt.p, tt.r)); diff != "" {
				t.Errorf("Decide(%s) mismatch (-want +got):\n%s", tt.perm, diff)
			}
		})
	}
}

// TestPolicy_Decide_Example checks the default policy does what the issue
// asks: everyone reads, owners refresh and delete, admins do everything.
func TestPolicy_Decide_Example(t *testing.T) {
	pol, err := policy.Load("../../examples/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ravi := &portal.Principal{Kind: portal.PrincipalUser, Ref: "user:default/ravi.menon",
		Ownership: []string{"user:default/ravi.menon", "group:default/platform-admins", "group:default/team-data",
			"group:default/engineering", "group:default/larkspur-records"}}
	sam := &portal.Principal{Kind: portal.PrincipalUser, Ref: "user:default/sam.rivera",
		Ownership: []string{"user:default/sam.rivera"}}
	player := &policy.Resource{Ref: "component:default/web-player", Kind: "Component",
		Owners: []string{"group:default/team-playback"}}
	mine := &policy.Resource{Ref: "component:default/sams-tool", Kind: "Component",
		Owners: []string{"user:default/sam.rivera"}}
	tests := []struct {
		perm string
		p    *portal.Principal
		r    *policy.Resource
		want bool
	}{
		{policy.EntityRead, anon, player, true},
		{policy.LocationRead, anon, nil, true},
		{policy.EntityRead, deployBot, player, true},
		{policy.EntityRefresh, anon, player, false},
		{policy.EntityDelete, sam, player, false},
		{policy.EntityDelete, sam, mine, true},
		{policy.EntityRefresh, sam, mine, true},
		{policy.LocationCreate, sam, nil, true}, // users-run-templates: catalog:register registers as the task's user
		{policy.LocationDelete, deployBot, nil, false},
		{policy.EntityDelete, ravi, player, true},
		{policy.LocationCreate, ravi, nil, true},
		{policy.LocationDelete, ravi, nil, true},
	}
	for _, tt := range tests {
		d := pol.Decide(tt.perm, tt.p, tt.r)
		if d.Allowed != tt.want {
			t.Errorf("Decide(%s, %s, %v).Allowed = %v; want %v (%s)", tt.perm, tt.p.Ref, tt.r, d.Allowed, tt.want, d.Reason)
		}
	}
}

// TestPolicy_Decide_PluginPermissions checks that a plugin's own
// permissions are decided as the core's basic ones: by name, by the
// plugin's wildcard and by "*", deny winning; and that names in the core's
// namespaces stay unknown unless the core has them.
func TestPolicy_Decide_PluginPermissions(t *testing.T) {
	pol := MustParse(t, `rules:
  - name: admins
    allow: ["*"]
    to: [group:default/admins]
  - name: radar-editors
    allow: [techradar.radar.update]
    to: [group:default/team-a]
  - name: radar-readers
    allow: [techradar.*]
    to: [users]
  - name: no-bots
    deny: [techradar.radar.*]
    to: [services]
`)
	tests := []struct {
		name string
		perm string
		p    *portal.Principal
		want policy.Decision
	}{
		{"ByName", "techradar.radar.update", jane, policy.Decision{Allowed: true, Rule: "radar-editors", Line: 5,
			Reason: "allowed: rule radar-editors allows techradar.radar.update to members of group:default/team-a"}},
		{"ByPluginWildcard", "techradar.entry.read", nobody, policy.Decision{Allowed: true, Rule: "radar-readers", Line: 8,
			Reason: "allowed: rule radar-readers allows techradar.entry.read to users"}},
		{"ByStar", "scorecard.check.run", bob, policy.Decision{Allowed: true, Rule: "admins", Line: 2,
			Reason: "allowed: rule admins allows scorecard.check.run to members of group:default/admins"}},
		{"DenyWins", "techradar.radar.update", deployBot, policy.Decision{Rule: "no-bots", Line: 11,
			Reason: "denied: rule no-bots denies techradar.radar.update to services"}},
		{"NoRule", "scorecard.check.run", nobody, policy.Decision{
			Reason: "denied: no rule allows scorecard.check.run to user:default/nobody; rule admins is only for members of group:default/admins"}},
		{"CoreNamespaceUnknown", "catalog.radar.update", bob, policy.Decision{
			Reason: `denied: "catalog.radar.update" is not a permission Greenroom knows`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, pol.Decide(tt.perm, tt.p, nil)); diff != "" {
				t.Errorf("Decide(%s) mismatch (-want +got):\n%s", tt.perm, diff)
			}
		})
	}
}
