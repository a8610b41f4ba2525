package scaffolder_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/gittest"
	"github.com/greenroomhq/greenroom/internal/scaffolder"
)

// A template registered by URL fetches its skeleton from its repository,
// through a clone from the forge's host with the integration's token:
// relative URLs (climbing to a shared folder of the same repository),
// absolute URLs of another repository, single files; and refuses URLs
// that leave the template's repository or name no known host.
func TestRun_FetchFromForge(t *testing.T) {
	f := gittest.NewForge(t)
	host := strings.TrimPrefix(f.Server.URL, "http://")
	push := func(repo string, files map[string]string) {
		dir := t.TempDir()
		for name, content := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		f.Git.PushDir(t, dir, repo, "main")
	}
	push("org/templates.git", map[string]string{
		"templates/svc/template.yaml":                      "kind: Template\n",
		"templates/svc/skeleton/README.md":                 "# ${{ values.name }}\n",
		"templates/svc/skeleton/src/${{ values.name }}.go": "package ${{ values.name }}\n",
		"templates/shared/LICENSE":                         "MIT\n",
	})
	push("other/docs.git", map[string]string{"docs/index.md": "# Docs\n"})

	forges := scaffolder.NewForges([]scaffolder.Integration{{Kind: "github", Host: host, APIBaseURL: f.Server.URL + "/api/v3", Token: f.Token}}, nil)
	base, _, err := scaffolder.OpenTemplateBase(scaffolder.BaseOfLocation("url", f.Server.URL+"/org/templates/blob/main/templates/svc/template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := f.Server.URL + "/org/templates/blob/main/templates/svc/"; base.URL.String() != want {
		t.Errorf("base %s, want %s", base.URL, want)
	}
	s := spec(t, `
steps:
  - {id: skeleton, action: fetch:template, input: {url: ./skeleton, values: {name: pay}}}
  - {id: license, action: fetch:plain:file, input: {url: ../shared/LICENSE, targetPath: LICENSE}}
  - {id: docs, action: fetch:plain, input: {url: '`+f.Server.URL+`/other/docs/tree/main/docs', targetPath: docs}}
`)
	o := run(t, context.Background(), scaffolder.Run{Spec: s, Template: base, Sources: forges})
	if o.Err != nil {
		t.Fatalf("run: %v\n%s", o.Err, o.logText())
	}
	want := map[string]string{"README.md": "# pay\n", "src/pay.go": "package pay\n", "LICENSE": "MIT\n", "docs/index.md": "# Docs\n"}
	if diff := cmp.Diff(want, o.files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}

	for _, tc := range []struct{ url, want string }{
		{"../../../../other/docs/tree/main/docs", "leaves the template's repository"},
		{"../../../../../other/docs/tree/main/docs", "leaves the template's repository"},
		{"../../../../../org/templates/tree/next/templates", "leaves the template's repository"},
		{"./missing", "missing"},
		{f.Server.URL + "/org/templates/tree/nope/x", "has no branch or tag nope"},
		{"https://unknown.example.com/org/repo/tree/main/x", "not a folder or file URL of a known git host"},
		{"ftp://" + host + "/x", "only https URLs"},
	} {
		o := run(t, context.Background(), scaffolder.Run{Spec: spec(t, `steps: [{id: f, action: fetch:plain, input: {url: '`+tc.url+`'}}]`), Template: base, Sources: forges})
		if o.Err == nil || !strings.Contains(o.Err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.url, o.Err, tc.want)
		}
	}
	// Without the token, the clone is refused.
	anon := scaffolder.NewForges([]scaffolder.Integration{{Kind: "github", Host: host, APIBaseURL: f.Server.URL + "/api/v3"}}, nil)
	if o := run(t, context.Background(), scaffolder.Run{Spec: s, Template: base, Sources: anon}); o.Err == nil {
		t.Error("fetched without a token")
	}
}
