package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/restapi"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// screenCatalogYAML returns a catalog shaped like the one make bench
// generates (shared/bench/gen_catalog.py), small enough to load in a
// benchmark: groups with members, components that each provide one or two
// APIs and consume two or three, and own nothing else.
func screenCatalogYAML(components int) string {
	const groups, users, apis, systems = 30, 120, 200, 20
	var docs []string
	for i := range groups {
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-%d\nspec:\n  type: team\n  children: []\n", i))
	}
	for i := range users {
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: user-%d\nspec:\n  memberOf: [team-%d, team-%d]\n", i, i%groups, (i+7)%groups))
	}
	for i := range systems {
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: system-%d\nspec:\n  owner: team-%d\n", i, i%groups))
	}
	for i := range apis {
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: api-%d\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-%d\n  definition: \"openapi: 3.0.0\"\n", i, i%groups))
	}
	for i := range components {
		docs = append(docs, fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc-%04d
  description: Service number %d of the screen benchmark
spec:
  type: service
  lifecycle: production
  owner: team-%d
  system: system-%d
  providesApis: [api-%d, api-%d]
  consumesApis: [api-%d, api-%d, api-%d]
`, i, i, i%groups, i%systems, i%apis, (i+1)%apis, (i+3)%apis, (i+5)%apis, (i+9)%apis))
	}
	return strings.Join(docs, "---\n")
}

// The screens of make bench (cmd/greenroom-bench/api.go), run in process
// through the real handler: what an A/B comparison of the API's speed
// measures with -benchmem, free of the loopback's noise.
var screenQueries = []struct{ name, query string }{
	{"list100", `{ entities(filter:{kind:["Component"]}, first:100){ edges{ node{ name ... on Component { owner{ name members{ name } } providesApis{ name } consumesApis{ name } } } } } }`},
	{"list500", `{ entities(filter:{kind:["Component"]}, first:500){ edges{ node{ ref name ... on Component { owner{ name } system{ name } providesApis{ name } } } } } }`},
	{"whole500", `{ entities(filter:{kind:["Component"]}, first:500){ edges{ node{ document } } } }`},
	{"documents500", `{ entities(filter:{kind:["Component"]}, first:500){ documents } }`},
	{"entity", `{ entity(ref:"component:default/svc-0042"){ ref kind name relations(first:100){ edges{ node{ type targetRef } } } } }`},
}

// BenchmarkScreen measures the screens on SQLite. With
// GREENROOM_SCREEN_DB naming a file, the catalog is ingested into it once
// and read from it by later runs, so that a run under
// valgrind --tool=callgrind counts the screens' instructions, not the
// ingestion's.
func BenchmarkScreen(b *testing.B) {
	ctx := context.Background()
	path := os.Getenv("GREENROOM_SCREEN_DB")
	_, statErr := os.Stat(path)
	var db *store.DB
	if path == "" {
		db = storetest.MustOpenSQLite(b)
	} else {
		var err error
		if db, err = store.Open(ctx, path, nil); err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if err := db.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
	}
	eng := ingest.NewEngine(db, ingest.Options{})
	if path == "" || statErr != nil {
		target := MustWriteFile(b, b.TempDir(), "screen.yaml", screenCatalogYAML(600))
		if _, _, err := db.CreateLocation(ctx, ingest.TypeFile, target); err != nil {
			b.Fatal(err)
		}
		if err := eng.RefreshAll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	opts := serverOptions(b, db, eng, allowAll)
	opts.REST = restapi.New(restapi.Options{Catalog: opts.Resolver.Catalog.(restapi.Catalog)})
	h := server.New(opts)
	run := func(name string, newRequest func() *http.Request) {
		do := func() []byte {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newRequest())
			return rec.Body.Bytes()
		}
		// Short answers are allowed only on a catalog of another's
		// (GREENROOM_SCREEN_DB), which may not have the entity asked for.
		if out := do(); bytes.Contains(out, []byte(`"errors"`)) || bytes.Contains(out, []byte(`"error"`)) || len(out) < 200 && statErr != nil {
			b.Fatalf("%s: %.500s", name, out)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				do()
			}
		})
	}
	for _, q := range screenQueries {
		body, _ := json.Marshal(map[string]any{"query": q.query})
		run(q.name, func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return req
		})
	}
	// Backstage's REST page of 500 whole components (make bench's).
	run("restWhole500", func() *http.Request {
		return httptest.NewRequest(http.MethodGet, "/api/catalog/entities/by-query?filter=kind=component&limit=500", nil)
	})
}
