package gitfs_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/greenroomhq/greenroom/internal/gitfs"
	"github.com/greenroomhq/greenroom/internal/gittest"
)

// A folder of a branch and of a tag, read from a real git server that
// asks for a token: files, an executable, a symlink, nested folders.
func TestClone(t *testing.T) {
	srv := gittest.NewServer(t)
	srv.RequireToken("tok")
	dir := t.TempDir()
	write := func(name, data string, mode os.FileMode) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "root\n", 0o644)
	write("templates/go/template.yaml", "kind: Template\n", 0o644)
	write("templates/go/skeleton/main.go", "package main\n", 0o644)
	write("templates/go/skeleton/bin/run.sh", "#!/bin/sh\n", 0o755)
	write("templates/go/skeleton/.github/workflows/ci.yaml", "on: push\n", 0o644)
	if err := os.Symlink("main.go", filepath.Join(dir, "templates/go/skeleton/link.go")); err != nil {
		t.Fatal(err)
	}
	write("templates/go/escape/in.go", "package in\n", 0o644)
	if err := os.Symlink("../template.yaml", filepath.Join(dir, "templates/go/escape/out.go")); err != nil {
		t.Fatal(err)
	}
	srv.PushDir(t, dir, "org/templates.git", "main")
	write("templates/go/skeleton/main.go", "package changed\n", 0o644)
	srv.PushDir(t, dir, "org/templates.git", "next")

	auth := &githttp.BasicAuth{Username: "x-access-token", Password: "tok"}
	ctx := context.Background()
	fsys, err := gitfs.Clone(ctx, srv.URL+"/org/templates.git", auth, "main", "templates/go/skeleton")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "main.go", "bin/run.sh", ".github/workflows/ci.yaml"); err != nil {
		t.Fatal(err)
	}
	if data, _ := fs.ReadFile(fsys, "main.go"); string(data) != "package main\n" {
		t.Errorf("main.go at main: %q", data)
	}
	if fi, _ := fs.Stat(fsys, "bin/run.sh"); fi.Mode() != 0o755 {
		t.Errorf("run.sh mode %v", fi.Mode())
	}
	if target, err := fs.ReadLink(fsys, "link.go"); target != "main.go" || err != nil {
		t.Errorf("link.go: %q %v", target, err)
	}
	if fi, err := fs.Lstat(fsys, "link.go"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("lstat link.go: %v %v", fi, err)
	}
	if data, err := fs.ReadFile(fsys, "link.go"); string(data) != "package main\n" {
		t.Errorf("link.go followed: %q %v", data, err)
	}
	escape, err := gitfs.Clone(ctx, srv.URL+"/org/templates.git", auth, "main", "templates/go/escape")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := escape.Open("out.go"); err == nil || !strings.Contains(err.Error(), "leaves the tree") {
		t.Errorf("a symlink out of the folder: %v", err)
	}
	if _, err := fsys.Open("../template.yaml"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("../template.yaml: %v", err)
	}

	next, err := gitfs.Clone(ctx, srv.URL+"/org/templates.git", auth, "next", "")
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := fs.ReadFile(next, "templates/go/skeleton/main.go"); string(data) != "package changed\n" {
		t.Errorf("main.go at next: %q", data)
	}

	for _, tc := range []struct{ ref, dir, want string }{
		{"nope", "", "has no branch or tag nope"},
		{"main", "templates/none", "has no folder templates/none"},
	} {
		if _, err := gitfs.Clone(ctx, srv.URL+"/org/templates.git", auth, tc.ref, tc.dir); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want %q", tc.ref, tc.dir, err, tc.want)
		}
	}
	if _, err := gitfs.Clone(ctx, srv.URL+"/org/templates.git", &githttp.BasicAuth{Username: "x", Password: "wrong"}, "main", ""); err == nil {
		t.Error("cloned with a wrong token")
	}

	// Head lists the refs only.
	before := srv.Fetches("org/templates.git")
	for ref, want := range map[string]string{"main": srv.Head(t, "org/templates.git", "main"), "next": srv.Head(t, "org/templates.git", "next")} {
		if got, err := gitfs.Head(ctx, srv.URL+"/org/templates.git", auth, ref); got != want || err != nil {
			t.Errorf("Head %s = %s, %v; want %s", ref, got, err, want)
		}
	}
	if _, err := gitfs.Head(ctx, srv.URL+"/org/templates.git", auth, "nope"); err == nil || !strings.Contains(err.Error(), "has no branch or tag nope") {
		t.Errorf("Head of no ref: %v", err)
	}
	if n := srv.Fetches("org/templates.git"); n != before {
		t.Errorf("Head fetched %d times", n-before)
	}
}
