package migrations_test

import (
	"context"
	"io/fs"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
	"github.com/greenroomhq/greenroom/migrations"
)

func names(t *testing.T, fsys fs.FS) []string {
	t.Helper()
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

// TestParity fails when the two dialects' migrations drift apart: every
// version must exist for both, under the same name.
func TestParity(t *testing.T) {
	pg, lite := names(t, migrations.Postgres()), names(t, migrations.SQLite())
	if len(pg) == 0 {
		t.Fatal("no migrations")
	}
	if diff := cmp.Diff(pg, lite); diff != "" {
		t.Errorf("postgres and sqlite migrations differ (-postgres +sqlite):\n%s", diff)
	}
}

// TestUpDown applies every migration, rolls all of them back and applies
// them again, on each database.
func TestUpDown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		st, err := db.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if !s.Applied {
				t.Errorf("migration %d not applied", s.Version)
			}
		}
		for _, s := range st {
			if s.River {
				continue // River's tables stay (see store.DB.MigrateDown)
			}
			if err := db.MigrateDown(ctx); err != nil {
				t.Fatal(err)
			}
		}
		st, err = db.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if s.Applied && !s.River {
				t.Errorf("migration %d still applied after rolling back", s.Version)
			}
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
