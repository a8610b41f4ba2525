package gittest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Forge is a local server that speaks the REST endpoints publish:github
// and publish:gitlab call, as GitHub's and GitLab's documentation give
// them, and creates each repository on a real git server (Git). Its API is
// at Server.URL+"/api/v3" (GitHub) and Server.URL+"/api/v4" (GitLab);
// both answer only Token, which the git server asks for too.
//
// GitHub: users#get-a-user (the login "alice" is a user, any other an
// organization), repos#create-an-organization-repository,
// repos#create-a-repository-for-the-authenticated-user,
// repos#replace-all-repository-topics, and
// repos/contents#get-repository-content with the raw media type. A
// repository's html_url is on the forge's own host, so that its blob URLs
// are read through that API. GitLab: namespaces (only
// "platform/tools", id 42), projects#create-a-project. Every path outside
// the APIs is the git server's, so that a repository clones from the
// forge's host as from GitHub's.
type Forge struct {
	Server *httptest.Server
	Git    *Server
	Token  string

	t      testing.TB
	mu     sync.Mutex
	calls  []string
	topics map[string][]string
	repos  map[string]bool
}

// NewForge starts a forge and its git server; they stop when the test
// ends.
func NewForge(t testing.TB) *Forge {
	f := &Forge{t: t, Git: NewServer(t), Token: "tok-123", topics: map[string][]string{}, repos: map[string]bool{}}
	f.Git.RequireToken(f.Token)
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Server.Close)
	return f
}

// Host is the forge's host:port, as a RepoUrlPicker value names it.
func (f *Forge) Host() string { return strings.TrimPrefix(f.Server.URL, "http://") }

// Calls are the API calls made so far, "METHOD /path".
func (f *Forge) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Topics are the topics set on a GitHub repository ("owner/name").
func (f *Forge) Topics(repo string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.topics[repo]
}

func (f *Forge) serve(w http.ResponseWriter, r *http.Request) {
	// Git's smart HTTP on the forge's own host, as GitHub and GitLab serve
	// a repository's clone URL beside its web pages.
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		target, _ := url.Parse(f.Git.URL)
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.EscapedPath())
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	if r.Header.Get("Authorization") != "Bearer "+f.Token && r.Header.Get("Private-Token") != f.Token {
		reply(http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	name, _ := body["name"].(string)
	create := func(owner string) (string, bool) {
		repo := owner + "/" + name + ".git"
		if name == "" || f.repos[repo] {
			reply(http.StatusUnprocessableEntity, map[string]string{"message": "Repository creation failed."})
			return "", false
		}
		f.repos[repo] = true
		return f.Git.NewRepo(f.t, repo), true
	}
	p, _ := url.PathUnescape(r.URL.EscapedPath())
	switch {
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
			reply(http.StatusCreated, map[string]any{"clone_url": clone, "html_url": f.Server.URL + "/" + org + "/" + name, "visibility": body["visibility"]})
		}
	case r.Method == http.MethodPost && p == "/api/v3/user/repos":
		if clone, ok := create("alice"); ok {
			reply(http.StatusCreated, map[string]any{"clone_url": clone, "html_url": f.Server.URL + "/alice/" + name})
		}
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/api/v3/repos/") && strings.Contains(p, "/contents/"):
		repo, file, _ := strings.Cut(strings.TrimPrefix(p, "/api/v3/repos/"), "/contents/")
		if r.Header.Get("Accept") != "application/vnd.github.raw" {
			reply(http.StatusNotAcceptable, map[string]string{"message": "ask for the raw media type"})
			return
		}
		content, ok := f.Git.Show(repo+".git", r.URL.Query().Get("ref"), file)
		if !ok {
			reply(http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		w.Write([]byte(content))
	case r.Method == http.MethodPut && strings.HasPrefix(p, "/api/v3/repos/") && strings.HasSuffix(p, "/topics"):
		var names []string
		list, _ := body["names"].([]any)
		for _, n := range list {
			s, _ := n.(string)
			names = append(names, s)
		}
		f.topics[strings.TrimSuffix(strings.TrimPrefix(p, "/api/v3/repos/"), "/topics")] = names
		reply(http.StatusOK, map[string]any{"names": names})
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
			reply(http.StatusCreated, map[string]any{"id": 7, "http_url_to_repo": clone, "web_url": "https://gl.example/platform/tools/" + name})
		}
	default:
		reply(http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}
