package ingest_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// fixtures is Backstage's own example catalog, in shared/ beside the repo.
var fixtures = filepath.Join("..", "..", "..", "shared", "fixtures", "backstage-examples")

// truth is what the real Backstage backend stored for the two example
// locations (backstage-truth.json).
type truth struct {
	Entities []struct {
		Ref       string     `json:"ref"`
		Kind      string     `json:"kind"`
		Relations [][]string `json:"relations"`
	} `json:"entities"`
	Invisible []struct {
		Ref string `json:"entity_ref"`
	} `json:"invisible"`
}

// TestConformance_BackstageExamples loads Backstage's example catalog the
// way Backstage's default app registers it and compares the result with
// what Backstage itself stored, allowing only the differences the fixture's
// README lists as intended.
func TestConformance_BackstageExamples(t *testing.T) {
	var want truth
	b, err := os.ReadFile(filepath.Join(fixtures, "backstage-truth.json"))
	if err != nil {
		t.Fatalf("read truth: %v (is shared/ beside the repository?)", err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var locs []catalog.Location
		for _, f := range []string{"all.yaml", "acme-corp.yaml"} {
			abs, err := filepath.Abs(filepath.Join(fixtures, "catalog-model", "examples", f))
			if err != nil {
				t.Fatal(err)
			}
			loc, _, err := db.CreateLocation(ctx, ingest.TypeFile, abs)
			if err != nil {
				t.Fatal(err)
			}
			locs = append(locs, loc)
		}
		eng := ingest.NewEngine(db, ingest.Options{})
		if err := eng.RefreshAll(ctx); err != nil {
			t.Fatal(err)
		}

		invisible := map[string]bool{}
		for _, inv := range want.Invisible {
			invisible[inv.Ref] = true
		}
		got := map[string]bool{}
		page, err := db.FindEntities(ctx, catalog.EntityQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range page.Records {
			got[rec.Ref] = true
		}

		generated := 0
		for _, we := range want.Entities {
			if strings.HasPrefix(we.Ref, "location:default/generated-") {
				generated++
				continue // Greenroom names these by its own scheme; checked below
			}
			if !got[we.Ref] {
				t.Errorf("entity %s missing", we.Ref)
				continue
			}
			rels, err := db.Relations(ctx, we.Ref)
			if err != nil {
				t.Fatal(err)
			}
			wantSet := map[[2]string]bool{}
			for _, r := range we.Relations {
				wantSet[[2]string{r[0], r[1]}] = true
			}
			gotRels := [][]string{}
			for _, r := range rels {
				pair := [2]string{r.Type, r.Target.String()}
				if !wantSet[pair] && invisible[pair[1]] {
					continue // emitted by an entity only Greenroom shows
				}
				gotRels = append(gotRels, pair[:])
			}
			wantRels := we.Relations
			if wantRels == nil {
				wantRels = [][]string{}
			}
			if diff := cmp.Diff(wantRels, gotRels); diff != "" {
				t.Errorf("%s relations mismatch (-want +got):\n%s", we.Ref, diff)
			}
		}
		for _, loc := range locs {
			ref := loc.EntityRef()
			if !got[ref] {
				t.Errorf("generated location entity %s missing", ref)
			}
		}
		if generated != len(locs) {
			t.Errorf("truth has %d generated locations; registered %d", generated, len(locs))
		}
		// Entities Backstage hid are listed by Greenroom.
		for ref := range invisible {
			if !got[ref] {
				t.Errorf("entity %s (hidden by Backstage) missing", ref)
			}
		}
		if n, want := len(got), len(want.Entities)+len(invisible); n != want {
			t.Errorf("stored %d entities; want %d", n, want)
		}

		// The only errors are the three placeholders that point at GitHub;
		// the one warning is playback-order's owner "guest", a group that
		// does not exist (Backstage stores that relation silently).
		var errs, warnings []string
		for _, loc := range locs {
			les, err := db.LocationErrors(ctx, loc.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range les {
				if e.Level == catalog.LevelWarning {
					warnings = append(warnings, e.EntityRef+" "+e.Code+" "+e.Message)
					continue
				}
				errs = append(errs, e.EntityRef+" "+e.Code)
				if e.Code == catalog.ErrorCodePlaceholder && !strings.Contains(e.Message, "https://github.com/") {
					t.Errorf("placeholder error does not name the URL: %s", e.Message)
				}
			}
		}
		slices.Sort(errs)
		wantErrs := []string{
			"api:default/spotify PLACEHOLDER",
			"api:default/wayback-archive PLACEHOLDER",
			"api:default/wayback-search PLACEHOLDER",
		}
		if diff := cmp.Diff(wantErrs, errs); diff != "" {
			t.Errorf("errors mismatch (-want +got):\n%s", diff)
		}
		wantWarnings := []string{"component:default/playback-order REFERENCE component:default/playback-order has relation ownedBy to group:default/guest, which is not in the catalog"}
		if diff := cmp.Diff(wantWarnings, warnings); diff != "" {
			t.Errorf("warnings mismatch (-want +got):\n%s", diff)
		}
	})
}
