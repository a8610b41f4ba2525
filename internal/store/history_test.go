package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// TestHistory_Prune writes versions on both sides of a cutoff and checks
// that pruning keeps exactly what answers for every time since: the last
// version older than the cutoff of an entity that lives on, nothing of an
// entity deleted before it, everything after it.
func TestHistory_Prune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		file := filepath.Join(t.TempDir(), "catalog-info.yaml")
		loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, file)
		if err != nil {
			t.Fatal(err)
		}
		eng := ingest.NewEngine(db, ingest.Options{DeleteOrphans: true})
		write := func(descriptions map[string]string) {
			t.Helper()
			var docs []string
			for _, name := range []string{"kept", "gone", "later"} {
				if d, ok := descriptions[name]; ok {
					docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: %s, description: %s}\nspec: {type: service, lifecycle: production, owner: team}\n", name, d))
				}
			}
			if err := os.WriteFile(file, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := eng.Refresh(ctx, loc); err != nil {
				t.Fatal(err)
			}
		}
		ops := func(ref string) []string {
			t.Helper()
			vs, err := db.EntityHistory(ctx, ref, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, v := range vs {
				d := ""
				if v.Data != nil {
					rec, _ := v.Record()
					d = " " + rec.Description
				}
				out = append(out, string(v.Op)+d)
			}
			return out
		}

		write(map[string]string{"kept": "one", "gone": "one", "later": "one"})
		write(map[string]string{"kept": "two", "later": "one"}) // gone is deleted
		time.Sleep(20 * time.Millisecond)
		cutoff := time.Now()
		time.Sleep(20 * time.Millisecond)
		write(map[string]string{"kept": "two", "later": "two"})

		if _, err := db.PruneHistory(ctx, cutoff); err != nil {
			t.Fatal(err)
		}
		for ref, want := range map[string][]string{
			"component:default/kept":  {"UPDATED two"},
			"component:default/gone":  nil,
			"component:default/later": {"UPDATED two", "CREATED one"},
		} {
			if diff := cmp.Diff(want, ops(ref)); diff != "" {
				t.Errorf("%s after pruning (-want +got):\n%s", ref, diff)
			}
		}
		v, err := db.EntityAsOf(ctx, "component:default/kept", cutoff)
		if err != nil || v.Data == nil {
			t.Fatalf("kept as of the cutoff: %v, %v", v, err)
		}
		if rec, _ := v.Record(); rec.Description != "two" {
			t.Errorf("kept as of the cutoff: %q; want two", rec.Description)
		}
	})
}
