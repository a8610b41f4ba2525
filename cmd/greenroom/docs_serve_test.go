package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const docsCatalog = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  annotations:
    backstage.io/techdocs-ref: dir:.
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: undocumented
spec: {type: service, lifecycle: production, owner: team-a}
`

type docsView struct {
	Status  string
	BuiltAt *string
	Error   *string
	Site    struct{ Name string }
	Nav     []struct {
		Title string
		Path  *string
	}
	Report []struct {
		File    string
		Line    *int
		Message string
	}
	Page *struct {
		Title, HTML string
		TOC         []struct{ ID string }
	}
}

// TestMain_Docs builds an entity's docs through the real server on each
// database: built after the first refresh, read through Entity.docs and
// served at /docs/… as a site; refreshDocs rebuilds an edited page; a
// build that fails keeps the last good one serving.
func TestMain_Docs(t *testing.T) {
	eachDatabase(t, testDocs)
}

func testDocs(t *testing.T, dsn string) {
	dir := t.TempDir()
	catalogFile := mustWrite(t, dir, "catalog-info.yaml", docsCatalog)
	mustWrite(t, dir, "mkdocs.yml", "site_name: Payments\nnav:\n  - Home: index.md\n  - Guide: guide.md\n")
	mustWrite(t, dir, "docs/index.md", "# Payments\n\n!!! note\n    Read the [guide](guide.md#setup).\n\n<script>alert(1)</script>\n")
	mustWrite(t, dir, "docs/guide.md", "# Guide\n\n## Setup\n\n[broken](nowhere.md)\n")
	mustWrite(t, dir, "docs/img/logo.svg", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
	cfg := DefaultConfig()
	cfg.Locations = []string{catalogFile}
	m, base := serve(t, cfg, dsn)

	docs := func(ref, page string) *docsView {
		t.Helper()
		data, code := graphql(t, base, `query($ref: String!, $page: String!) { entity(ref: $ref) { docs {
			status builtAt error site { name } nav { title path } report { file line message } page(path: $page) { title html toc { id } } } } }`,
			map[string]any{"ref": ref, "page": page})
		if code != "" {
			t.Fatalf("docs of %s: %s %s", ref, code, data)
		}
		var out struct{ Entity struct{ Docs *docsView } }
		json.Unmarshal(data, &out)
		return out.Entity.Docs
	}
	await := func(what string, ok func(*docsView) bool) *docsView {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			d := docs("component:payments", "guide/")
			if d != nil && ok(d) {
				return d
			}
			if time.Now().After(deadline) {
				t.Fatalf("docs never %s: %+v", what, d)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	d := await("built", func(d *docsView) bool { return d.Status == "BUILT" })
	if d.Site.Name != "Payments" || len(d.Nav) != 2 || *d.Nav[1].Path != "guide/" || d.Page == nil || d.Page.Title != "Guide" || d.Page.TOC[1].ID != "setup" {
		t.Errorf("docs: %+v", d)
	}
	if len(d.Report) != 1 || d.Report[0].File != "docs/guide.md" || *d.Report[0].Line != 5 || !strings.Contains(d.Report[0].Message, "nowhere.md") {
		t.Errorf("report: %+v", d.Report)
	}
	if code, out, errOut := runCmd(t, nil, "errors", "--database", dsn); code != 0 ||
		!strings.Contains(out, dir+"/docs/guide.md:5: warning: links to nowhere.md, which is not in the docs (docs of component:default/payments)") {
		t.Errorf("greenroom errors: exit %d\n%s%s", code, out, errOut)
	}
	home := docs("component:payments", "")
	if html := home.Page.HTML; strings.Contains(html, "<script") || !strings.Contains(html, `<div class="admonition note">`) || !strings.Contains(html, `href="guide/#setup"`) {
		t.Errorf("home page HTML: %s", html)
	}
	if d := docs("component:undocumented", ""); d != nil {
		t.Errorf("an entity without docs: %+v", d)
	}
	coverage := func(states string) string {
		t.Helper()
		data, code := graphql(t, base, `{ entities(filter: {kind: ["Component"], docs: [`+states+`]}) { edges { node { ref } } } }`, nil)
		if code != "" {
			t.Fatalf("entities by docs: %s", code)
		}
		return string(data)
	}
	if got := coverage("BUILT"); !strings.Contains(got, "component:default/payments") || strings.Contains(got, "undocumented") {
		t.Errorf("docs: BUILT: %s", got)
	}
	if got := coverage("MISSING, FAILED, PENDING"); strings.Contains(got, "payments") || !strings.Contains(got, "component:default/undocumented") {
		t.Errorf("docs: MISSING, FAILED, PENDING: %s", got)
	}

	get := func(path string) (int, http.Header, string) {
		t.Helper()
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(body)
	}
	code, h, body := get("/docs/default/component/payments/")
	if code != 200 || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'none'") ||
		!strings.Contains(body, `<a class="md-nav__link md-nav__link--active" href="./">Home</a>`) || !strings.Contains(body, `<a class="md-nav__link" href="guide/">Guide</a>`) {
		t.Errorf("site home: %d %v\n%s", code, h, body)
	}
	if code, h, _ := get("/docs/default/component/payments/guide"); code != http.StatusMovedPermanently || h.Get("Location") != "/docs/default/component/payments/guide/" {
		t.Errorf("a page without its slash: %d %s", code, h.Get("Location"))
	}
	if code, h, _ := get("/docs/default/component/payments/img/logo.svg"); code != 200 || h.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("an SVG asset: %d %s", code, h.Get("Content-Type"))
	}
	if code, _, body := get("/docs/default/component/payments/search/search_index.json"); code != 200 || !strings.Contains(body, `"location":"guide/#setup"`) {
		t.Errorf("search index: %d %s", code, body)
	}
	// Backstage's TechDocs endpoints, for its own reader.
	if code, h, body := get("/api/techdocs/static/docs/default/component/payments/guide/index.html"); code != 200 ||
		h.Get("Content-Type") != "text/plain; charset=utf-8" || !strings.Contains(body, `<article class="md-content__inner md-typeset">`) {
		t.Errorf("static/docs: %d %s", code, h.Get("Content-Type"))
	}
	if code, _, body := get("/api/techdocs/metadata/techdocs/default/component/payments"); code != 200 || !strings.Contains(body, `"site_name":"Payments"`) ||
		!strings.Contains(body, `"files":["assets/greenroom/highlight.css","assets/greenroom/site.css","guide/index.html","img/logo.svg","index.html","search/search_index.json","techdocs_metadata.json"]`) {
		t.Errorf("metadata/techdocs: %d %s", code, body)
	}
	if code, _, body := get("/api/techdocs/metadata/entity/default/component/payments"); code != 200 ||
		!strings.Contains(body, `"locationMetadata":{"target":"`+catalogFile+`","type":"file"}`) {
		t.Errorf("metadata/entity: %d %s", code, body)
	}
	if code, _, body := get("/api/techdocs/sync/default/component/payments"); code != 200 || body != "event: finish\ndata: {\"updated\":false}\n\n" {
		t.Errorf("sync: %d %q", code, body)
	}
	for _, p := range []string{"/docs/default/component/payments/nope/", "/docs/default/component/undocumented/", "/docs/default/component/missing/",
		"/api/techdocs/static/docs/default/component/missing/index.html", "/api/techdocs/nope/default/component/payments"} {
		if code, _, _ := get(p); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}

	// Edited, then rebuilt on request.
	mustWrite(t, dir, "docs/guide.md", "# Guide v2\n\n## Setup\n")
	if _, code := graphql(t, base, `mutation { refreshDocs(ref: "component:payments") { status } }`, nil); code != "" {
		t.Fatalf("refreshDocs: %s", code)
	}
	d = await("rebuilt", func(d *docsView) bool { return d.Page != nil && d.Page.Title == "Guide" && len(d.Report) == 0 })
	if data, _ := graphql(t, base, `{ entity(ref: "component:payments") { docs { page(path: "guide/") { html } } } }`, nil); !strings.Contains(string(data), "Guide v2") {
		t.Errorf("rebuilt page: %s", data)
	}

	// A build that fails keeps the last good one.
	mustWrite(t, dir, "mkdocs.yml", "site_name: [broken\n")
	graphql(t, base, `mutation { refreshDocs(ref: "component:payments") { status } }`, nil)
	d = await("failed", func(d *docsView) bool { return d.Status == "FAILED" })
	if d.Error == nil || !strings.Contains(*d.Error, "mkdocs.yml:") || d.Page == nil || d.BuiltAt == nil {
		t.Errorf("after a failed build: %+v", d)
	}
	if got := coverage("FAILED"); !strings.Contains(got, "component:default/payments") {
		t.Errorf("docs: FAILED: %s", got)
	}
	if code, out, _ := runCmd(t, nil, "errors", "--database", dsn); code != 1 || !strings.Contains(out, dir+": error: the docs of component:default/payments do not build: mkdocs.yml:") {
		t.Errorf("greenroom errors after a failed build: exit %d\n%s", code, out)
	}
	// The janitor keeps the docs of entities that exist.
	if refs, err := m.db.PruneDocs(context.Background()); len(refs) != 0 || err != nil {
		t.Errorf("PruneDocs removed %v (%v)", refs, err)
	}
	if _, code := graphql(t, base, `mutation { refreshDocs(ref: "component:undocumented") { status } }`, nil); code != "NOT_FOUND" {
		t.Errorf("refreshDocs of an entity without docs: %q", code)
	}
}
