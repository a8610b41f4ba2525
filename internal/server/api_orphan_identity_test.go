package server_test

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/identity"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// withoutDocs returns the documents of yamlText but those of the entities
// named.
func withoutDocs(yamlText string, names ...string) string {
	var keep []string
	for _, doc := range strings.Split(yamlText, "---\n") {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(doc, "\n  name: "+n+"\n") }) {
			keep = append(keep, doc)
		}
	}
	return strings.Join(keep, "---\n")
}

// wantUnauthenticated checks that a request is refused as a token for an
// unknown user is, before GraphQL runs.
func (c caller) wantUnauthenticated(t *testing.T, wantMessage string) {
	t.Helper()
	resp, r := c.post(t, viewerQuery, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d; want 401", resp.StatusCode)
	}
	if len(r.Errors) != 1 || r.Data != nil {
		t.Fatalf("data %s errors %+v; want one error and no data", r.Data, r.Errors)
	}
	if code := r.Errors[0].Extensions["code"]; code != portal.EUNAUTHENTICATED {
		t.Errorf("code %v (message %q); want UNAUTHENTICATED", code, r.Errors[0].Message)
	}
	if msg := r.Errors[0].Message; !strings.Contains(msg, wantMessage) {
		t.Errorf("message %q; want it to say %q", msg, wantMessage)
	}
}

// TestAuth_RemovedFromCatalog checks that users and groups removed from
// their file, and kept as orphans, grant nothing from the refresh on: the
// removed user's token, old or new, is refused at once, and the members of
// removed groups lose what the groups owned and the policy rules naming
// them.
func TestAuth_RemovedFromCatalog(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		cat := MustWriteSecurityCatalog(t)
		eng := MustIngest(t, db, cat.org, cat.team)
		srv := MustServeSecure(t, db, eng, maintainPolicy, identity.Options{})
		lax := MustServeSecure(t, db, eng, maintainPolicy, identity.Options{AllowUnknownUsers: true})
		alice, bob, admin := as(t, srv, "user:default/alice"), as(t, srv, "user:default/bob"), as(t, srv, "user:default/admin")
		laxAlice := caller{srv: lax, authorization: alice.authorization}
		bSvc := map[string]any{"ref": "component:default/b-svc"}
		const deletePerm = "catalog.entity.delete"

		// Before: every caller is resolved, and cached, with its groups.
		if got := alice.MustViewer(t); deref(got.Ref) != "user:default/alice" || len(got.OwnershipRefs) != 4 || got.User == nil {
			t.Fatalf("alice before: %+v; want her, her three groups and her entity", got)
		}
		if got := laxAlice.MustViewer(t); len(got.OwnershipRefs) != 4 {
			t.Fatalf("alice on the lax server before: %+v; want her three groups", got)
		}
		if got := bob.MustViewer(t); !slices.Equal(got.OwnershipRefs, []string{"user:default/bob", "group:default/team-b"}) {
			t.Fatalf("bob before: %+v; want him of team-b", got)
		}
		var refreshed struct{ RefreshEntity struct{ Entity refNode } }
		bob.MustQuery(t, refreshEntityMutation, bSvc, &refreshed) // as an owner, through team-b
		if d := admin.MustExplain(t, deletePerm, "component:default/b-svc"); !d.Allowed || deref(d.Rule) != "admins-do-everything" {
			t.Fatalf("admin before: %+v; want allowed by admins-do-everything", d)
		}

		// alice, team-b and admins leave the org's file; an admin's refresh
		// through the API reads it again, and they stay as orphans.
		MustWriteFile(t, filepath.Dir(cat.org), "org.yaml", withoutDocs(orgYAML, "alice", "team-b", "admins"))
		admin.MustQuery(t, refreshEntityMutation, map[string]any{"ref": "group:default/org"}, &refreshed)
		for _, ref := range []string{"user:default/alice", "group:default/team-b", "group:default/admins"} {
			var e struct{ Entity *struct{ Orphan bool } }
			bob.MustQuery(t, `query($ref: String!) { entity(ref: $ref) { orphan } }`, map[string]any{"ref": ref}, &e)
			if e.Entity == nil || !e.Entity.Orphan {
				t.Fatalf("%s is %+v after its file dropped it; want an orphan", ref, e.Entity)
			}
		}

		t.Run("RemovedUserRefused", func(t *testing.T) {
			// No waiting for the identity cache: the token she had, and a
			// new one, are refused on the next request.
			alice.wantUnauthenticated(t, "user:default/alice is not in the catalog")
			as(t, srv, "alice").wantUnauthenticated(t, "user:default/alice is not in the catalog")
		})

		t.Run("RemovedUserUnknownWhenAllowed", func(t *testing.T) {
			// With allowUnknownUsers she is let in as any unknown user is:
			// owning through her own ref, with no entity and no groups.
			want := viewer{Kind: "USER", Ref: ptr("user:default/alice"), OwnershipRefs: []string{"user:default/alice"}, Groups: []refNode{}}
			if diff := cmp.Diff(want, laxAlice.MustViewer(t)); diff != "" {
				t.Errorf("viewer mismatch (-want +got):\n%s", diff)
			}
		})

		t.Run("RemovedGroupOwnsNothing", func(t *testing.T) {
			want := viewer{Kind: "USER", Ref: ptr("user:default/bob"), OwnershipRefs: []string{"user:default/bob"},
				Groups: []refNode{}, User: &refNode{"user:default/bob"}}
			if diff := cmp.Diff(want, bob.MustViewer(t)); diff != "" {
				t.Errorf("viewer mismatch (-want +got):\n%s", diff)
			}
			if msg := bob.wantForbidden(t, refreshEntityMutation, bSvc); !strings.Contains(msg, "owners-maintain") {
				t.Errorf("message %q; want it to name owners-maintain", msg)
			}
			var owns struct {
				Viewer struct{ Owns struct{ TotalCount int } }
			}
			bob.MustQuery(t, `{ viewer { owns { totalCount } } }`, nil, &owns)
			if owns.Viewer.Owns.TotalCount != 0 {
				t.Errorf("bob owns %d entities; want none", owns.Viewer.Owns.TotalCount)
			}
		})

		t.Run("RemovedGroupMatchesNoRule", func(t *testing.T) {
			d := admin.MustExplain(t, deletePerm, "component:default/b-svc")
			if d.Allowed {
				t.Errorf("admin after: %+v; want denied: admins is an orphan", d)
			}
			if msg := admin.wantForbidden(t, deleteEntityMutation, bSvc); !strings.Contains(msg, "admins-do-everything") {
				t.Errorf("message %q; want it to name admins-do-everything", msg)
			}
		})
	})
}
