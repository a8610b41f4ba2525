package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/auth"
	"github.com/greenroomhq/greenroom/internal/identity"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// The key and claims the secure test server accepts.
const (
	testSecret   = "greenroom-test-secret-0123456789abcdef"
	testIssuer   = "greenroom-test"
	testAudience = "greenroom"
)

// orgYAML is the security tests' organisation: org ← dept ← team-a (each a
// child of the one before), team-b and admins on their own; alice is a
// member of team-a, so she owns through team-a, dept and org; bob of
// team-b; admin of admins. shared-db (owned by org) is depended on by
// dept-svc (dept) and b-svc (team-b); a-svc (team-a) depends on b-svc.
const orgYAML = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: org
spec:
  type: organization
  children: [dept]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: dept
spec:
  type: department
  parent: org
  children: [team-a]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  parent: dept
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-b
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: admins
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: alice
spec:
  memberOf: [team-a]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: bob
spec:
  memberOf: [team-b]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: admin
spec:
  memberOf: [admins]
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: shared-db
spec:
  type: database
  owner: org
---
` + `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: dept-svc
spec:
  type: service
  lifecycle: production
  owner: dept
  dependsOn: [resource:shared-db]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: a-svc
spec:
  type: service
  lifecycle: production
  owner: team-a
  dependsOn: [component:b-svc]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: b-svc
spec:
  type: service
  lifecycle: production
  owner: team-b
  dependsOn: [resource:shared-db]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: admin-tool
spec:
  type: website
  lifecycle: production
  owner: admins
`

// teamYAML is a second location: a2-svc (team-a), which depends on
// dept-svc, and leftover (dept), which the orphan tests remove from it.
const teamYAML = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: a2-svc
spec:
  type: service
  lifecycle: production
  owner: team-a
  dependsOn: [component:dept-svc]
`

const teamLeftoverYAML = `---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: leftover
spec:
  type: service
  lifecycle: experimental
  owner: dept
`

// maintainPolicy lets everyone read, owners refresh and delete, admins do
// everything, every service refresh and deploy-bot register locations.
const maintainPolicy = `rules:
  - name: everyone-reads
    allow: [catalog.entity.read, catalog.location.read]
    to: [anyone]
  - name: owners-maintain
    allow: [catalog.entity.refresh, catalog.entity.delete]
    to: [users]
    when: {isOwner: true}
  - name: admins-do-everything
    allow: ["*"]
    to: [group:default/admins]
  - name: services-refresh
    allow: [catalog.entity.refresh]
    to: [services]
  - name: deploy-bot-registers
    allow: [catalog.location.create]
    to: [service:deploy-bot]
`

// readOwnPolicy lets users read only what they own, and admins everything.
const readOwnPolicy = `rules:
  - name: users-read-own
    allow: [catalog.entity.read]
    to: [users]
    when: {isOwner: true}
  - name: admins-do-everything
    allow: ["*"]
    to: [group:default/admins]
`

// ruleLine returns the line of the rule called name in a policy.
func ruleLine(tb testing.TB, policyYAML, name string) int {
	tb.Helper()
	for i, l := range strings.Split(policyYAML, "\n") {
		if strings.TrimSpace(l) == "- name: "+name {
			return i + 1
		}
	}
	tb.Fatalf("no rule %s in the policy", name)
	return 0
}

// securityCatalog is the security tests' catalog on disk.
type securityCatalog struct {
	org, team string // the two location files
}

// MustWriteSecurityCatalog writes orgYAML and teamYAML (with leftover) to
// a temporary directory.
func MustWriteSecurityCatalog(tb testing.TB) securityCatalog {
	tb.Helper()
	dir := tb.TempDir()
	return securityCatalog{
		org:  MustWriteFile(tb, dir, "org.yaml", orgYAML),
		team: MustWriteFile(tb, dir, "team.yaml", teamYAML+teamLeftoverYAML),
	}
}

// MustIngest registers each target as a file location and reads them all.
func MustIngest(tb testing.TB, db *store.DB, targets ...string) *ingest.Engine {
	tb.Helper()
	ctx := context.Background()
	for _, target := range targets {
		if _, _, err := db.CreateLocation(ctx, ingest.TypeFile, target); err != nil {
			tb.Fatal(err)
		}
	}
	eng := ingest.NewEngine(db, ingest.Options{})
	if err := eng.RefreshAll(ctx); err != nil {
		tb.Fatal(err)
	}
	return eng
}

// MustServeSecure serves the API as serverOptions wires it, with bearer
// tokens signed with testSecret verified and resolved against the catalog
// in db, as greenroom serve does with auth.secret set.
func MustServeSecure(t *testing.T, db *store.DB, eng *ingest.Engine, policyYAML string, ids identity.Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(server.New(secureOptions(t, db, eng, policyYAML, ids)))
	t.Cleanup(srv.Close)
	return srv
}

// secureOptions are the options of [MustServeSecure]'s server.
func secureOptions(t *testing.T, db *store.DB, eng *ingest.Engine, policyYAML string, ids identity.Options) server.Options {
	t.Helper()
	v, err := auth.NewVerifier(context.Background(), auth.Config{
		Secret: testSecret, Issuer: testIssuer, Audience: []string{testAudience},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := identity.NewResolver(db, ids)
	resolve := func(ctx context.Context, c *auth.Claims) (*portal.Principal, error) {
		return res.Principal(ctx, c.Subject, c.Email)
	}
	opts := serverOptions(t, db, eng, policyYAML)
	opts.Authenticate = func(next http.Handler) http.Handler { return auth.Middleware(v, resolve, next) }
	return opts
}

// MustToken mints a token for sub that the secure test server accepts.
func MustToken(tb testing.TB, sub string) string {
	tb.Helper()
	return mustMint(tb, testSecret, auth.MintOptions{Subject: sub, Issuer: testIssuer, Audience: []string{testAudience}})
}

func mustMint(tb testing.TB, secret string, o auth.MintOptions) string {
	tb.Helper()
	tok, err := auth.MintDevToken(secret, o)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// caller sends GraphQL requests with one Authorization header, or none.
type caller struct {
	srv           *httptest.Server
	authorization string // "" sends no Authorization header
	requestID     string // "" sends no X-Request-ID header
}

// anonymous returns a caller without a token.
func anonymous(srv *httptest.Server) caller { return caller{srv: srv} }

// as returns a caller with a fresh token for sub.
func as(t *testing.T, srv *httptest.Server, sub string) caller {
	t.Helper()
	return caller{srv: srv, authorization: "Bearer " + MustToken(t, sub)}
}

// post sends a request and returns the HTTP status and the decoded body,
// checking that no error shows SQL or driver text.
func (c caller) post(t *testing.T, query string, vars map[string]any) (*http.Response, gqlResponse) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.srv.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.authorization != "" {
		req.Header.Set("Authorization", c.authorization)
	}
	if c.requestID != "" {
		req.Header.Set("X-Request-ID", c.requestID)
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("status %d: body is not JSON: %v", resp.StatusCode, err)
	}
	for _, e := range out.Errors {
		if sqlText.MatchString(e.Message) {
			t.Errorf("error message shows SQL or driver text: %q", e.Message)
		}
	}
	return resp, out
}

// MustQuery sends a request that must succeed and decodes its data into out.
func (c caller) MustQuery(t *testing.T, query string, vars map[string]any, out any) {
	t.Helper()
	resp, r := c.post(t, query, vars)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, errors %+v; want 200", resp.StatusCode, r.Errors)
	}
	mustData(t, r, out)
}

// MustFail sends a request that must fail with a GraphQL error, and returns
// the code and message of the first.
func (c caller) MustFail(t *testing.T, query string, vars map[string]any) (code, message string) {
	t.Helper()
	_, r := c.post(t, query, vars)
	if len(r.Errors) == 0 {
		t.Fatalf("got data %s and no error; want an error", r.Data)
	}
	code, _ = r.Errors[0].Extensions["code"].(string)
	return code, r.Errors[0].Message
}

// wantForbidden checks that a request fails with FORBIDDEN and returns the
// message.
func (c caller) wantForbidden(t *testing.T, query string, vars map[string]any) string {
	t.Helper()
	code, msg := c.MustFail(t, query, vars)
	if code != portal.EFORBIDDEN {
		t.Errorf("code %q (message %q); want FORBIDDEN", code, msg)
	}
	return msg
}

const (
	refreshEntityMutation = `mutation($ref: String!) { refreshEntity(ref: $ref) { entity { ref } } }`
	validateMutation      = `mutation($yaml: String!) { validateEntities(yaml: $yaml) { valid } }`
	explainQuery          = `query($p: String!, $r: String) {
		explain(permission: $p, resource: $r) { permission resource allowed rule line reason }
	}`
	viewerQuery = `{ viewer { kind ref ownershipRefs groups { ref } user { ref } } }`
)

type viewer struct {
	Kind          string
	Ref           *string
	OwnershipRefs []string
	Groups        []refNode
	User          *refNode
}

// MustViewer returns the caller as the API sees it, its groups sorted.
func (c caller) MustViewer(t *testing.T) viewer {
	t.Helper()
	var got struct{ Viewer viewer }
	c.MustQuery(t, viewerQuery, nil, &got)
	slices.SortFunc(got.Viewer.Groups, func(a, b refNode) int { return strings.Compare(a.Ref, b.Ref) })
	return got.Viewer
}

type decision struct {
	Permission string
	Resource   *string
	Allowed    bool
	Rule       *string
	Line       *int
	Reason     string
}

// MustExplain asks the policy about the caller; resource "" asks about no
// entity.
func (c caller) MustExplain(t *testing.T, perm, resource string) decision {
	t.Helper()
	vars := map[string]any{"p": perm}
	if resource != "" {
		vars["r"] = resource
	}
	var got struct{ Explain decision }
	c.MustQuery(t, explainQuery, vars, &got)
	return got.Explain
}

func ptr[T any](v T) *T { return &v }

func TestAuth_Tokens(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		cat := MustWriteSecurityCatalog(t)
		eng := MustIngest(t, db, cat.org, cat.team)
		srv := MustServeSecure(t, db, eng, maintainPolicy, identity.Options{})

		t.Run("OK", func(t *testing.T) {
			got := as(t, srv, "user:default/alice").MustViewer(t)
			want := viewer{
				Kind: "USER", Ref: ptr("user:default/alice"),
				// Her own ref, then her groups: team-a, and dept and org above it.
				OwnershipRefs: []string{"user:default/alice", "group:default/dept", "group:default/org", "group:default/team-a"},
				Groups:        []refNode{{"group:default/dept"}, {"group:default/org"}, {"group:default/team-a"}},
				User:          &refNode{"user:default/alice"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("viewer mismatch (-want +got):\n%s", diff)
			}
			// The subject may leave out the kind and namespace, and case does not matter.
			if got := as(t, srv, "Bob").MustViewer(t); deref(got.Ref) != "user:default/bob" ||
				!slices.Equal(got.OwnershipRefs, []string{"user:default/bob", "group:default/team-b"}) {
				t.Errorf("viewer for sub Bob: %+v; want user:default/bob of team-b", got)
			}
		})

		t.Run("Anonymous", func(t *testing.T) {
			got := anonymous(srv).MustViewer(t)
			want := viewer{Kind: "ANONYMOUS", OwnershipRefs: []string{}, Groups: []refNode{}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("viewer mismatch (-want +got):\n%s", diff)
			}
		})

		valid := MustToken(t, "user:default/alice")
		head, sig := valid[:strings.LastIndex(valid, ".")+1], valid[strings.LastIndex(valid, ".")+1:]
		flipped := []byte(sig)
		flipped[5] = map[bool]byte{true: 'B', false: 'A'}[flipped[5] == 'A']
		now := time.Now()
		for _, tc := range []struct {
			name, header string
			wantMessage  string // a part of the error message
		}{
			{"ErrTamperedSignature", "Bearer " + head + string(flipped), "signature is invalid"},
			{"ErrTamperedClaims", "Bearer " + tamperClaims(t, valid), "signature is invalid"},
			{"ErrExpired", "Bearer " + mustMint(t, testSecret, auth.MintOptions{
				Subject: "user:default/alice", Issuer: testIssuer, Audience: []string{testAudience},
				Now: now.Add(-2 * time.Hour), TTL: time.Hour,
			}), "expired"},
			{"ErrOtherSecret", "Bearer " + mustMint(t, strings.Repeat("x", 40), auth.MintOptions{
				Subject: "user:default/alice", Issuer: testIssuer, Audience: []string{testAudience},
			}), "signature is invalid"},
			{"ErrOtherAudience", "Bearer " + mustMint(t, testSecret, auth.MintOptions{
				Subject: "user:default/alice", Issuer: testIssuer, Audience: []string{"someone-else"},
			}), ""},
			{"ErrOtherIssuer", "Bearer " + mustMint(t, testSecret, auth.MintOptions{
				Subject: "user:default/alice", Issuer: "evil", Audience: []string{testAudience},
			}), ""},
			{"ErrUnknownUser", "Bearer " + MustToken(t, "user:default/nobody"), "user:default/nobody is not in the catalog"},
			{"ErrNotAUser", "Bearer " + MustToken(t, "group:default/admins"), "not a user"},
			{"ErrGarbageToken", "Bearer not-a-jwt", "malformed"},
			{"ErrEmptyToken", "Bearer ", "empty"},
			{"ErrOtherScheme", "Basic YWxpY2U6cGFzc3dvcmQ=", "Bearer"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := caller{srv: srv, authorization: tc.header}
				// A query and a mutation are refused alike, before GraphQL runs.
				for _, q := range []string{viewerQuery, `mutation { deleteEntity(ref: "component:dept-svc") { ref } }`} {
					resp, r := c.post(t, q, nil)
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("status %d; want 401", resp.StatusCode)
					}
					if h := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
						t.Errorf("WWW-Authenticate %q; want a Bearer challenge", h)
					}
					if len(r.Errors) != 1 || r.Data != nil {
						t.Fatalf("data %s errors %+v; want one error and no data", r.Data, r.Errors)
					}
					if code := r.Errors[0].Extensions["code"]; code != portal.EUNAUTHENTICATED {
						t.Errorf("code %v (message %q); want UNAUTHENTICATED", code, r.Errors[0].Message)
					}
					if msg := r.Errors[0].Message; !strings.Contains(msg, tc.wantMessage) {
						t.Errorf("message %q; want it to say %q", msg, tc.wantMessage)
					}
					if strings.Contains(r.Errors[0].Message, valid[:20]) {
						t.Errorf("message %q repeats the token", r.Errors[0].Message)
					}
				}
			})
		}
		// Nothing above ran a mutation.
		if got := MustEntityRef(t, srv, "component:dept-svc"); got != "component:default/dept-svc" {
			t.Errorf("dept-svc is %q after refused deletes", got)
		}

		t.Run("AllowUnknownUsers", func(t *testing.T) {
			lax := MustServeSecure(t, db, eng, maintainPolicy, identity.Options{AllowUnknownUsers: true})
			got := as(t, lax, "user:default/nobody").MustViewer(t)
			want := viewer{Kind: "USER", Ref: ptr("user:default/nobody"), OwnershipRefs: []string{"user:default/nobody"}, Groups: []refNode{}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("viewer mismatch (-want +got):\n%s", diff)
			}
			// Known users are resolved from the catalog all the same.
			if got := as(t, lax, "user:default/alice").MustViewer(t); len(got.OwnershipRefs) != 4 {
				t.Errorf("alice owns through %v; want her and three groups", got.OwnershipRefs)
			}
		})
	})
}

// tamperClaims returns tok with its subject changed to admin and its
// signature kept.
func tamperClaims(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", tok)
	}
	claims := decodeSegment(t, parts[1])
	claims["sub"] = "user:default/admin"
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = encodeSegment(b)
	return strings.Join(parts, ".")
}

func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encodeSegment(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestAuth_ServiceToken(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		cat := MustWriteSecurityCatalog(t)
		eng := MustIngest(t, db, cat.org, cat.team)
		srv := MustServeSecure(t, db, eng, maintainPolicy, identity.Options{})
		bot := as(t, srv, "service:deploy-bot")
		other := as(t, srv, "service:other-bot")
		newFile := MustWriteFile(t, t.TempDir(), "new.yaml", component("bot-made"))
		register := map[string]any{"type": "file", "target": newFile, "dryRun": true}

		t.Run("Viewer", func(t *testing.T) {
			want := viewer{Kind: "SERVICE", Ref: ptr("service:deploy-bot"), OwnershipRefs: []string{"service:deploy-bot"}, Groups: []refNode{}}
			if diff := cmp.Diff(want, bot.MustViewer(t)); diff != "" {
				t.Errorf("viewer mismatch (-want +got):\n%s", diff)
			}
		})

		t.Run("ToServices", func(t *testing.T) {
			// services-refresh lets any service refresh, owner or not.
			for _, c := range []caller{bot, other} {
				var got struct{ RefreshEntity struct{ Entity refNode } }
				c.MustQuery(t, refreshEntityMutation, map[string]any{"ref": "component:default/b-svc"}, &got)
				if got.RefreshEntity.Entity.Ref != "component:default/b-svc" {
					t.Errorf("refreshed %q", got.RefreshEntity.Entity.Ref)
				}
			}
			d := bot.MustExplain(t, "catalog.entity.refresh", "component:default/b-svc")
			if !d.Allowed || deref(d.Rule) != "services-refresh" {
				t.Errorf("explain %+v; want allowed by services-refresh", d)
			}
			// But no rule lets a service delete.
			msg := bot.wantForbidden(t, deleteEntityMutation, map[string]any{"ref": "component:default/b-svc"})
			if !strings.Contains(msg, "service:deploy-bot") || !strings.Contains(msg, "owners-maintain is only for users") {
				t.Errorf("message %q; want it to name the caller and why owners-maintain does not apply", msg)
			}
		})

		t.Run("ToOneService", func(t *testing.T) {
			// deploy-bot-registers names deploy-bot only.
			var got struct{ RegisterLocation registerPayload }
			bot.MustQuery(t, registerMutation, register, &got)
			if !got.RegisterLocation.DryRun || len(got.RegisterLocation.Entities) != 2 {
				t.Errorf("dry run %+v; want the component and its Location", got.RegisterLocation)
			}
			d := bot.MustExplain(t, "catalog.location.create", "")
			if !d.Allowed || deref(d.Rule) != "deploy-bot-registers" || d.Line == nil || *d.Line != ruleLine(t, maintainPolicy, "deploy-bot-registers") {
				t.Errorf("explain %+v; want allowed by deploy-bot-registers on its line", d)
			}
			msg := other.wantForbidden(t, registerMutation, register)
			if !strings.Contains(msg, "deploy-bot-registers is only for service:deploy-bot") {
				t.Errorf("message %q; want it to say deploy-bot-registers is only for deploy-bot", msg)
			}
			if d := other.MustExplain(t, "catalog.location.create", ""); d.Allowed || d.Reason != msg {
				t.Errorf("explain %+v; want denied with the reason %q", d, msg)
			}
		})
	})
}

func TestPolicy_OwnershipThroughNestedGroups(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		cat := MustWriteSecurityCatalog(t)
		eng := MustIngest(t, db, cat.org, cat.team)
		srv := MustServeSecure(t, db, eng, maintainPolicy, identity.Options{})
		alice, bob, admin := as(t, srv, "user:default/alice"), as(t, srv, "user:default/bob"), as(t, srv, "user:default/admin")
		deptSvc := map[string]any{"ref": "component:default/dept-svc"}

		t.Run("OwnerThroughParentGroupRefreshes", func(t *testing.T) {
			// alice is in team-a, a child of dept, which owns dept-svc.
			for _, c := range []caller{alice, admin} {
				var got struct{ RefreshEntity struct{ Entity refNode } }
				c.MustQuery(t, refreshEntityMutation, deptSvc, &got)
				if got.RefreshEntity.Entity.Ref != "component:default/dept-svc" {
					t.Errorf("refreshed %q", got.RefreshEntity.Entity.Ref)
				}
			}
			// Policy allows alice to delete it: the refusal is the store's,
			// because its file still emits it.
			if code, msg := alice.MustFail(t, deleteEntityMutation, deptSvc); code != portal.ECONFLICT {
				t.Errorf("code %q (message %q); want CONFLICT: allowed, but not an orphan", code, msg)
			}
		})

		var bobDenied string
		t.Run("ErrForbiddenForNonOwner", func(t *testing.T) {
			bobDenied = bob.wantForbidden(t, deleteEntityMutation, deptSvc)
			for _, want := range []string{"user:default/bob", "owners-maintain", "group:default/dept", "admins-do-everything"} {
				if !strings.Contains(bobDenied, want) {
					t.Errorf("message %q; want it to name %s", bobDenied, want)
				}
			}
			if msg := bob.wantForbidden(t, refreshEntityMutation, deptSvc); !strings.Contains(msg, "owners-maintain") {
				t.Errorf("message %q; want it to name owners-maintain", msg)
			}
			// team-b is not under dept: bob may refresh only what team-b owns.
			var got struct{ RefreshEntity struct{ Entity refNode } }
			bob.MustQuery(t, refreshEntityMutation, map[string]any{"ref": "component:default/b-svc"}, &got)
			anonymous(srv).wantForbidden(t, refreshEntityMutation, deptSvc)
			// Read access is not write access: alice may read b-svc and not refresh it.
			alice.wantForbidden(t, refreshEntityMutation, map[string]any{"ref": "component:default/b-svc"})
		})

		t.Run("Explain", func(t *testing.T) {
			const perm = "catalog.entity.delete"
			got := bob.MustExplain(t, perm, "component:dept-svc")
			want := decision{Permission: perm, Resource: ptr("component:default/dept-svc"), Reason: bobDenied}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("bob: decision mismatch (-want +got):\n%s", diff)
			}
			line := ruleLine(t, maintainPolicy, "owners-maintain")
			got = alice.MustExplain(t, perm, "component:default/dept-svc")
			want = decision{
				Permission: perm, Resource: ptr("component:default/dept-svc"), Allowed: true,
				Rule: ptr("owners-maintain"), Line: &line,
				Reason: "allowed: rule owners-maintain allows catalog.entity.delete to users, and user:default/alice owns component:default/dept-svc as a member of group:default/dept",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("alice: decision mismatch (-want +got):\n%s", diff)
			}
			got = admin.MustExplain(t, perm, "component:default/dept-svc")
			if !got.Allowed || deref(got.Rule) != "admins-do-everything" || got.Line == nil ||
				*got.Line != ruleLine(t, maintainPolicy, "admins-do-everything") || !strings.Contains(got.Reason, "members of group:default/admins") {
				t.Errorf("admin: decision %+v; want allowed by admins-do-everything on its line", got)
			}
			// Without a resource: alice may not delete every entity.
			if got := alice.MustExplain(t, perm, ""); got.Allowed || got.Resource != nil || !strings.Contains(got.Reason, "on every entity") {
				t.Errorf("alice on every entity: %+v; want denied", got)
			}
			if code, _ := alice.MustFail(t, explainQuery, map[string]any{"p": perm, "r": "not a ref"}); code != portal.EINVALID {
				t.Errorf("bad ref: code %q; want INVALID", code)
			}
		})

		t.Run("DeleteOrphan", func(t *testing.T) {
			// leftover (owned by dept) leaves team.yaml; alice's refresh of
			// a2-svc reads team.yaml again and makes it an orphan.
			MustWriteFile(t, filepath.Dir(cat.team), "team.yaml", teamYAML)
			var got struct{ RefreshEntity struct{ Entity refNode } }
			alice.MustQuery(t, refreshEntityMutation, map[string]any{"ref": "component:default/a2-svc"}, &got)
			var e struct{ Entity struct{ Orphan bool } }
			alice.MustQuery(t, `{ entity(ref: "component:leftover") { orphan } }`, nil, &e)
			if !e.Entity.Orphan {
				t.Fatal("leftover is not an orphan after its file dropped it")
			}
			leftover := map[string]any{"ref": "component:default/leftover"}
			if msg := bob.wantForbidden(t, deleteEntityMutation, leftover); !strings.Contains(msg, "owners-maintain") {
				t.Errorf("message %q; want it to name owners-maintain", msg)
			}
			if MustEntityRef(t, srv, "component:leftover") == "" {
				t.Fatal("bob's refused delete removed leftover")
			}
			var del struct{ DeleteEntity refNode }
			alice.MustQuery(t, deleteEntityMutation, leftover, &del)
			if del.DeleteEntity.Ref != "component:default/leftover" {
				t.Errorf("deleted %q", del.DeleteEntity.Ref)
			}
			if ref := MustEntityRef(t, srv, "component:leftover"); ref != "" {
				t.Errorf("%s is still there after alice deleted it", ref)
			}
		})
	})
}

func TestPolicy_ReadFiltering(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		cat := MustWriteSecurityCatalog(t)
		eng := MustIngest(t, db, cat.org, cat.team)
		srv := MustServeSecure(t, db, eng, readOwnPolicy, identity.Options{})

		everything := []string{
			"component:default/a-svc", "component:default/a2-svc", "component:default/admin-tool",
			"component:default/b-svc", "component:default/dept-svc", "component:default/leftover",
			"group:default/admins", "group:default/dept", "group:default/org", "group:default/team-a", "group:default/team-b",
			generatedRef(cat.org), generatedRef(cat.team),
			"resource:default/shared-db",
			"user:default/admin", "user:default/alice", "user:default/bob",
		}
		slices.Sort(everything)
		type want struct {
			entities   []string // every entity, by ref
			components int      // totalCount of the components
			facets     string   // entityFacets(kind, owner) as JSON
			byRefs     []string // entitiesByRefs(a-svc, b-svc, shared-db, nope); "" for null
			blast      []string // traverse shared-db, dependsOn INCOMING; nil when shared-db is invisible
			fromB      []string // traverse b-svc, dependsOn INCOMING; nil when b-svc is invisible
			related    string   // owner, dependsOn and dependents of a-svc and shared-db, as JSON
			owns       []string // viewer.owns
		}
		callers := []struct {
			name string
			c    caller
			want want
		}{
			{"Alice", as(t, srv, "user:default/alice"), want{
				// What dept, org, team-a own; no groups, users or locations,
				// which nobody owns.
				entities: []string{
					"component:default/a-svc", "component:default/a2-svc", "component:default/dept-svc",
					"component:default/leftover", "resource:default/shared-db",
				},
				components: 4,
				facets: `[
					{"facet": "kind", "values": [{"value": "Component", "count": 4}, {"value": "Resource", "count": 1}]},
					{"facet": "owner", "values": [
						{"value": "group:default/dept", "count": 2}, {"value": "group:default/org", "count": 1},
						{"value": "group:default/team-a", "count": 2}
					]}
				]`,
				byRefs: []string{"component:default/a-svc", "", "resource:default/shared-db", ""},
				// b-svc is invisible, so a-svc, which depends on shared-db
				// only through it, is not reached.
				blast: []string{"component:dept-svc 1 component:dept-svc", "component:a2-svc 2 component:dept-svc>component:a2-svc"},
				related: `{
					"a": {"owner": null, "dependsOn": [], "dependents": []},
					"db": {"owner": null, "dependents": [{"ref": "component:default/dept-svc"}]}
				}`,
				owns: []string{
					"component:default/a-svc", "component:default/a2-svc", "component:default/dept-svc",
					"component:default/leftover", "resource:default/shared-db",
				},
			}},
			{"Bob", as(t, srv, "user:default/bob"), want{
				entities:   []string{"component:default/b-svc"},
				components: 1,
				facets: `[
					{"facet": "kind", "values": [{"value": "Component", "count": 1}]},
					{"facet": "owner", "values": [{"value": "group:default/team-b", "count": 1}]}
				]`,
				byRefs:  []string{"", "component:default/b-svc", "", ""},
				fromB:   []string{},
				related: `{"a": null, "db": null}`,
				owns:    []string{"component:default/b-svc"},
			}},
			{"Admin", as(t, srv, "user:default/admin"), want{
				entities:   everything,
				components: 6,
				facets: `[
					{"facet": "kind", "values": [
						{"value": "Component", "count": 6}, {"value": "Group", "count": 5}, {"value": "Location", "count": 2},
						{"value": "Resource", "count": 1}, {"value": "User", "count": 3}
					]},
					{"facet": "owner", "values": [
						{"value": "group:default/admins", "count": 1}, {"value": "group:default/dept", "count": 2},
						{"value": "group:default/org", "count": 1}, {"value": "group:default/team-a", "count": 2},
						{"value": "group:default/team-b", "count": 1}
					]}
				]`,
				byRefs: []string{"component:default/a-svc", "component:default/b-svc", "resource:default/shared-db", ""},
				blast: []string{
					"component:b-svc 1 component:b-svc", "component:dept-svc 1 component:dept-svc",
					"component:a-svc 2 component:b-svc>component:a-svc", "component:a2-svc 2 component:dept-svc>component:a2-svc",
				},
				fromB: []string{"component:a-svc 1 component:a-svc"},
				related: `{
					"a": {"owner": {"ref": "group:default/team-a"}, "dependsOn": [{"ref": "component:default/b-svc"}], "dependents": []},
					"db": {"owner": {"ref": "group:default/org"}, "dependents": [{"ref": "component:default/b-svc"}, {"ref": "component:default/dept-svc"}]}
				}`,
				owns: []string{"component:default/admin-tool"},
			}},
			{"Anonymous", anonymous(srv), want{
				entities: []string{},
				facets: `[
					{"facet": "kind", "values": []},
					{"facet": "owner", "values": []}
				]`,
				byRefs:  []string{"", "", "", ""},
				related: `{"a": null, "db": null}`,
				owns:    []string{},
			}},
		}
		for _, tc := range callers {
			t.Run(tc.name, func(t *testing.T) {
				c, want := tc.c, tc.want
				t.Run("Entities", func(t *testing.T) {
					var got struct{ All, Components entityPage }
					c.MustQuery(t, `{
						all: entities(first: 1000) { edges { node { ref } } totalCount }
						components: entities(filter: {kind: ["Component"]}, first: 1) { edges { node { ref } } totalCount }
					}`, nil, &got)
					if diff := cmp.Diff(want.entities, got.All.refs()); diff != "" {
						t.Errorf("entities mismatch (-want +got):\n%s", diff)
					}
					if got.All.TotalCount != len(want.entities) {
						t.Errorf("totalCount %d; want %d", got.All.TotalCount, len(want.entities))
					}
					if got.Components.TotalCount != want.components {
						t.Errorf("components: totalCount %d; want %d", got.Components.TotalCount, want.components)
					}
				})
				t.Run("Facets", func(t *testing.T) {
					_, r := c.post(t, `{ entityFacets(facets: ["kind", "owner"]) { facet values { value count } } }`, nil)
					var got struct{ EntityFacets json.RawMessage }
					mustData(t, r, &got)
					if diff := diffJSON(t, want.facets, got.EntityFacets); diff != "" {
						t.Errorf("facets mismatch (-want +got):\n%s", diff)
					}
				})
				t.Run("EntitiesByRefs", func(t *testing.T) {
					var got struct{ EntitiesByRefs []*refNode }
					c.MustQuery(t, `{ entitiesByRefs(refs: ["component:a-svc", "component:b-svc", "resource:shared-db", "component:nope"]) { ref } }`, nil, &got)
					refs := make([]string, len(got.EntitiesByRefs))
					for i, n := range got.EntitiesByRefs {
						if n != nil {
							refs[i] = n.Ref
						}
					}
					if diff := cmp.Diff(want.byRefs, refs); diff != "" {
						t.Errorf("entitiesByRefs mismatch (-want +got):\n%s", diff)
					}
				})
				t.Run("Entity", func(t *testing.T) {
					for _, ref := range []string{"component:default/a-svc", "component:default/b-svc", "group:default/team-a", "user:default/bob"} {
						var got struct{ Entity *refNode }
						c.MustQuery(t, `query($ref: String!) { entity(ref: $ref) { ref } }`, map[string]any{"ref": ref}, &got)
						if visible := slices.Contains(want.entities, ref); visible != (got.Entity != nil) {
							t.Errorf("entity(%s) = %+v; want it visible: %v", ref, got.Entity, visible)
						}
					}
				})
				t.Run("Traverse", func(t *testing.T) {
					for _, tc := range []struct {
						from string
						want []string
					}{{"resource:default/shared-db", want.blast}, {"component:default/b-svc", want.fromB}} {
						var got struct {
							Entity *struct {
								Traverse struct {
									TotalCount int
									Edges      []struct {
										Depth int
										Path  []string
										Node  refNode
									}
								}
							}
						}
						c.MustQuery(t, traverseQuery, map[string]any{"ref": tc.from, "relations": []string{"dependsOn"}, "direction": "INCOMING"}, &got)
						if tc.want == nil {
							if got.Entity != nil {
								t.Errorf("%s is visible; want null", tc.from)
							}
							continue
						}
						if got.Entity == nil {
							t.Fatalf("%s is null; want it visible", tc.from)
						}
						hits := []string{}
						for _, e := range got.Entity.Traverse.Edges {
							path := make([]string, len(e.Path))
							for i, r := range e.Path {
								path[i] = shortRef(r)
							}
							hits = append(hits, fmt.Sprintf("%s %d %s", shortRef(e.Node.Ref), e.Depth, strings.Join(path, ">")))
						}
						if diff := cmp.Diff(tc.want, hits); diff != "" {
							t.Errorf("traverse from %s mismatch (-want +got):\n%s", tc.from, diff)
						}
						if got.Entity.Traverse.TotalCount != len(tc.want) {
							t.Errorf("traverse from %s: totalCount %d; want %d", tc.from, got.Entity.Traverse.TotalCount, len(tc.want))
						}
					}
				})
				t.Run("RelatedFields", func(t *testing.T) {
					_, r := c.post(t, `{
						a: entity(ref: "component:a-svc") { owner { ref } ... on Component { dependsOn { ref } dependents { ref } } }
						db: entity(ref: "resource:shared-db") { owner { ref } ... on Resource { dependents { ref } } }
					}`, nil)
					if len(r.Errors) > 0 {
						t.Fatalf("errors %+v", r.Errors)
					}
					if diff := diffJSON(t, want.related, sortedDependents(t, r.Data)); diff != "" {
						t.Errorf("related fields mismatch (-want +got):\n%s", diff)
					}
				})
				t.Run("ViewerOwns", func(t *testing.T) {
					var got struct{ Viewer struct{ Owns entityPage } }
					c.MustQuery(t, `{ viewer { owns(first: 100) { edges { node { ref } } totalCount } } }`, nil, &got)
					if diff := cmp.Diff(want.owns, got.Viewer.Owns.refs()); diff != "" {
						t.Errorf("owns mismatch (-want +got):\n%s", diff)
					}
					if got.Viewer.Owns.TotalCount != len(want.owns) {
						t.Errorf("owns: totalCount %d; want %d", got.Viewer.Owns.TotalCount, len(want.owns))
					}
				})
			})
		}
	})
}

// sortedDependents sorts the dependents lists in data by ref, since the
// schema promises no order.
func sortedDependents(t *testing.T, data json.RawMessage) json.RawMessage {
	t.Helper()
	var m map[string]map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, e := range m {
		if deps, ok := e["dependents"].([]any); ok {
			slices.SortFunc(deps, func(a, b any) int {
				return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
			})
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type auditEvent struct {
	ID           string
	At           string
	Actor        *string
	ActorKind    string
	Action       string
	Target       *string
	Arguments    map[string]any
	Outcome      string
	ErrorCode    *string
	ErrorMessage *string
	RequestID    *string
}

const auditQuery = `query($filter: AuditEventFilter, $first: Int, $after: String) {
	auditEvents(filter: $filter, first: $first, after: $after) {
		edges { cursor node { id at actor actorKind action target arguments outcome errorCode errorMessage requestId } }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
	}
}`

type auditPage struct {
	Edges []struct {
		Cursor string
		Node   auditEvent
	}
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
}

func (p auditPage) events() []auditEvent {
	out := make([]auditEvent, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node
	}
	return out
}

// MustAudit returns one page of audit events.
func (c caller) MustAudit(t *testing.T, vars map[string]any) auditPage {
	t.Helper()
	var got struct{ AuditEvents auditPage }
	c.MustQuery(t, auditQuery, vars, &got)
	return got.AuditEvents
}

// summary is an audit event without its id, time and request id: who did
// what to what, and how it ended.
func (e auditEvent) summary() string {
	s := fmt.Sprintf("%s %s %s(%s) %s", deref(e.Actor), e.ActorKind, e.Action, deref(e.Target), e.Outcome)
	if e.ErrorCode != nil {
		s += " " + *e.ErrorCode
	}
	return s
}

func summaries(events []auditEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.summary()
	}
	return out
}

func TestAudit_Mutations(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		cat := MustWriteSecurityCatalog(t)
		eng := MustIngest(t, db, cat.org, cat.team)
		srv := MustServeSecure(t, db, eng, maintainPolicy, identity.Options{})
		alice, admin := as(t, srv, "user:default/alice"), as(t, srv, "user:default/admin")
		bob := as(t, srv, "user:default/bob")
		bob.requestID = "audit-test-bob-delete"
		newFile := MustWriteFile(t, t.TempDir(), "new.yaml", component("audited"))
		const docs = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: checked\n"

		// One of each mutation, by several callers, with each outcome.
		var reg struct{ RegisterLocation registerPayload }
		admin.MustQuery(t, registerMutation, map[string]any{"type": "file", "target": newFile, "dryRun": true}, &reg)
		admin.MustQuery(t, registerMutation, map[string]any{"type": "file", "target": newFile}, &reg)
		if reg.RegisterLocation.Location == nil {
			t.Fatal("registerLocation made no location")
		}
		id := reg.RegisterLocation.Location.ID
		var ok struct{}
		admin.MustQuery(t, refreshMutation, map[string]any{"id": id}, &ok)
		alice.MustQuery(t, refreshEntityMutation, map[string]any{"ref": "component:default/dept-svc"}, &ok)
		denied := bob.wantForbidden(t, deleteEntityMutation, map[string]any{"ref": "component:default/dept-svc"})
		if code, msg := admin.MustFail(t, deleteEntityMutation, map[string]any{"ref": "component:default/dept-svc"}); code != portal.ECONFLICT {
			t.Fatalf("code %q (message %q); want CONFLICT", code, msg)
		}
		anonymous(srv).MustQuery(t, validateMutation, map[string]any{"yaml": docs}, &ok)
		admin.MustQuery(t, deleteLocationMutation, map[string]any{"id": id}, &ok)

		all := admin.MustAudit(t, nil)
		events := all.events()

		t.Run("OneEventPerMutationNewestFirst", func(t *testing.T) {
			want := []string{
				"user:default/admin user deleteLocation(" + id + ") ok",
				" anonymous validateEntities() ok",
				"user:default/admin user deleteEntity(component:default/dept-svc) error CONFLICT",
				"user:default/bob user deleteEntity(component:default/dept-svc) denied FORBIDDEN",
				"user:default/alice user refreshEntity(component:default/dept-svc) ok",
				"user:default/admin user refreshLocation(" + id + ") ok",
				"user:default/admin user registerLocation(" + newFile + ") ok",
				"user:default/admin user registerLocation(" + newFile + ") ok",
			}
			if diff := cmp.Diff(want, summaries(events)); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
			if all.PageInfo.HasNextPage {
				t.Error("hasNextPage on the only page")
			}
			var prev time.Time
			for i, e := range events {
				at, err := time.Parse(time.RFC3339Nano, e.At)
				if err != nil {
					t.Errorf("event %d: at %q is not RFC 3339", i, e.At)
				}
				if i > 0 && at.After(prev) {
					t.Errorf("event %d at %s is after the one before it, %s: want newest first", i, at, prev)
				}
				if time.Since(at) > time.Minute || time.Until(at) > time.Minute {
					t.Errorf("event %d at %s; want about now", i, at)
				}
				prev = at
				if e.ID == "" || e.RequestID == nil || *e.RequestID == "" {
					t.Errorf("event %d: id %q request id %v; want both", i, e.ID, e.RequestID)
				}
			}
		})

		t.Run("Arguments", func(t *testing.T) {
			if len(events) != 8 {
				t.Fatalf("%d events; want 8", len(events))
			}
			got := make([]map[string]any, len(events))
			for i, e := range events {
				got[i] = e.Arguments
			}
			want := []map[string]any{
				{"id": id},
				{"yaml": map[string]any{"sha256": fmt.Sprintf("%x", sha256.Sum256([]byte(docs))), "bytes": float64(len(docs))}},
				{"ref": "component:default/dept-svc"},
				{"ref": "component:default/dept-svc"},
				{"ref": "component:default/dept-svc"},
				{"id": id},
				{"type": "file", "target": newFile, "dryRun": false},
				{"type": "file", "target": newFile, "dryRun": true},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("arguments mismatch (-want +got):\n%s", diff)
			}
			d := events[3]
			if deref(d.ErrorMessage) != denied {
				t.Errorf("denied event's message %q; want the caller's %q", deref(d.ErrorMessage), denied)
			}
			if deref(d.RequestID) != bob.requestID {
				t.Errorf("denied event's request id %q; want the X-Request-ID sent, %q", deref(d.RequestID), bob.requestID)
			}
			if e := events[0]; e.ErrorCode != nil || e.ErrorMessage != nil {
				t.Errorf("ok event has error %v %v", deref(e.ErrorCode), deref(e.ErrorMessage))
			}
			if !strings.Contains(deref(events[2].ErrorMessage), "still emitted") {
				t.Errorf("error event's message %q; want the CONFLICT's", deref(events[2].ErrorMessage))
			}
		})

		t.Run("Filters", func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				filter map[string]any
				want   []int // indexes into events
			}{
				{"Actors", map[string]any{"actors": []string{"user:default/admin"}}, []int{0, 2, 5, 6, 7}},
				{"ActorsAnyOf", map[string]any{"actors": []string{"user:default/alice", "user:default/bob"}}, []int{3, 4}},
				{"Actions", map[string]any{"actions": []string{"deleteEntity"}}, []int{2, 3}},
				{"Outcomes", map[string]any{"outcomes": []string{"denied"}}, []int{3}},
				{"OutcomesAnyOf", map[string]any{"outcomes": []string{"error", "denied"}}, []int{2, 3}},
				{"Targets", map[string]any{"targets": []string{id}}, []int{0, 5}},
				{"AllOf", map[string]any{"actors": []string{"user:default/admin"}, "actions": []string{"deleteEntity", "registerLocation"}, "outcomes": []string{"ok"}}, []int{6, 7}},
				{"None", map[string]any{"actors": []string{"user:default/nobody"}}, []int{}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					want := make([]string, len(tc.want))
					for i, j := range tc.want {
						want[i] = events[j].ID
					}
					got := admin.MustAudit(t, map[string]any{"filter": tc.filter})
					ids := make([]string, len(got.Edges))
					for i, e := range got.Edges {
						ids[i] = e.Node.ID
					}
					if diff := cmp.Diff(want, ids); diff != "" {
						t.Errorf("events mismatch (-want +got):\n%s\ngot %q", diff, summaries(got.events()))
					}
				})
			}
		})

		t.Run("Paging", func(t *testing.T) {
			var ids []string
			var after any
			for page := 0; ; page++ {
				if page > 3 {
					t.Fatal("more than 3 pages of 3 for 8 events")
				}
				p := admin.MustAudit(t, map[string]any{"first": 3, "after": after})
				if want := min(3, len(events)-len(ids)); len(p.Edges) != want {
					t.Fatalf("page %d has %d events; want %d", page, len(p.Edges), want)
				}
				for _, e := range p.Edges {
					ids = append(ids, e.Node.ID)
				}
				if p.PageInfo.HasPreviousPage != (page > 0) {
					t.Errorf("page %d: hasPreviousPage %v", page, p.PageInfo.HasPreviousPage)
				}
				if !p.PageInfo.HasNextPage {
					break
				}
				after = *p.PageInfo.EndCursor
			}
			want := make([]string, len(events))
			for i, e := range events {
				want[i] = e.ID
			}
			if diff := cmp.Diff(want, ids); diff != "" {
				t.Errorf("paged events mismatch (-want +got):\n%s", diff)
			}
			// A cursor belongs to its filter.
			p := admin.MustAudit(t, map[string]any{"first": 1})
			code, _ := admin.MustFail(t, auditQuery, map[string]any{
				"first": 1, "after": *p.PageInfo.EndCursor, "filter": map[string]any{"actions": []string{"deleteEntity"}},
			})
			if code != portal.EINVALID {
				t.Errorf("cursor of another filter: code %q; want INVALID", code)
			}
		})

		t.Run("ErrForbidden", func(t *testing.T) {
			for _, c := range []caller{alice, bob, anonymous(srv), as(t, srv, "service:deploy-bot")} {
				msg := c.wantForbidden(t, auditQuery, nil)
				if !strings.Contains(msg, "audit.event.read") {
					t.Errorf("message %q; want it to name audit.event.read", msg)
				}
			}
			// Reading the log is not a mutation: no event was added.
			if got := admin.MustAudit(t, nil); len(got.Edges) != len(events) {
				t.Errorf("%d events after reads; want %d", len(got.Edges), len(events))
			}
		})
	})
}
