package techdocs

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func build(t *testing.T, files map[string]string, prev *Site) *Site {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	site, err := Build(context.Background(), fsys, Options{DefaultName: "svc", Previous: prev})
	if err != nil {
		t.Fatal(err)
	}
	return site
}

type navView struct {
	Title, Path string
	Children    []navView `json:",omitempty"`
}

func views(items []*NavItem) []navView {
	var out []navView
	for _, it := range items {
		out = append(out, navView{Title: it.Title, Path: it.Path, Children: views(it.Children)})
	}
	return out
}

// The automatic nav, URLs and titles as MkDocs 1.4.2 makes them
// (backstage-spec.md §8.2): a folder's files before its subfolders,
// index/README first, the rest by file name case-sensitively; folder
// titles from their names; page titles from a first "# " line, front
// matter, else the file name (Home for the home page).
func TestBuild_AutoNav(t *testing.T) {
	site := build(t, map[string]string{
		"docs/index.md":                  "Intro without a heading.\n",
		"docs/a.md":                      "# Alpha `code`\n",
		"docs/Zeta.md":                   "\n\n# Zeta\n",
		"docs/a-b.md":                    "text first\n# Not a title\n",
		"docs/a_b.md":                    "---\ntitle: \"From: front matter\"\n---\n# Ignored\n",
		"docs/getting-started/README.md": "# Start\n",
		"docs/getting-started/b.md":      "## Only h2\n",
		"docs/API_Docs/x.md":             "# X\n",
		"docs/.hidden.md":                "# Hidden\n",
		"docs/img/logo.png":              "PNG",
	}, nil)
	want := []navView{
		{Title: "Home", Path: ""},
		{Title: "Zeta", Path: "Zeta/"},
		{Title: "A b", Path: "a-b/"},
		{Title: "Alpha `code`", Path: "a/"},
		{Title: "From: front matter", Path: "a_b/"},
		{Title: "API Docs", Children: []navView{{Title: "X", Path: "API_Docs/x/"}}},
		{Title: "Getting started", Children: []navView{{Title: "Start", Path: "getting-started/"}, {Title: "B", Path: "getting-started/b/"}}},
	}
	if diff := cmp.Diff(want, views(site.Nav)); diff != "" {
		t.Errorf("nav (-want +got):\n%s", diff)
	}
	var dests []string
	for _, p := range site.Pages {
		dests = append(dests, p.Dest)
	}
	wantDests := []string{"index.html", "Zeta/index.html", "a-b/index.html", "a/index.html", "a_b/index.html", "API_Docs/x/index.html", "getting-started/index.html", "getting-started/b/index.html"}
	if diff := cmp.Diff(wantDests, dests); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if len(site.Assets) != 1 || site.Assets[0].Path != "img/logo.png" {
		t.Errorf("assets %v", site.Assets)
	}
}

// An explicit nav: sections, titles that win everywhere, links, and an
// entry without a page reported; use_directory_urls: false.
func TestBuild_ExplicitNav(t *testing.T) {
	site := build(t, map[string]string{
		"mkdocs.yml": `site_name: Payments
site_description: How payments work
use_directory_urls: false
nav:
  - Home: index.md
  - Guide:
      - guide/setup.md
      - Running it: guide/run.md
      - guide/missing.md
  - Source: https://github.com/org/payments
markdown_extensions:
  - admonition
  - pymdownx.emoji:
      emoji_index: !!python/name:materialx.emoji.twemoji
  - pymdownx.arithmatex
plugins: [techdocs-core, monorepo]
`,
		"docs/index.md":       "# Welcome\n",
		"docs/guide/setup.md": "# Setup\n[run](run.md#start)\n",
		"docs/guide/run.md":   "# Run\n## Start\n",
	}, nil)
	want := []navView{
		{Title: "Home", Path: "index.html"},
		{Title: "Guide", Children: []navView{{Title: "Setup", Path: "guide/setup.html"}, {Title: "Running it", Path: "guide/run.html"}}},
		{Title: "Source"},
	}
	if diff := cmp.Diff(want, views(site.Nav)); diff != "" {
		t.Errorf("nav (-want +got):\n%s", diff)
	}
	if site.Name != "Payments" || site.Description != "How payments work" {
		t.Errorf("site %q %q", site.Name, site.Description)
	}
	if p := site.Pages[1]; p.Src != "guide/run.md" || p.Title != "Running it" {
		t.Errorf("page %s titled %q, want the nav's title", p.Src, p.Title)
	}
	if !strings.Contains(site.Pages[2].HTML, `href="run.html#start"`) {
		t.Errorf("link not rewritten: %s", site.Pages[2].HTML)
	}
	warnings := warningText(site)
	for _, w := range []string{
		"mkdocs.yml:9: the nav names guide/missing.md, which is not a page of the docs",
		"mkdocs.yml: markdown extension pymdownx.arithmatex is not supported",
		"mkdocs.yml: plugin monorepo is not supported",
	} {
		if !strings.Contains(warnings, w) {
			t.Errorf("warnings lack %q:\n%s", w, warnings)
		}
	}
}

func warningText(s *Site) string {
	var b strings.Builder
	for _, w := range s.Warnings {
		b.WriteString(w.String() + "\n")
	}
	return b.String()
}

// Links are rewritten relative to each page's URL; links to missing
// files and anchors no heading has are reported with their line.
func TestBuild_Links(t *testing.T) {
	site := build(t, map[string]string{
		"docs/index.md":       "# Home\n\n[a](guide/a.md) [dir](guide/) [img](img/x.png)\n",
		"docs/guide/index.md": "# Guide\n",
		"docs/guide/a.md":     "# A\n\n## Part one\n\n[home](../index.md#home) [b](b.md)\n\n[bad](../index.md#nope) [self](#part-one) [selfbad](#nah)\n\n![pic](../img/x.png)\n[up](../../outside.md) [web](https://example.com/a.md)\n",
		"docs/img/x.png":      "PNG",
	}, nil)
	html := map[string]string{}
	for _, p := range site.Pages {
		html[p.Src] = p.HTML
	}
	for src, want := range map[string][]string{
		"index.md":   {`href="guide/a/"`, `href="guide/"`, `href="img/x.png"`},
		"guide/a.md": {`href="../..#home"`, `href="b.md"`, `src="../../img/x.png"`, `href="https://example.com/a.md"`, `href="#part-one"`},
	} {
		for _, w := range want {
			if !strings.Contains(html[src], w) {
				t.Errorf("%s lacks %s:\n%s", src, w, html[src])
			}
		}
	}
	want := `docs/guide/a.md:5: links to guide/b.md, which is not in the docs
docs/guide/a.md:7: links to #nope, which index.md has no heading for
docs/guide/a.md:7: links to #nah, which guide/a.md has no heading for
docs/guide/a.md:10: links to ../outside.md, which is not in the docs
`
	if got := warningText(site); got != want {
		t.Errorf("warnings:\n%s\nwant:\n%s", got, want)
	}
}

// The extensions techdocs-core enables, rendered as Python-Markdown,
// pymdownx and Material render them; raw HTML sanitized.
func TestRender_Extensions(t *testing.T) {
	src := "# Title {#custom .big}\n\n" +
		"## Über & Co: the `config` file!\n\n## Dup\n\n## Dup\n\n" +
		"!!! warning \"Mind the gap\"\n    Inside **bold**.\n\n" +
		"!!! note\n    Default title.\n\n" +
		"!!! tip \"\"\n    No title.\n\n" +
		"??? info \"More\"\n    Hidden.\n\n" +
		"???+ info \"Open\"\n    Shown.\n\n" +
		"=== \"Go\"\n    go code\n\n=== \"Python\"\n    py code\n\n" +
		"- [x] done\n- [ ] todo\n\n" +
		"> [!WARNING]\n> Careful now.\n\n" +
		"Emoji :smile: here.\n\n" +
		"```go\nfunc main() {}\n```\n\n" +
		"```mermaid\ngraph TD; A-->B\n```\n\n" +
		"Term\n: Definition\n\n" +
		"Note[^1].\n\n[^1]: The footnote.\n\n" +
		"| a | b |\n|---|---|\n| 1 | 2 |\n"
	out := render([]byte(src), renderCtx{self: newFile("index.md", 0, true), files: map[string]*file{}})
	for _, want := range []string{
		`<h1 id="custom" class="big">Title<a class="headerlink" href="#custom" title="Permanent link">&para;</a></h1>`,
		`<h2 id="uber-co-the-config-file">`,
		`<h2 id="dup">`, `<h2 id="dup_1">`,
		`<div class="admonition warning">` + "\n" + `<p class="admonition-title">Mind the gap</p>` + "\n<p>Inside <strong>bold</strong>.</p>\n</div>",
		`<p class="admonition-title">Note</p>`,
		`<div class="admonition tip">` + "\n<p>No title.</p>",
		`<details class="info">` + "\n<summary>More</summary>\n<p>Hidden.</p>\n</details>",
		`<details class="info" open="open">`,
		`<div class="tabbed-set tabbed-alternate" data-tabs="1:2"><input checked="checked" id="__tabbed_1_1" name="__tabbed_1" type="radio" /><input id="__tabbed_1_2" name="__tabbed_1" type="radio" /><div class="tabbed-labels"><label for="__tabbed_1_1">Go</label><label for="__tabbed_1_2">Python</label></div>`,
		`<div class="tabbed-block">` + "\n<p>go code</p>\n</div>",
		`<ul class="task-list">`, `<li class="task-list-item"><label class="task-list-control"><input type="checkbox" disabled checked/><span class="task-list-indicator"></span></label> done</li>`,
		`<div class="admonition warning">` + "\n" + `<p class="admonition-title">Warning</p>` + "\n<p>Careful now.</p>",
		"&#x1f604;",
		`<div class="language-go highlight"><pre><span></span><code><span class="kd">func</span>`,
		`<pre class="mermaid"><code>graph TD; A--&gt;B` + "\n</code></pre>",
		"<dl>\n<dt>Term</dt>\n<dd>Definition</dd>\n</dl>",
		`<sup id="fnref:1">`,
		"<table>",
	} {
		if !strings.Contains(out.HTML, want) {
			t.Errorf("HTML lacks %s\n%s", want, out.HTML)
		}
	}
	var ids []string
	for _, h := range out.TOC {
		ids = append(ids, h.ID)
	}
	if diff := cmp.Diff([]string{"custom", "uber-co-the-config-file", "dup", "dup_1"}, ids); diff != "" {
		t.Errorf("toc (-want +got):\n%s", diff)
	}
	if out.Title != "Title {#custom .big}" {
		t.Errorf("title %q", out.Title)
	}

	// Raw HTML is kept, sanitized: no scripts, handlers or javascript: URLs.
	raw := "# Raw\n\n<div onclick=\"x()\" class=\"box\">raw <script>alert(1)</script><a href=\"javascript:y()\">j</a><br><img src=\"a.png\" onerror=\"z()\"></div>\n\n[md](javascript:alert(2))\n"
	out = render([]byte(raw), renderCtx{self: newFile("index.md", 0, true), files: map[string]*file{}})
	for _, bad := range []string{"<script", "onclick", "onerror", "javascript:"} {
		if strings.Contains(out.HTML, bad) {
			t.Errorf("HTML keeps %s:\n%s", bad, out.HTML)
		}
	}
	for _, want := range []string{`<div class="box">raw`, `<br><img src="a.png"></div>`, `<h1 id="raw">Raw`} {
		if !strings.Contains(out.HTML, want) {
			t.Errorf("HTML lacks %s:\n%s", want, out.HTML)
		}
	}
}

// search/search_index.json: a page entry, then one per heading holding
// the text up to the next; titles escaped as the toc escapes them.
func TestSearchIndex(t *testing.T) {
	site := build(t, map[string]string{
		"docs/index.md": "# Home\n\nIntro text.\n\n## A & B\n\nSection *one*.\n\n### Deeper\n\nMore.\n",
		"docs/b.md":     "Plain page.\n",
	}, nil)
	got, _ := json.Marshal(site.SearchIndex())
	want := `[{"location":"","text":"Home ¶ Intro text. A \u0026 B ¶ Section one . Deeper ¶ More.","title":"Home"},` +
		`{"location":"#home","text":"Intro text.","title":"Home"},` +
		`{"location":"#a-b","text":"Section one .","title":"A \u0026amp; B"},` +
		`{"location":"#deeper","text":"More.","title":"Deeper"},` +
		`{"location":"b/","text":"Plain page.","title":"B"}]`
	if string(got) != want {
		t.Errorf("search index:\n%s\nwant:\n%s", got, want)
	}
}

// A rebuild renders only the pages whose inputs changed; a new file
// changes every page's inputs (a link may now resolve).
func TestBuild_Incremental(t *testing.T) {
	files := map[string]string{"docs/index.md": "# Home\n", "docs/a.md": "# A\n", "docs/b.md": "# B\n"}
	first := build(t, files, nil)
	if first.Rendered != 3 {
		t.Fatalf("first build rendered %d", first.Rendered)
	}
	files["docs/a.md"] = "# A changed\n"
	second := build(t, files, first)
	if second.Rendered != 1 || second.Pages[1].Title != "A changed" || second.Pages[2].HTML != first.Pages[2].HTML {
		t.Errorf("second build rendered %d: %+v", second.Rendered, second.Pages[1])
	}
	files["docs/c.md"] = "# C\n"
	if third := build(t, files, second); third.Rendered != 4 {
		t.Errorf("a new file rendered %d pages, want 4", third.Rendered)
	}
}

// Bad sources: no docs folder, an mkdocs.yml that does not parse or
// names a docs_dir outside the source, a page too large.
func TestBuild_Bad(t *testing.T) {
	for name, tc := range map[string]struct {
		files map[string]string
		want  string
	}{
		"no docs":         {map[string]string{"mkdocs.yml": "site_name: x\n"}, "the docs folder docs/ does not exist"},
		"bad yaml":        {map[string]string{"mkdocs.yml": "site_name: [x\n", "docs/index.md": ""}, "mkdocs.yml:"},
		"docs_dir climbs": {map[string]string{"mkdocs.yml": "site_name: x\ndocs_dir: ../elsewhere\n"}, "must be a folder inside the docs source"},
		"no site_name":    {map[string]string{"mkdocs.yml": "docs_dir: docs\n", "docs/index.md": ""}, "site_name is required"},
	} {
		fsys := fstest.MapFS{}
		for n, d := range tc.files {
			fsys[n] = &fstest.MapFile{Data: []byte(d)}
		}
		if _, err := Build(context.Background(), fsys, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	big := strings.Repeat("word ", MaxPageBytes/5+1)
	site := build(t, map[string]string{"docs/index.md": "# Home\n", "docs/big.md": big}, nil)
	if len(site.Pages) != 1 || !strings.Contains(warningText(site), "docs/big.md: big.md is larger than 1 MiB and is left out") {
		t.Errorf("a huge page: %d pages, warnings %s", len(site.Pages), warningText(site))
	}
}

// A page's nav opens the sections that lead to it and closes the others
// to a link to their first page.
func TestPageHTML_Nav(t *testing.T) {
	site := build(t, map[string]string{
		"docs/index.md": "# Home\n", "docs/a/one.md": "# One\n", "docs/a/two.md": "# Two\n", "docs/b/deep/three.md": "# Three\n",
	}, nil)
	var two *Page
	for _, p := range site.Pages {
		if p.Src == "a/two.md" {
			two = p
		}
	}
	html := string(site.PageHTML(two))
	for _, want := range []string{
		`<a class="md-nav__link" href="../../">Home</a>`,
		`<span class="md-nav__link">A</span>`,
		`<a class="md-nav__link" href="../../a/one/">One</a>`,
		`<a class="md-nav__link md-nav__link--active" href="../../a/two/">Two</a>`,
		`<li class="md-nav__item md-nav__item--nested"><a class="md-nav__link" href="../../b/deep/three/">B</a></li>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the nav of a/two lacks %s:\n%s", want, html)
		}
	}
	if strings.Contains(html, ">Three<") {
		t.Errorf("a closed section shows its pages:\n%s", html)
	}
}
