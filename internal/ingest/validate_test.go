package ingest_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	srv := MustServe(t, map[string]string{"/remote.yaml": component("remote")})
	dir := t.TempDir()
	// The root file leads to svc/ through a Location; the walk of the
	// directory finds svc/ again, which is no duplicate.
	MustWrite(t, dir, "catalog-info.yaml", docs(teamA, location("root", "targets: [./svc/catalog-info.yaml, ./lib/lib.yaml]"), location("remote", "type: url", "target: "+srv.URL+"/remote.yaml")))
	MustWrite(t, dir, "svc/catalog-info.yaml", docs(component("svc"), strings.Replace(component("broken"), "  owner: team-a\n", "", 1)))
	MustWrite(t, dir, "lib/lib.yaml", component("lib", "description:", "  $text: ../README.md"))
	MustWrite(t, dir, "README.md", "read me\n")
	// A file the walk finds may read placeholders anywhere in the argument's directory.
	MustWrite(t, dir, "other/catalog-info.yaml", docs(component("other", "readme:", "  $text: ../README.md"), component("svc")))
	MustWrite(t, dir, "syntax/catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: broken: yes\n")
	MustWrite(t, dir, "node_modules/x/catalog-info.yaml", "not: [valid\n")
	MustWrite(t, dir, ".hidden/catalog-info.yaml", "not: [valid\n")

	res, err := ingest.Validate(context.Background(), []string{dir}, 0)
	if err != nil {
		t.Fatal(err)
	}
	key := func(name string) string { return "file:" + filepath.Join(dir, filepath.FromSlash(name)) }
	want := []problem{
		{Level: "error", Code: catalog.ErrorCodeConflict, Key: key("other/catalog-info.yaml"), Ref: "component:default/svc", Doc: -1},
		{Level: "error", Code: catalog.ErrorCodeSyntax, Key: key("syntax/catalog-info.yaml"), Doc: 0, Line: 4},
		{Level: "error", Code: catalog.ErrorCodeInvalid, Key: key("svc/catalog-info.yaml"), Ref: "component:default/broken", Doc: 1, Line: 14},
		{Level: "warning", Code: catalog.ErrorCodeRead, Key: "url:" + srv.URL + "/remote.yaml", Ref: "location:default/remote", Doc: -1},
	}
	if diff := cmp.Diff(want, problems(res.Problems), cmpopts.SortSlices(func(a, b problem) bool { return a.Key < b.Key })); diff != "" {
		t.Errorf("problems mismatch (-want +got):\n%s\n%+v", diff, res.Problems)
	}
	for _, p := range res.Problems {
		switch p.Code {
		case catalog.ErrorCodeConflict:
			mustMention(t, []catalog.ProcessingError{p}, "component:default/svc", key("svc/catalog-info.yaml"))
		case catalog.ErrorCodeRead:
			mustMention(t, []catalog.ProcessingError{p}, srv.URL+"/remote.yaml", "offline")
		}
	}
	if reqs := srv.takeRequests(); len(reqs) != 0 {
		t.Errorf("server got %+v; want no request from an offline validation", reqs)
	}
	// team-a, the two Locations, svc, lib and other.
	if res.Entities != 6 {
		t.Errorf("%d valid entities; want 6", res.Entities)
	}
	if res.Files != 5 {
		t.Errorf("%d files read; want 5", res.Files)
	}
}
