package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// MustOpenPostgresICU opens a fresh, migrated PostgreSQL database that
// sorts text by the en-US ICU collation, as a server initialised with a
// language's locale does, rather than by bytes, like the C locale of the
// test server. It skips the test when there is no server, or it cannot
// make such a database (before PostgreSQL 15).
func MustOpenPostgresICU(t *testing.T) *store.DB {
	t.Helper()
	server := os.Getenv(storetest.EnvPostgres)
	if server == "" {
		t.Skip(storetest.EnvPostgres + " not set")
	}
	ctx := context.Background()
	admin, err := sqlx.Open("postgres", server)
	if err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	name := "greenroom_test_icu_" + hex.EncodeToString(suffix)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`); err != nil {
		admin.Close()
		t.Skipf("cannot create a database with an ICU collation: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	db, err := store.Open(ctx, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestQuery_RelationsCollation pages through relations whose targets sort
// differently by bytes and by a language's collation: "_" comes after the
// digits in bytes, before them in en-US.
func TestQuery_RelationsCollation(t *testing.T) {
	t.Parallel()
	db := MustOpenPostgresICU(t)
	dir := t.TempDir()
	file := MustWriteFile(t, dir, "hub.yaml", yamlDocs(
		component("hub", "component:x_1", "component:x-2", "component:x1", "component:xa"),
		component("x_1"), component("x-2"), component("x1"), component("xa"),
	))
	srv := MustServeFiles(t, db, file)
	const q = `query($after: String) { entity(ref: "component:hub") { relations(type: "dependsOn", first: 1, after: $after) {
		totalCount edges { node { targetRef } } pageInfo { hasNextPage endCursor }
	} } }`
	var got []string
	var after any
	for pages := 0; pages < 10; pages++ {
		var p struct {
			Entity struct {
				Relations struct {
					TotalCount int
					Edges      []struct{ Node struct{ TargetRef string } }
					PageInfo   struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
		}
		MustQuery(t, srv, q, map[string]any{"after": after}, &p)
		for _, e := range p.Entity.Relations.Edges {
			got = append(got, e.Node.TargetRef)
		}
		if !p.Entity.Relations.PageInfo.HasNextPage {
			break
		}
		after = *p.Entity.Relations.PageInfo.EndCursor
	}
	// Relations are ordered by type then target, compared as bytes.
	want := []string{"component:default/x-2", "component:default/x1", "component:default/x_1", "component:default/xa"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("relations paged one by one mismatch (-want +got):\n%s", diff)
	}
}
