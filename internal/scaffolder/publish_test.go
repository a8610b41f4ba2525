package scaffolder_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/gittest"
	"github.com/greenroomhq/greenroom/internal/scaffolder"
)

func publishRegistry(t *testing.T, srv *httptest.Server, token string) []scaffolder.Action {
	host := strings.TrimPrefix(srv.URL, "http://")
	forges := scaffolder.NewForges([]scaffolder.Integration{
		{Kind: "github", Host: host, APIBaseURL: srv.URL + "/api/v3", Token: token},
		{Kind: "gitlab", Host: "gitlab." + host, APIBaseURL: srv.URL + "/api/v4", Token: token},
	}, srv.Client())
	return forges.PublishActions()
}

func TestPublish(t *testing.T) {
	f := gittest.NewForge(t)
	srv := f.Server
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := writeTree(t, map[string]string{"skel/README.md": "# ${{ values.name }}\n", "skel/src/main.go": "package main\n"})
	s := spec(t, `
steps:
  - {id: fetch, action: fetch:template, input: {url: ./skel, values: {name: '${{ parameters.name }}'}}}
  - id: github
    action: publish:github
    input:
      repoUrl: ${{ parameters.host }}?owner=larkspur&repo=${{ parameters.name }}
      description: A service
      repoVisibility: internal
      topics: [go, service]
  - id: user-repo
    action: publish:github
    input: {repoUrl: '${{ parameters.host }}?owner=alice&repo=${{ parameters.name }}', sourcePath: src, defaultBranch: trunk}
  - id: gitlab
    action: publish:gitlab
    input: {repoUrl: 'gitlab.${{ parameters.host }}?owner=platform/tools&repo=${{ parameters.name }}'}
  - id: git
    action: publish:git
    input: {remoteUrl: '${{ parameters.plain }}', token: '${{ secrets.gitToken }}', gitCommitMessage: 'from greenroom'}
output:
  contents: ${{ steps.github.output.repoContentsUrl }}
  gitlab: ${{ steps.gitlab.output.repoContentsUrl }}
`)
	plain := f.Git.NewRepo(t, "plain/repo.git")
	values := map[string]any{"name": "pay-svc", "host": host, "plain": plain}
	root := templateFS(t, dir)
	o := run(t, context.Background(), scaffolder.Run{Spec: s, Values: values, Secrets: map[string]any{"gitToken": f.Token}, Template: scaffolder.TemplateBase{Dir: root.FS()}},
		publishRegistry(t, srv, f.Token)...)
	if o.Err != nil {
		t.Fatalf("run: %v\n%s", o.Err, o.logText())
	}
	want := map[string]string{"README.md": "# pay-svc\n", "src/main.go": "package main\n"}
	for _, repo := range []string{"larkspur/pay-svc.git", "platform/tools/pay-svc.git", "plain/repo.git"} {
		if diff := cmp.Diff(want, f.Git.Files(t, repo, "main")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", repo, diff)
		}
		if n := f.Git.Pushes(repo); n != 1 {
			t.Errorf("%s: %d pushes", repo, n)
		}
	}
	if diff := cmp.Diff(map[string]string{"main.go": "package main\n"}, f.Git.Files(t, "alice/pay-svc.git", "trunk")); diff != "" {
		t.Errorf("sourcePath and defaultBranch (-want +got):\n%s", diff)
	}
	if got := o.Steps[1].Output["commitHash"]; got != f.Git.Head(t, "larkspur/pay-svc.git", "main") {
		t.Errorf("commitHash %v is not the pushed head", got)
	}
	if diff := cmp.Diff([]string{"go", "service"}, f.Topics("larkspur/pay-svc")); diff != "" {
		t.Errorf("topics (-want +got):\n%s", diff)
	}
	wantOut := map[string]any{"contents": srv.URL + "/larkspur/pay-svc/blob/main", "gitlab": "https://gl.example/platform/tools/pay-svc/-/blob/main"}
	if diff := cmp.Diff(wantOut, o.Output); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if strings.Contains(o.logText(), f.Token) {
		t.Errorf("log shows the token:\n%s", o.logText())
	}

	t.Run("ErrRepoExists", func(t *testing.T) {
		o := run(t, context.Background(), scaffolder.Run{Spec: spec(t, `
steps: [{id: again, action: publish:github, input: {repoUrl: '`+host+`?owner=larkspur&repo=pay-svc'}}]`)}, publishRegistry(t, srv, f.Token)...)
		if o.Err == nil || !strings.Contains(o.Err.Error(), "422 Unprocessable Entity: Repository creation failed.") {
			t.Fatalf("err = %v", o.Err)
		}
	})
	t.Run("ErrBadToken", func(t *testing.T) {
		o := run(t, context.Background(), scaffolder.Run{Spec: spec(t, `
steps: [{id: p, action: publish:github, input: {repoUrl: '`+host+`?owner=larkspur&repo=other'}}]`)}, publishRegistry(t, srv, "wrong")...)
		if o.Err == nil || !strings.Contains(o.Err.Error(), "401 Unauthorized: Bad credentials") {
			t.Fatalf("err = %v", o.Err)
		}
	})
	t.Run("ErrPushRefused", func(t *testing.T) {
		o := run(t, context.Background(), scaffolder.Run{Spec: spec(t, `
steps: [{id: p, action: publish:git, input: {remoteUrl: '`+plain+`', token: wrong}}]`), Secrets: map[string]any{}}, publishRegistry(t, srv, f.Token)...)
		if o.Err == nil || !strings.Contains(o.Err.Error(), "git push") {
			t.Fatalf("err = %v", o.Err)
		}
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		o := run(t, context.Background(), scaffolder.Run{Spec: spec(t, `
steps: [{id: p, action: publish:git, input: {remoteUrl: 'http://127.0.0.1:1/x.git'}}]`)}, publishRegistry(t, srv, f.Token)...)
		if o.Err == nil || !strings.Contains(o.Err.Error(), "git push to http://127.0.0.1:1/x.git") {
			t.Fatalf("err = %v", o.Err)
		}
	})
	t.Run("ErrNotHTTP", func(t *testing.T) {
		o := run(t, context.Background(), scaffolder.Run{Spec: spec(t, `
steps: [{id: p, action: publish:git, input: {remoteUrl: 'file:///tmp/x.git'}}]`)}, publishRegistry(t, srv, f.Token)...)
		if o.Err == nil || !strings.Contains(o.Err.Error(), "only smart HTTP remotes") {
			t.Fatalf("err = %v", o.Err)
		}
	})
	t.Run("DryRunCreatesNothing", func(t *testing.T) {
		calls := len(f.Calls())
		o := run(t, context.Background(), scaffolder.Run{Spec: spec(t, `
steps: [{id: p, action: publish:github, input: {repoUrl: '`+host+`?owner=larkspur&repo=dry'}}]`), DryRun: true}, publishRegistry(t, srv, f.Token)...)
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if len(f.Calls()) != calls {
			t.Errorf("a dry run called the forge: %v", f.Calls()[calls:])
		}
		if h, _ := o.Steps[0].Output["commitHash"].(string); len(h) != 40 {
			t.Errorf("dry-run commit hash %q", h)
		}
	})
}
