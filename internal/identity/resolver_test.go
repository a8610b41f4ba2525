package identity_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/identity"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// orgCatalog nests jane.doe's team two levels deep, with a cycle at the
// top (org's parent is dept), and bob's groups in a ring of their own.
const orgCatalog = `apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jane.doe}
spec:
  profile: {email: jane.doe@example.com}
  memberOf: [team-a]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, parent: dept, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: dept}
spec: {type: department, parent: org, children: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: org}
spec: {type: organization, parent: dept, children: [dept]}
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
spec: {type: team, parent: ring-1, children: []}
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
  profile: {email: twin@example.com}
  memberOf: []
`

var (
	jane = &portal.Principal{
		Kind: portal.PrincipalUser, Ref: "user:default/jane.doe", InCatalog: true,
		Ownership: []string{"user:default/jane.doe", "group:default/dept", "group:default/org", "group:default/team-a"},
	}
	bob = &portal.Principal{
		Kind: portal.PrincipalUser, Ref: "user:default/bob", InCatalog: true,
		Ownership: []string{"user:default/bob", "group:default/ring-1", "group:default/ring-2"},
	}
)

// MustOpenCatalog returns a database holding orgCatalog, ingested from a
// file as a running server would.
func MustOpenCatalog(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "org.yaml")
	if err := os.WriteFile(p, []byte(orgCatalog), 0o644); err != nil {
		t.Fatal(err)
	}
	loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.NewEngine(db, ingest.Options{}).Refresh(ctx, loc); err != nil {
		t.Fatal(err)
	}
	if errs, err := db.LocationErrors(ctx, ""); err != nil || len(errs) > 0 {
		t.Fatalf("test catalog has problems: %v %v", errs, err)
	}
	return db
}

func TestResolver_Principal(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		r := identity.NewResolver(MustOpenCatalog(t, db), identity.Options{})
		ctx := context.Background()

		t.Run("OK", func(t *testing.T) {
			deployBot := &portal.Principal{Kind: portal.PrincipalService, Ref: "service:deploy-bot", Ownership: []string{"service:deploy-bot"}}
			for _, tt := range []struct {
				name, subject, email string
				want                 *portal.Principal
			}{
				{"full ref", "user:default/jane.doe", "", jane},
				{"kind and namespace left out", "jane.doe", "", jane},
				{"namespace left out, any case", "User:Jane.Doe", "", jane},
				{"ring of parents", "user:default/bob", "", bob},
				{"subject wins over email", "bob", "jane.doe@example.com", bob},
				{"email", "", "Jane.Doe@Example.com", jane},
				{"email with a +tag", "", "jane.doe+portal@example.com", jane},
				{"service", "service:deploy-bot", "", deployBot},
				{"service in any case", "Service:Deploy-Bot", "", deployBot},
			} {
				t.Run(tt.name, func(t *testing.T) {
					got, err := r.Principal(ctx, tt.subject, tt.email)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("principal mismatch (-want +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("ErrUnauthenticated", func(t *testing.T) {
			for _, tt := range []struct {
				name, subject, email, message string
			}{
				{"not in the catalog", "user:default/nobody", "", "user:default/nobody is not in the catalog"},
				{"not a user", "group:default/team-a", "", "token subject group:default/team-a is not a user"},
				{"not a ref", "user:/x", "", `token subject "user:/x" is not an entity ref`},
				{"no service name", "service:", "", `token subject "service:" names no service`},
				{"unknown email", "", "nobody@example.com", "no user with email nobody@example.com is in the catalog"},
				{"email of several users", "", "twin@example.com", "several users in the catalog have email twin@example.com"},
				{"nothing", " ", "", "token names neither a subject nor an email"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					p, err := r.Principal(ctx, tt.subject, tt.email)
					if code := portal.ErrorCode(err); code != portal.EUNAUTHENTICATED || p != nil {
						t.Fatalf("got %+v, %v (code %s); want no principal, %s", p, err, code, portal.EUNAUTHENTICATED)
					}
					if got := portal.ErrorMessage(err); got != tt.message {
						t.Errorf("message %q; want %q", got, tt.message)
					}
				})
			}
		})
	})
}

func TestResolver_Principal_AllowUnknownUsers(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		r := identity.NewResolver(MustOpenCatalog(t, db), identity.Options{AllowUnknownUsers: true})
		ctx := context.Background()
		for _, tt := range []struct {
			name, subject, email string
			want                 *portal.Principal
		}{
			{"known user", "jane.doe", "", jane},
			{"unknown user", "user:ops/Nobody", "", &portal.Principal{
				Kind: portal.PrincipalUser, Ref: "user:ops/nobody", Ownership: []string{"user:ops/nobody"},
			}},
			{"unknown email, named without its +tag", "", "Nobody+CI@Example.com", &portal.Principal{
				Kind: portal.PrincipalUser, Ref: "user:default/nobody@example.com", Ownership: []string{"user:default/nobody@example.com"},
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := r.Principal(ctx, tt.subject, tt.email)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("principal mismatch (-want +got):\n%s", diff)
				}
			})
		}
		// The setting lets unknown users in, not callers that are no user
		// or that the catalog cannot tell apart.
		for _, subject := range []string{"group:default/team-a", ""} {
			email := ""
			if subject == "" {
				email = "twin@example.com"
			}
			if _, err := r.Principal(ctx, subject, email); portal.ErrorCode(err) != portal.EUNAUTHENTICATED {
				t.Errorf("Principal(%q, %q) error %v; want %s", subject, email, err, portal.EUNAUTHENTICATED)
			}
		}
	})
}

// statements returns how many statements fn makes db read.
func statements(db *store.DB, fn func()) int64 {
	before := db.ReadStatements()
	fn()
	return db.ReadStatements() - before
}

func TestResolver_Cache(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		r := identity.NewResolver(MustOpenCatalog(t, db), identity.Options{})
		ctx := context.Background()

		for _, tt := range []struct {
			name, subject, email string
			first                int64 // statements of the first call
		}{
			{"by ref", "user:default/jane.doe", "", 1},
			{"by email", "", "bob@example.com", 2},
			{"refusal", "user:default/nobody", "", 1},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var first, second *portal.Principal
				var err1, err2 error
				if n := statements(db, func() { first, err1 = r.Principal(ctx, tt.subject, tt.email) }); n != tt.first {
					t.Errorf("first call read %d statements; want %d", n, tt.first)
				}
				if n := statements(db, func() { second, err2 = r.Principal(ctx, tt.subject, tt.email) }); n != 0 {
					t.Errorf("second call read %d statements; want 0", n)
				}
				if diff := cmp.Diff(first, second); diff != "" {
					t.Errorf("second principal differs (-first +second):\n%s", diff)
				}
				if portal.ErrorCode(err1) != portal.ErrorCode(err2) || portal.ErrorMessage(err1) != portal.ErrorMessage(err2) {
					t.Errorf("second error %v; want %v", err2, err1)
				}
			})
		}

		t.Run("copies", func(t *testing.T) {
			p, err := r.Principal(ctx, "jane.doe", "")
			if err != nil {
				t.Fatal(err)
			}
			p.Ownership[1] = "group:default/admins"
			p.Ownership = append(p.Ownership, "group:default/admins")
			again, err := r.Principal(ctx, "jane.doe", "")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(jane, again); diff != "" {
				t.Errorf("a caller's change reached the cache (-want +got):\n%s", diff)
			}
		})
	})
}

func TestResolver_CacheExpiry(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		const ttl = time.Second
		r := identity.NewResolver(MustOpenCatalog(t, db), identity.Options{TTL: ttl})
		ctx := context.Background()
		call := func() {
			if _, err := r.Principal(ctx, "jane.doe", ""); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		if n := statements(db, call); n != 1 {
			t.Errorf("first call read %d statements; want 1", n)
		}
		n := statements(db, call)
		if time.Since(start) < ttl && n != 0 {
			t.Errorf("call within the TTL read %d statements; want 0", n)
		}
		time.Sleep(time.Until(start.Add(ttl + 100*time.Millisecond)))
		if n := statements(db, call); n != 1 {
			t.Errorf("call after the TTL read %d statements; want 1", n)
		}
	})
}

// failingCatalog is a real catalog whose next lookups fail as a database
// that went away would.
type failingCatalog struct {
	*store.DB
	fail  error
	calls int
}

func (c *failingCatalog) Ownership(ctx context.Context, ref string) ([]string, bool, error) {
	c.calls++
	if c.fail != nil {
		return nil, false, c.fail
	}
	return c.DB.Ownership(ctx, ref)
}

func (c *failingCatalog) UserByEmail(ctx context.Context, email string) (string, error) {
	c.calls++
	if c.fail != nil {
		return "", c.fail
	}
	return c.DB.UserByEmail(ctx, email)
}

func TestResolver_ErrorsNotCached(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		c := &failingCatalog{DB: MustOpenCatalog(t, db)}
		r := identity.NewResolver(c, identity.Options{})
		ctx := context.Background()
		for _, tt := range []struct{ subject, email string }{{"jane.doe", ""}, {"", "jane.doe@example.com"}} {
			c.fail = errors.New("dial tcp 127.0.0.1:5432: connection refused")
			if _, err := r.Principal(ctx, tt.subject, tt.email); portal.ErrorCode(err) != portal.EINTERNAL || !errors.Is(err, c.fail) {
				t.Errorf("Principal(%q, %q) with the database down: %v; want the database's error", tt.subject, tt.email, err)
			}
			c.fail, c.calls = nil, 0
			p, err := r.Principal(ctx, tt.subject, tt.email)
			if err != nil {
				t.Fatalf("Principal(%q, %q) once the database is back: %v", tt.subject, tt.email, err)
			}
			if c.calls == 0 {
				t.Errorf("Principal(%q, %q) once the database is back did not ask the catalog", tt.subject, tt.email)
			}
			if diff := cmp.Diff(jane, p); diff != "" {
				t.Errorf("principal mismatch (-want +got):\n%s", diff)
			}
		}
	})
}

// TestResolver_CatalogChange checks that a cached principal is not served
// once the catalog changes: a user removed from the catalog is refused on
// the next request when this process refreshed, and soon after when
// another process did, long before the cache's TTL.
func TestResolver_CatalogChange(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := filepath.Join(t.TempDir(), "org.yaml")
		loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, p)
		if err != nil {
			t.Fatal(err)
		}
		refresh := func(db *store.DB, content string) {
			t.Helper()
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := ingest.NewEngine(db, ingest.Options{}).Refresh(ctx, loc); err != nil {
				t.Fatal(err)
			}
		}
		refresh(db, orgCatalog)
		r := identity.NewResolver(db, identity.Options{})
		refused := func(sub, email string) bool {
			_, err := r.Principal(ctx, sub, email)
			if err != nil && portal.ErrorCode(err) != portal.EUNAUTHENTICATED {
				t.Fatal(err)
			}
			return err != nil
		}

		// Each is resolved, and cached.
		if refused("jane.doe", "") || refused("", "jane.doe@example.com") || refused("bob", "") {
			t.Fatal("a user of the catalog is refused")
		}

		// This process drops jane.doe: her orphan is refused at once, by
		// ref or by e-mail.
		refresh(db, without(orgCatalog, "jane.doe"))
		if !refused("jane.doe", "") || !refused("", "jane.doe@example.com") {
			t.Error("jane.doe resolved after this process removed her from the catalog")
		}
		if refused("bob", "") {
			t.Error("bob refused; want him resolved as before")
		}

		// Another process drops bob: he is refused within the store's
		// version check, not after the TTL.
		refresh(storetest.Reopen(t, db), without(orgCatalog, "jane.doe", "bob"))
		start := time.Now()
		for !refused("bob", "") {
			if time.Since(start) > 5*time.Second {
				t.Fatal("bob still resolved 5 s after another process removed him from the catalog")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// without returns the documents of catalog but those of the entities
// named.
func without(catalog string, names ...string) string {
	var keep []string
	for _, doc := range strings.Split(catalog, "---\n") {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(doc, "metadata: {name: "+n+"}") }) {
			keep = append(keep, doc)
		}
	}
	return strings.Join(keep, "---\n")
}
