package ingest_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// api returns an API document whose definition is a placeholder.
func api(name, placeholder, target string) string {
	return fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: %s
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    %s: %s
`, name, placeholder, target)
}

func TestEngine_Refresh_Placeholder(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir, elsewhere := t.TempDir(), t.TempDir()
		secret := MustWrite(t, elsewhere, "secret.txt", "elsewhere\n")
		srv := MustServe(t, map[string]string{"/openapi.yaml": "openapi: 3.0.0\n"})

		MustWrite(t, dir, "catalog-info.yaml", docs(teamA, location("root", "target: ./svc/catalog-info.yaml")))
		svc := MustWrite(t, dir, "svc/catalog-info.yaml", docs(
			api("text", "$text", "./openapi.yaml"),
			component("json", "config:", "  $json: config.json"),
			component("yaml", "extra:", "  $yaml: ../shared/extra.yaml", "schema:", "  $ref: ./not-a-placeholder.json", "both:", "  $text: ./openapi.yaml", "  other: kept"),
			api("dotdot", "$text", "../../etc/passwd"),
			api("absolute", "$text", secret),
			api("http", "$text", srv.URL+"/openapi.yaml"),
			api("missing", "$text", "./missing.yaml"),
		))
		MustWrite(t, dir, "svc/openapi.yaml", "openapi: 3.0.0\ninfo:\n  title: Text\n")
		MustWrite(t, dir, "svc/config.json", `{"replicas": 3, "tags": ["a", "b"]}`)
		MustWrite(t, dir, "shared/extra.yaml", "# one document\nkey: value\nlist: [1, two]\n")

		loc := MustCreateLocation(t, db, ingest.TypeFile, filepath.Join(dir, "catalog-info.yaml"))
		MustRefresh(t, ingest.NewEngine(db, ingest.Options{}), loc)

		t.Run("Resolved", func(t *testing.T) {
			got := map[string]any{
				"text": MustEntity(t, db, "api:default/text").Spec["definition"],
				"json": MustEntity(t, db, "component:default/json").Spec["config"],
				"yaml": MustEntity(t, db, "component:default/yaml").Spec,
			}
			want := map[string]any{
				"text": "openapi: 3.0.0\ninfo:\n  title: Text\n",
				"json": map[string]any{"replicas": float64(3), "tags": []any{"a", "b"}},
				"yaml": map[string]any{
					"type": "service", "lifecycle": "production", "owner": "team-a",
					"extra":  map[string]any{"key": "value", "list": []any{float64(1), "two"}},
					"schema": map[string]any{"$ref": "./not-a-placeholder.json"},
					"both":   map[string]any{"$text": "./openapi.yaml", "other": "kept"},
				},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("resolved values mismatch (-want +got):\n%s", diff)
			}
			for _, ref := range []string{"api:default/text", "component:default/json", "component:default/yaml"} {
				if errs := MustEntityErrors(t, db, ref); len(errs) != 0 {
					t.Errorf("%s errors = %+v; want none", ref, errs)
				}
			}
		})

		t.Run("Refused", func(t *testing.T) {
			tests := []struct {
				name, target string
				doc, line    int // of the API in svc/catalog-info.yaml
				words        []string
			}{
				{"dotdot", "../../etc/passwd", 3, 47, []string{"cannot read ../../etc/passwd", "outside the location's tree " + dir}},
				{"absolute", secret, 4, 58, []string{"cannot read " + secret, "outside the location's tree " + dir}},
				{"http", srv.URL + "/openapi.yaml", 5, 69, []string{"cannot read " + srv.URL + "/openapi.yaml", "may only read files"}},
				{"missing", "./missing.yaml", 6, 80, []string{filepath.Join(dir, "svc", "missing.yaml"), "not found"}},
			}
			for _, tt := range tests {
				ref := "api:default/" + tt.name
				errs := MustEntityErrors(t, db, ref)
				want := []problem{{Level: "error", Code: catalog.ErrorCodePlaceholder, Key: "file:" + svc, Ref: ref, Doc: tt.doc, Line: tt.line}}
				if diff := cmp.Diff(want, problems(errs)); diff != "" {
					t.Errorf("%s errors mismatch (-want +got):\n%s", ref, diff)
				}
				mustMention(t, errs, append(tt.words, "spec.definition")...)
				// The placeholder is stored as written.
				e := MustEntity(t, db, ref)
				if diff := cmp.Diff(map[string]any{"$text": tt.target}, e.Spec["definition"]); diff != "" {
					t.Errorf("%s definition mismatch (-want +got):\n%s", ref, diff)
				}
			}
			if reqs := srv.takeRequests(); len(reqs) != 0 {
				t.Errorf("server got %+v; want no request from a file location", reqs)
			}
			if got, want := len(MustLocationErrors(t, db, loc)), len(tests); got != want {
				t.Errorf("%d location errors; want %d", got, want)
			}
		})
	})
}

func TestEngine_Refresh_PlaceholderURL(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, map[string]string{
			"/repo/catalog-info.yaml": docs(teamA, location("root", "target: ./svc/catalog-info.yaml")),
			"/repo/svc/catalog-info.yaml": docs(
				api("relative", "$text", "./openapi.yaml"),
				api("up", "$text", "../shared.yaml"),
				api("outside", "$text", "../../secret.txt")),
			"/repo/svc/openapi.yaml": "openapi: 3.0.0\n",
			"/repo/shared.yaml":      "shared\n",
			"/secret.txt":            "secret\n",
		})
		loc := MustCreateLocation(t, db, ingest.TypeURL, srv.URL+"/repo/catalog-info.yaml")
		MustRefresh(t, ingest.NewEngine(db, ingest.Options{}), loc)

		if got := MustEntity(t, db, "api:default/relative").Spec["definition"]; got != "openapi: 3.0.0\n" {
			t.Errorf("relative definition = %#v; want the content of /repo/svc/openapi.yaml", got)
		}
		if got := MustEntity(t, db, "api:default/up").Spec["definition"]; got != "shared\n" {
			t.Errorf("up definition = %#v; want the content of /repo/shared.yaml", got)
		}
		ref := "api:default/outside"
		errs := MustLocationErrors(t, db, loc)
		want := []problem{{Level: "error", Code: catalog.ErrorCodePlaceholder, Key: "url:" + srv.URL + "/repo/svc/catalog-info.yaml", Ref: ref, Doc: 2, Line: 31}}
		if diff := cmp.Diff(want, problems(errs)); diff != "" {
			t.Errorf("location errors mismatch (-want +got):\n%s", diff)
		}
		mustMention(t, errs, srv.URL+"/secret.txt", "outside the location's tree "+srv.URL+"/repo/")
		for _, r := range srv.takeRequests() {
			if r.Path == "/secret.txt" {
				t.Errorf("server got %+v; want no request outside the location's tree", r)
			}
			if r.Status != http.StatusOK {
				t.Errorf("server answered %+v; want every read to succeed", r)
			}
		}
		if diff := cmp.Diff(errs, MustEntityErrors(t, db, ref)); diff != "" {
			t.Errorf("entity errors mismatch (-want +got):\n%s", diff)
		}
	})
}
