package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun_DocsBuild builds a docs folder offline into MkDocs' layout and
// prints its report with file and line; --strict fails on warnings.
func TestRun_DocsBuild(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, dir, "mkdocs.yml", "site_name: Payments\nsite_description: How payments work\nnav:\n  - Home: index.md\n  - Guide: guide.md\n  - Gone: gone.md\n")
	mustWrite(t, dir, "docs/index.md", "# Payments\n\nSee the [guide](guide.md#setup).\n")
	mustWrite(t, dir, "docs/guide.md", "# Guide\n\n## Setup\n\n[broken](nowhere.md)\n")
	mustWrite(t, dir, "docs/img/logo.svg", "<svg/>")
	out := filepath.Join(t.TempDir(), "site")
	code, stdout, stderr := runCmd(t, nil, "docs", "build", dir, "--out", out)
	if code != 0 || !strings.Contains(stdout, `built "Payments": 2 pages, 1 assets, 2 warnings`) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		filepath.Join(dir, "docs", "guide.md") + ":5: warning: links to nowhere.md, which is not in the docs",
		filepath.Join(dir, "mkdocs.yml") + ":6: warning: the nav names gone.md, which is not a page of the docs",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("report lacks %q:\n%s", want, stderr)
		}
	}
	for _, f := range []string{"index.html", "guide/index.html", "img/logo.svg", "search/search_index.json", "techdocs_metadata.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	index, _ := os.ReadFile(filepath.Join(out, "index.html"))
	for _, want := range []string{`<article class="md-content__inner md-typeset">`, `href="guide/#setup"`, `<a class="md-nav__link md-nav__link--active" href="./">Home</a>`, `<a class="md-nav__link" href="guide/">Guide</a>`} {
		if !strings.Contains(string(index), want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	var meta struct {
		SiteName string `json:"site_name"`
		Files    []string
	}
	data, _ := os.ReadFile(filepath.Join(out, "techdocs_metadata.json"))
	if err := json.Unmarshal(data, &meta); err != nil || meta.SiteName != "Payments" || len(meta.Files) != 7 {
		t.Errorf("techdocs_metadata.json: %s", data)
	}

	if code, _, _ := runCmd(t, nil, "docs", "build", dir, "--out", out, "--strict"); code != 1 {
		t.Errorf("--strict with warnings: exit %d, want 1", code)
	}
	if code, _, stderr := runCmd(t, nil, "docs", "build", t.TempDir(), "--out", out); code != 1 || !strings.Contains(stderr, "the docs folder docs/ does not exist") {
		t.Errorf("no docs: exit %d %s", code, stderr)
	}
}
