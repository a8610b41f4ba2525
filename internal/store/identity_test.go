package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// orgCatalog is an org chart with nested groups. jane.doe's chain climbs
// team-a → dept → org and then back to dept (a cycle); bob's groups form a
// ring of three; sam is a member only because team-b lists him; ghost is
// listed by team-b but has no User entity.
const orgCatalog = `apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jane.doe}
spec:
  profile: {email: Jane.Doe@Example.com}
  memberOf: [team-a, group:ops/oncall]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, profile: {email: team-a@example.com}, parent: dept, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: dept}
spec: {type: department, parent: org, children: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: org}
spec: {type: organization, parent: dept, children: [dept, other-team]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: other-team}
spec: {type: team, parent: org, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: oncall, namespace: ops}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: bob}
spec:
  profile: {email: bob@example.com}
  memberOf: [ring-1]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: ring-1}
spec: {type: team, parent: ring-2, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: ring-2}
spec: {type: team, parent: ring-3, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: ring-3}
spec: {type: team, parent: ring-1, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: sam}
spec: {memberOf: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b}
spec: {type: team, children: [], members: [sam, ghost]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: carol}
spec:
  profile: {email: carol@example.com}
  memberOf: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: carol-ci}
spec:
  profile: {email: carol+ci@example.com}
  memberOf: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: twin-1}
spec:
  profile: {email: twin@example.com}
  memberOf: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: twin-2}
spec:
  profile: {email: TWIN@example.com}
  memberOf: []
`

// chainCatalog is a user whose group has more parents above it than
// [store.MaxGroupDepth].
func chainCatalog() string {
	docs := []string{"apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: deep}\nspec: {memberOf: [chain-0]}\n"}
	for i := 0; i <= store.MaxGroupDepth+3; i++ {
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: chain-%d}\nspec: {type: team, parent: chain-%d, children: []}\n", i, i+1))
	}
	docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: chain-%d}\nspec: {type: team, children: []}\n", store.MaxGroupDepth+4))
	return strings.Join(docs, "---\n")
}

// mustIngestFiles writes each content to a file of its own, registers the
// files as locations and reads them, as a running server would. It fails
// the test on any processing error except those mentioning one of allowed.
func mustIngestFiles(tb testing.TB, db *store.DB, allowed []string, contents ...string) {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	eng := ingest.NewEngine(db, ingest.Options{})
	for i, content := range contents {
		p := filepath.Join(dir, fmt.Sprintf("catalog-%d.yaml", i))
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
		loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, p)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := eng.Refresh(ctx, loc); err != nil {
			tb.Fatal(err)
		}
	}
	errs, err := db.LocationErrors(ctx, "")
	if err != nil {
		tb.Fatal(err)
	}
next:
	for _, e := range errs {
		for _, a := range allowed {
			if strings.Contains(e.Message, a) {
				continue next
			}
		}
		tb.Fatalf("processing error in test catalog: %s: %s", e.EntityRef, e.Message)
	}
}

func TestDB_Ownership(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mustIngestFiles(t, db, []string{"ghost"}, orgCatalog, chainCatalog())

		var chain []string
		for i := 0; i <= store.MaxGroupDepth; i++ {
			chain = append(chain, fmt.Sprintf("group:default/chain-%d", i))
		}
		slices.Sort(chain)

		tests := []struct {
			name      string
			ref       string
			want      []string
			wantFound bool
		}{
			{
				name: "transitive through a cycle, across namespaces",
				ref:  "user:default/jane.doe",
				want: []string{
					"user:default/jane.doe", "group:default/dept", "group:default/org",
					"group:default/team-a", "group:ops/oncall",
				},
				wantFound: true,
			},
			{
				name: "ref in any case",
				ref:  "User:Default/Jane.Doe",
				want: []string{
					"user:default/jane.doe", "group:default/dept", "group:default/org",
					"group:default/team-a", "group:ops/oncall",
				},
				wantFound: true,
			},
			{
				name:      "a ring of parents",
				ref:       "user:default/bob",
				want:      []string{"user:default/bob", "group:default/ring-1", "group:default/ring-2", "group:default/ring-3"},
				wantFound: true,
			},
			{
				name:      "membership declared by the group",
				ref:       "user:default/sam",
				want:      []string{"user:default/sam", "group:default/team-b"},
				wantFound: true,
			},
			{
				name:      "no groups",
				ref:       "user:default/carol",
				want:      []string{"user:default/carol"},
				wantFound: true,
			},
			{
				name:      "capped at MaxGroupDepth parents",
				ref:       "user:default/deep",
				want:      append([]string{"user:default/deep"}, chain...),
				wantFound: true,
			},
			{
				name:      "not in the catalog but listed by a group",
				ref:       "user:default/ghost",
				want:      []string{"user:default/ghost"},
				wantFound: false,
			},
			{
				name:      "unknown",
				ref:       "user:default/nobody",
				want:      []string{"user:default/nobody"},
				wantFound: false,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := db.ReadStatements()
				refs, found, err := db.Ownership(ctx, tt.ref)
				if err != nil {
					t.Fatal(err)
				}
				if n := db.ReadStatements() - before; n != 1 {
					t.Errorf("Ownership ran %d statements; want 1", n)
				}
				if diff := cmp.Diff(tt.want, refs); diff != "" {
					t.Errorf("refs mismatch (-want +got):\n%s", diff)
				}
				if found != tt.wantFound {
					t.Errorf("found = %v; want %v", found, tt.wantFound)
				}
			})
		}
	})
}

func TestDB_UserByEmail(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mustIngestFiles(t, db, []string{"ghost"}, orgCatalog)

		t.Run("OK", func(t *testing.T) {
			for email, want := range map[string]string{
				"jane.doe@example.com":        "user:default/jane.doe",
				" JANE.DOE@EXAMPLE.COM ":      "user:default/jane.doe",
				"jane.doe+portal@example.com": "user:default/jane.doe",
				"bob+a+b@example.com":         "user:default/bob",
				"carol+ci@example.com":        "user:default/carol-ci", // the address as given wins
				"carol+other@example.com":     "user:default/carol",
			} {
				before := db.ReadStatements()
				got, err := db.UserByEmail(ctx, email)
				if err != nil {
					t.Errorf("UserByEmail(%q): %v", email, err)
					continue
				}
				if got != want {
					t.Errorf("UserByEmail(%q) = %q; want %q", email, got, want)
				}
				if n := db.ReadStatements() - before; n != 1 {
					t.Errorf("UserByEmail(%q) ran %d statements; want 1", email, n)
				}
			}
		})
		t.Run("ErrConflict", func(t *testing.T) {
			for _, email := range []string{"twin@example.com", "twin+x@example.com"} {
				_, err := db.UserByEmail(ctx, email)
				if code := portal.ErrorCode(err); code != portal.ECONFLICT {
					t.Errorf("UserByEmail(%q) error %v (code %s); want %s", email, err, code, portal.ECONFLICT)
				}
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			// A group's profile email does not name a user.
			for _, email := range []string{"nobody@example.com", "team-a@example.com", "jane.doe@example.org", "+x@example.com"} {
				_, err := db.UserByEmail(ctx, email)
				if code := portal.ErrorCode(err); code != portal.ENOTFOUND {
					t.Errorf("UserByEmail(%q) error %v (code %s); want %s", email, err, code, portal.ENOTFOUND)
				}
			}
			_, err := db.UserByEmail(ctx, "Nobody@example.com")
			if got, want := portal.ErrorMessage(err), "no user with email nobody@example.com"; got != want {
				t.Errorf("message %q; want %q", got, want)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			if _, err := db.UserByEmail(ctx, " "); portal.ErrorCode(err) != portal.EINVALID {
				t.Errorf("UserByEmail(\" \") error %v; want %s", err, portal.EINVALID)
			}
		})
	})
}

// grantsDocs is an org whose file later drops leaver, left, dept and
// gone-team, and breaks kept's document (see TestDB_Ownership_OnlyWhatGrants);
// bad-team and broken never validate. left shares an address with stays.
var grantsDocs = map[string]string{
	"jane":   "kind: User\nmetadata: {name: jane}\nspec: {memberOf: [team-a]}\n",
	"leaver": "kind: User\nmetadata: {name: leaver}\nspec: {profile: {email: leaver@example.com}, memberOf: [team-a]}\n",
	"stays":  "kind: User\nmetadata: {name: stays}\nspec: {profile: {email: shared@example.com}, memberOf: []}\n",
	"left":   "kind: User\nmetadata: {name: left}\nspec: {profile: {email: shared@example.com}, memberOf: []}\n",
	"sam":    "kind: User\nmetadata: {name: sam}\nspec: {memberOf: []}\n",
	"kept":   "kind: User\nmetadata: {name: kept}\nspec: {memberOf: [team-a]}\n",
	// No memberOf: stored without a good version.
	"broken":    "kind: User\nmetadata: {name: broken}\nspec: {profile: {email: broken@example.com}}\n",
	"team-a":    "kind: Group\nmetadata: {name: team-a}\nspec: {type: team, parent: dept, children: []}\n",
	"dept":      "kind: Group\nmetadata: {name: dept}\nspec: {type: department, parent: org, children: []}\n",
	"org":       "kind: Group\nmetadata: {name: org}\nspec: {type: organization, children: []}\n",
	"gone-team": "kind: Group\nmetadata: {name: gone-team}\nspec: {type: team, parent: org, children: [], members: [sam]}\n",
	// No type: stored without a good version.
	"bad-team": "kind: Group\nmetadata: {name: bad-team}\nspec: {parent: org, children: [], members: [sam]}\n",
}

// grantsFile joins grantsDocs but those named in without, with kept's
// document broken when breakKept is set.
func grantsFile(breakKept bool, without ...string) string {
	var docs []string
	for name, doc := range grantsDocs {
		if slices.Contains(without, name) {
			continue
		}
		if name == "kept" && breakKept {
			// Invalid (profile is not an object), and naming one more group.
			doc = "kind: User\nmetadata: {name: kept}\nspec: {memberOf: [team-a, org], profile: nope}\n"
		}
		docs = append(docs, "apiVersion: backstage.io/v1alpha1\n"+doc)
	}
	slices.Sort(docs)
	return strings.Join(docs, "---\n")
}

// TestDB_Ownership_OnlyWhatGrants checks that orphaned users and groups,
// and entities stored without a good version, grant nothing, while a user
// whose document broke keeps what its last good version grants.
func TestDB_Ownership_OnlyWhatGrants(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := filepath.Join(t.TempDir(), "org.yaml")
		loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, p)
		if err != nil {
			t.Fatal(err)
		}
		eng := ingest.NewEngine(db, ingest.Options{})
		refresh := func(content string) {
			t.Helper()
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := eng.Refresh(ctx, loc); err != nil {
				t.Fatal(err)
			}
		}
		type result struct {
			Refs  []string
			Found bool
		}
		check := func(when string, want map[string]result) {
			t.Helper()
			for ref, w := range want {
				refs, found, err := db.Ownership(ctx, ref)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(w, result{refs, found}); diff != "" {
					t.Errorf("%s: %s mismatch (-want +got):\n%s", when, ref, diff)
				}
			}
		}
		checkEmail := func(when string, want map[string]string) {
			t.Helper()
			for email, w := range want {
				got, err := db.UserByEmail(ctx, email)
				switch {
				case w == "" && portal.ErrorCode(err) != portal.ENOTFOUND,
					w == "conflict" && portal.ErrorCode(err) != portal.ECONFLICT,
					w != "" && w != "conflict" && (err != nil || got != w):
					t.Errorf("%s: UserByEmail(%s) = %q, %v; want %q", when, email, got, err, w)
				}
			}
		}

		refresh(grantsFile(false))
		check("before", map[string]result{
			"user:default/jane":   {[]string{"user:default/jane", "group:default/dept", "group:default/org", "group:default/team-a"}, true},
			"user:default/leaver": {[]string{"user:default/leaver", "group:default/dept", "group:default/org", "group:default/team-a"}, true},
			// bad-team lists sam, but was never valid.
			"user:default/sam": {[]string{"user:default/sam", "group:default/gone-team", "group:default/org"}, true},
			// broken's entity is stored, but was never valid.
			"user:default/broken": {[]string{"user:default/broken"}, false},
		})
		checkEmail("before", map[string]string{
			"leaver@example.com": "user:default/leaver",
			"broken@example.com": "",
			"shared@example.com": "conflict",
		})

		refresh(grantsFile(true, "leaver", "left", "dept", "gone-team"))
		recs, err := db.EntitiesByRefs(ctx, []string{"user:default/leaver", "user:default/left", "group:default/dept", "group:default/gone-team", "user:default/broken"})
		if err != nil {
			t.Fatal(err)
		}
		var orphans []string
		for _, r := range recs {
			if r.Orphan {
				orphans = append(orphans, r.Ref)
			}
		}
		if len(recs) != 5 || len(orphans) != 4 {
			t.Fatalf("orphans %v of %d entities; want the four the file dropped, all still stored", orphans, len(recs))
		}
		check("after", map[string]result{
			// dept is an orphan: team-a no longer leads to org through it.
			"user:default/jane":   {[]string{"user:default/jane", "group:default/team-a"}, true},
			"user:default/leaver": {[]string{"user:default/leaver"}, false},
			"user:default/sam":    {[]string{"user:default/sam"}, true},
			// kept's last good version is what the catalog serves, and it
			// grants what it did; the broken document adds nothing.
			"user:default/kept":   {[]string{"user:default/kept", "group:default/team-a"}, true},
			"user:default/broken": {[]string{"user:default/broken"}, false},
		})
		checkEmail("after", map[string]string{
			"leaver@example.com": "",
			"broken@example.com": "",
			"shared@example.com": "user:default/stays",
		})
	})
}
