package scaffolder_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/gittest"
	"github.com/greenroomhq/greenroom/internal/scaffolder"
)

// forge is a local server that speaks the REST endpoints publish:github
// and publish:gitlab call, as GitHub's and GitLab's documentation give
// them, and creates each repository on a real git server.
type forge struct {
	t     *testing.T
	git   *gittest.Server
	token string

	mu     sync.Mutex
	calls  []string
	topics map[string][]string
	repos  map[string]bool
}

func newForge(t *testing.T) (*forge, *httptest.Server) {
	f := &forge{t: t, git: gittest.NewServer(t), token: "tok-123", topics: map[string][]string{}, repos: map[string]bool{}}
	f.git.RequireToken(f.token)
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *forge) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.EscapedPath())
	authorized := r.Header.Get("Authorization") == "Bearer "+f.token || r.Header.Get("Private-Token") == f.token
	if !authorized {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"message": "Bad credentials"})
		return
	}
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	create := func(owner string) (string, bool) {
		name := owner + "/" + body["name"].(string) + ".git"
		if f.repos[name] {
			reply(http.StatusUnprocessableEntity, map[string]string{"message": "Repository creation failed."})
			return "", false
		}
		f.repos[name] = true
		return f.git.NewRepo(f.t, name), true
	}
	p, _ := url.PathUnescape(r.URL.EscapedPath())
	switch {
	// GitHub: https://docs.github.com/en/rest/users/users#get-a-user,
	// repos#create-an-organization-repository, repos#create-a-repository-for-the-authenticated-user,
	// repos#replace-all-repository-topics.
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/api/v3/users/"):
		login := strings.TrimPrefix(p, "/api/v3/users/")
		typ := "Organization"
		if login == "alice" {
			typ = "User"
		}
		reply(http.StatusOK, map[string]any{"login": login, "type": typ})
	case r.Method == http.MethodPost && strings.HasPrefix(p, "/api/v3/orgs/") && strings.HasSuffix(p, "/repos"):
		org := strings.TrimSuffix(strings.TrimPrefix(p, "/api/v3/orgs/"), "/repos")
		if clone, ok := create(org); ok {
			reply(http.StatusCreated, map[string]any{"clone_url": clone, "html_url": "https://ghe.example/" + org + "/" + body["name"].(string), "visibility": body["visibility"]})
		}
	case r.Method == http.MethodPost && p == "/api/v3/user/repos":
		if clone, ok := create("alice"); ok {
			reply(http.StatusCreated, map[string]any{"clone_url": clone, "html_url": "https://ghe.example/alice/" + body["name"].(string)})
		}
	case r.Method == http.MethodPut && strings.HasPrefix(p, "/api/v3/repos/") && strings.HasSuffix(p, "/topics"):
		var names []string
		for _, n := range body["names"].([]any) {
			names = append(names, n.(string))
		}
		f.topics[strings.TrimSuffix(strings.TrimPrefix(p, "/api/v3/repos/"), "/topics")] = names
		reply(http.StatusOK, map[string]any{"names": names})
	// GitLab: https://docs.gitlab.com/api/namespaces/#get-details-on-a-namespace,
	// https://docs.gitlab.com/api/projects/#create-a-project.
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/api/v4/namespaces/"):
		if ns := strings.TrimPrefix(p, "/api/v4/namespaces/"); ns == "platform/tools" {
			reply(http.StatusOK, map[string]any{"id": 42, "kind": "group", "full_path": ns})
		} else {
			reply(http.StatusNotFound, map[string]string{"message": "404 Namespace Not Found"})
		}
	case r.Method == http.MethodPost && p == "/api/v4/projects":
		if body["namespace_id"] != float64(42) {
			reply(http.StatusBadRequest, map[string]string{"message": "namespace_id is wrong"})
			return
		}
		if clone, ok := create("platform/tools"); ok {
			reply(http.StatusCreated, map[string]any{"id": 7, "http_url_to_repo": clone, "web_url": "https://gl.example/platform/tools/" + body["name"].(string)})
		}
	default:
		reply(http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

func publishRegistry(t *testing.T, srv *httptest.Server, token string) []scaffolder.Action {
	host := strings.TrimPrefix(srv.URL, "http://")
	forges := scaffolder.NewForges([]scaffolder.Integration{
		{Kind: "github", Host: host, APIBaseURL: srv.URL + "/api/v3", Token: token},
		{Kind: "gitlab", Host: "gitlab." + host, APIBaseURL: srv.URL + "/api/v4", Token: token},
	}, srv.Client())
	return forges.PublishActions()
}

func TestPublish(t *testing.T) {
	f, srv := newForge(t)
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
	plain := f.git.NewRepo(t, "plain/repo.git")
	values := map[string]any{"name": "pay-svc", "host": host, "plain": plain}
	root := templateFS(t, dir)
	o := run(t, context.Background(), scaffolder.Run{Spec: s, Values: values, Secrets: map[string]any{"gitToken": f.token}, Template: root.FS()},
		publishRegistry(t, srv, f.token)...)
	if o.Err != nil {
		t.Fatalf("run: %v\n%s", o.Err, o.logText())
	}
	want := map[string]string{"README.md": "# pay-svc\n", "src/main.go": "package main\n"}
	for _, repo := range []string{"larkspur/pay-svc.git", "platform/tools/pay-svc.git", "plain/repo.git"} {
		if diff := cmp.Diff(want, f.git.Files(t, repo, "main")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", repo, diff)
		}
		if n := f.git.Pushes(repo); n != 1 {
			t.Errorf("%s: %d pushes", repo, n)
		}
	}
	if diff := cmp.Diff(map[string]string{"main.go": "package main\n"}, f.git.Files(t, "alice/pay-svc.git", "trunk")); diff != "" {
		t.Errorf("sourcePath and defaultBranch (-want +got):\n%s", diff)
	}
	if got := o.Steps[1].Output["commitHash"]; got != f.git.Head(t, "larkspur/pay-svc.git", "main") {
		t.Errorf("commitHash %v is not the pushed head", got)
	}
	if diff := cmp.Diff([]string{"go", "service"}, f.topics["larkspur/pay-svc"]); diff != "" {
		t.Errorf("topics (-want +got):\n%s", diff)
	}
	wantOut := map[string]any{"contents": "https://ghe.example/larkspur/pay-svc/blob/main", "gitlab": "https://gl.example/platform/tools/pay-svc/-/blob/main"}
	if diff := cmp.Diff(wantOut, o.Output); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if strings.Contains(o.logText(), f.token) {
		t.Errorf("log shows the token:\n%s", o.logText())
	}

	t.Run("ErrRepoExists", func(t *testing.T) {
		o := run(t, context.Background(), scaffolder.Run{Spec: spec(t, `
steps: [{id: again, action: publish:github, input: {repoUrl: '`+host+`?owner=larkspur&repo=pay-svc'}}]`)}, publishRegistry(t, srv, f.token)...)
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
steps: [{id: p, action: publish:git, input: {remoteUrl: '`+plain+`', token: wrong}}]`), Secrets: map[string]any{}}, publishRegistry(t, srv, f.token)...)
		if o.Err == nil || !strings.Contains(o.Err.Error(), "git push") {
			t.Fatalf("err = %v", o.Err)
		}
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		o := run(t, context.Background(), scaffolder.Run{Spec: spec(t, `
steps: [{id: p, action: publish:git, input: {remoteUrl: 'http://127.0.0.1:1/x.git'}}]`)}, publishRegistry(t, srv, f.token)...)
		if o.Err == nil || !strings.Contains(o.Err.Error(), "git push to http://127.0.0.1:1/x.git") {
			t.Fatalf("err = %v", o.Err)
		}
	})
	t.Run("ErrNotHTTP", func(t *testing.T) {
		o := run(t, context.Background(), scaffolder.Run{Spec: spec(t, `
steps: [{id: p, action: publish:git, input: {remoteUrl: 'file:///tmp/x.git'}}]`)}, publishRegistry(t, srv, f.token)...)
		if o.Err == nil || !strings.Contains(o.Err.Error(), "only smart HTTP remotes") {
			t.Fatalf("err = %v", o.Err)
		}
	})
	t.Run("DryRunCreatesNothing", func(t *testing.T) {
		calls := len(f.calls)
		o := run(t, context.Background(), scaffolder.Run{Spec: spec(t, `
steps: [{id: p, action: publish:github, input: {repoUrl: '`+host+`?owner=larkspur&repo=dry'}}]`), DryRun: true}, publishRegistry(t, srv, f.token)...)
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if len(f.calls) != calls {
			t.Errorf("a dry run called the forge: %v", f.calls[calls:])
		}
		if h, _ := o.Steps[0].Output["commitHash"].(string); len(h) != 40 {
			t.Errorf("dry-run commit hash %q", h)
		}
	})
}
