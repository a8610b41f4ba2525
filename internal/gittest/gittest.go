// Package gittest runs a real git server for tests: git's own
// git-http-backend behind net/http/cgi, serving bare repositories over
// smart HTTP, the protocol publish actions push with. It counts the pushes
// each repository receives, so that a test can tell a task that pushed
// twice.
package gittest

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Server is a git server over smart HTTP at URL.
type Server struct {
	URL  string
	root string

	mu      sync.Mutex
	pushes  map[string]int
	fetches map[string]int
	token   string
}

// RequireToken makes the server refuse pushes and fetches whose basic
// auth password is not token.
func (s *Server) RequireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// NewServer starts a git server; it stops when the test ends. The test is
// skipped where git is not installed.
func NewServer(t testing.TB) *Server {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skip("git is not installed:", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	s := &Server{root: t.TempDir(), pushes: map[string]int{}, fetches: map[string]int{}}
	h := &cgi.Handler{
		Path: backend,
		Env:  []string{"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=test"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		token := s.token
		s.mu.Unlock()
		if _, pass, _ := r.BasicAuth(); token != "" && pass != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			s.mu.Lock()
			s.pushes[strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/git-receive-pack")]++
			s.mu.Unlock()
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			s.mu.Lock()
			s.fetches[strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/git-upload-pack")]++
			s.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// NewRepo makes an empty bare repository (name such as "org/repo.git")
// and returns its clone URL.
func (s *Server) NewRepo(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(s.root, filepath.FromSlash(name))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.git(t, dir, "init", "--bare", "--quiet")
	s.git(t, dir, "config", "http.receivepack", "true")
	return s.URL + "/" + name
}

// PushDir commits the files of dir (made a repository if it is not one)
// and pushes them to branch of the repository name, made if need be.
func (s *Server) PushDir(t testing.TB, dir, name, branch string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(s.root, filepath.FromSlash(name))); err != nil {
		s.NewRepo(t, name)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		s.git(t, dir, "init", "--quiet", "--initial-branch", branch)
	}
	s.git(t, dir, "add", "--all")
	s.git(t, dir, "-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "--quiet", "--allow-empty", "--message", "seed")
	u, _ := url.Parse(s.URL + "/" + name)
	s.mu.Lock()
	if s.token != "" {
		u.User = url.UserPassword("test", s.token)
	}
	s.mu.Unlock()
	s.git(t, dir, "push", "--quiet", u.String(), "HEAD:refs/heads/"+branch)
}

// Pushes counts the pushes a repository has received.
func (s *Server) Pushes(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushes[name]
}

// Fetches counts the fetches (clones included) a repository has served;
// listing its refs is not one.
func (s *Server) Fetches(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches[name]
}

// Files lists the files of a branch of a repository, with their contents.
func (s *Server) Files(t testing.TB, name, branch string) map[string]string {
	t.Helper()
	dir := filepath.Join(s.root, filepath.FromSlash(name))
	out := map[string]string{}
	for _, f := range strings.Split(strings.TrimSpace(s.git(t, dir, "ls-tree", "-r", "--name-only", branch)), "\n") {
		if f != "" {
			out[f] = s.git(t, dir, "show", branch+":"+f)
		}
	}
	return out
}

// Show returns a file of a repository at a ref, and whether it exists.
func (s *Server) Show(name, ref, file string) (string, bool) {
	cmd := exec.Command("git", "show", ref+":"+file)
	cmd.Dir = filepath.Join(s.root, filepath.FromSlash(name))
	out, err := cmd.Output()
	return string(out), err == nil
}

// Head returns the commit a branch of a repository points to.
func (s *Server) Head(t testing.TB, name, branch string) string {
	t.Helper()
	return strings.TrimSpace(s.git(t, filepath.Join(s.root, filepath.FromSlash(name)), "rev-parse", branch))
}

func (s *Server) git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
