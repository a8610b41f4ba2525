package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/export"
	"github.com/greenroomhq/greenroom/internal/store"
)

// TestRun_ExportIngest exports the example catalog from each database, as
// YAML and as NDJSON, ingests each export into a new database, and finds
// the same entities with the same relations: every field but those the
// catalog sets (uid, etag, where it was read from).
func TestRun_ExportIngest(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		var out bytes.Buffer
		if code := run(ctx, []string{"ingest", "--database", dsn, "--location", filepath.Join("..", "..", "examples", "catalog", "all.yaml")}, env(nil), &out, &out); code != 0 {
			t.Fatalf("ingest: exit %d\n%s", code, out.String())
		}
		want := snapshot(t, dsn)
		if len(want) < 30 {
			t.Fatalf("the example catalog has %d entities besides Location entities", len(want))
		}
		dir := t.TempDir()
		for _, name := range []string{"catalog.yaml", "catalog.ndjson"} {
			file := filepath.Join(dir, name)
			out.Reset()
			if code := run(ctx, []string{"export", "--database", dsn, "--output", file}, env(nil), &out, &out); code != 0 {
				t.Fatalf("export: exit %d\n%s", code, out.String())
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			isJSON := json.Valid(bytes.SplitN(data, []byte("\n"), 2)[0])
			if isJSON != strings.HasSuffix(name, ".ndjson") || bytes.Contains(data, []byte(`"uid"`)) || bytes.Contains(data, []byte("uid:")) ||
				bytes.Contains(data, []byte("relations")) || bytes.Contains(data, []byte("kind: Location")) {
				t.Errorf("%s is not an export of descriptors in its format:\n%.400s", name, data)
			}
			copyDSN := filepath.Join(dir, name+".db")
			out.Reset()
			if code := run(ctx, []string{"ingest", "--database", copyDSN, "--location", file}, env(nil), &out, &out); code != 0 || !strings.Contains(out.String(), "0 errors") {
				t.Fatalf("ingest %s: exit %d\n%s", name, code, out.String())
			}
			if diff := cmp.Diff(want, snapshot(t, copyDSN)); diff != "" {
				t.Errorf("ingested from %s (-exported +ingested):\n%s", name, diff)
			}
		}

		out.Reset()
		if code := run(ctx, []string{"export", "--database", dsn, "--format", "xml"}, env(nil), &out, &out); code != 2 || !strings.Contains(out.String(), `unknown --format "xml"`) {
			t.Errorf("--format xml: exit %d, %q", code, out.String())
		}
		out.Reset()
		if code := run(ctx, []string{"export", "--database", dsn, "--output", filepath.Join(dir, "missing", "x.yaml")}, env(nil), &out, &out); code != 2 || !strings.Contains(out.String(), "missing") {
			t.Errorf("--output in a missing folder: exit %d, %q", code, out.String())
		}
	})
}

// snapshot returns, by ref, every entity an export writes, without what
// the catalog sets, with its relations.
func snapshot(t *testing.T, dsn string) map[string]any {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenExisting(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs, rels, err := db.ScanEntities(ctx, export.Written(), "", 10000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for _, rec := range recs {
		var e map[string]any
		if err := json.Unmarshal(rec.Data, &e); err != nil {
			t.Fatal(err)
		}
		meta := e["metadata"].(map[string]any)
		delete(meta, "uid")
		delete(meta, "etag")
		if ann, ok := meta["annotations"].(map[string]any); ok {
			delete(ann, catalog.AnnotationManagedByLocation)
			delete(ann, catalog.AnnotationManagedByOriginLocation)
		}
		var rs []string
		for _, r := range rels {
			if r.Source == rec.Ref {
				rs = append(rs, r.Type+" "+r.Target)
			}
		}
		slices.Sort(rs)
		e["relations"] = rs
		out[rec.Ref] = e
	}
	return out
}
