package techdocs_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/forge"
	"github.com/greenroomhq/greenroom/internal/gittest"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
	"github.com/greenroomhq/greenroom/internal/techdocs"
)

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func component(location, ref string) map[string]any {
	ann := map[string]any{"backstage.io/managed-by-location": location}
	if ref != "" {
		ann[catalog.AnnotationTechDocsRef] = ref
	}
	return map[string]any{"kind": "Component", "metadata": map[string]any{"name": "payments", "title": "Payments", "annotations": ann}}
}

// An entity's docs built and stored on each database: a rebuild writes
// only what changed; a build that fails keeps the last good one serving;
// docs whose annotation went are removed; a dir: that climbs out of the
// descriptor's folder is refused.
func TestBuilder(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		write(t, dir, map[string]string{
			"catalog-info.yaml": "kind: Component\n",
			"mkdocs.yml":        "site_name: Payments docs\nnav:\n  - Home: index.md\n  - Guide: guide.md\n",
			"docs/index.md":     "# Payments\n\nSee the [guide](guide.md).\n",
			"docs/guide.md":     "# Guide\n\n## Setup\n\n[gone](nowhere.md)\n",
			"docs/img/a.png":    "PNG",
		})
		doc := component("file:"+filepath.Join(dir, "catalog-info.yaml"), "dir:.")
		published := t.TempDir()
		b := &techdocs.Builder{Store: db, Entity: func(context.Context, string) (map[string]any, error) { return doc, nil }, PublishDir: published}
		const ref = "component:default/payments"
		guide := filepath.Join(published, "default", "component", "payments", "guide", "index.html")
		build := func(want portal.DocsStatus) techdocs.Outcome {
			t.Helper()
			out, err := b.BuildEntity(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != want {
				t.Fatalf("status %q (%s), want %q", out.Status, out.Error, want)
			}
			return out
		}

		out := build(portal.DocsBuilt)
		if out.Pages != 2 || out.Rendered != 2 || out.Written != 3 || out.Warnings != 1 || out.Source != dir {
			t.Errorf("first build: %+v", out)
		}
		site, err := db.DocsSite(ctx, ref)
		if err != nil || site.Name != "Payments docs" || site.BuiltAt == nil || !strings.Contains(string(site.Report), "links to nowhere.md") {
			t.Fatalf("site %+v %v", site, err)
		}
		if p, err := db.DocsPage(ctx, ref, "guide/"); err != nil || p.Title != "Guide" || !strings.Contains(string(p.TOC), `"id":"setup"`) {
			t.Errorf("guide page %+v %v", p, err)
		}

		if _, err := os.Stat(guide); err != nil {
			t.Errorf("published: %v", err)
		}
		os.RemoveAll(filepath.Join(published, "default"))
		if out := build(portal.DocsBuilt); !out.Unchanged || out.Written != 0 || out.Rendered != 0 {
			t.Errorf("an unchanged source: %+v", out)
		}
		if _, err := os.Stat(guide); err != nil {
			t.Errorf("published again when its folder went: %v", err)
		}
		write(t, dir, map[string]string{"docs/guide.md": "# Guide\n\n## Setup again\n"})
		if out := build(portal.DocsBuilt); out.Rendered != 1 || out.Written != 1 || out.Warnings != 0 {
			t.Errorf("one page changed: %+v", out)
		}
		// A file less: every page is rendered again (a link may break).
		os.Remove(filepath.Join(dir, "docs/img/a.png"))
		if out := build(portal.DocsBuilt); out.Rendered != 2 || out.Written != 2 {
			t.Errorf("an asset removed: %+v", out)
		}
		if _, err := db.DocsAsset(ctx, ref, "img/a.png"); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Errorf("the removed asset: %v", err)
		}

		write(t, dir, map[string]string{"mkdocs.yml": "site_name: [broken\n"})
		if out := build(portal.DocsFailed); !strings.Contains(out.Error, "mkdocs.yml:") {
			t.Errorf("a broken mkdocs.yml: %+v", out)
		}
		site, _ = db.DocsSite(ctx, ref)
		if site.Status != portal.DocsFailed || site.BuiltAt == nil || site.Name != "Payments docs" {
			t.Errorf("after a failed build: %+v", site)
		}
		if _, err := db.DocsPage(ctx, ref, "guide/"); err != nil {
			t.Errorf("the last good build's page: %v", err)
		}

		doc = component("file:"+filepath.Join(dir, "catalog-info.yaml"), "dir:../elsewhere")
		if out := build(portal.DocsFailed); !strings.Contains(out.Error, "leaves the folder of the entity's descriptor") {
			t.Errorf("dir: climbing out: %+v", out)
		}
		// An entity that is gone (here: never stored) loses its docs to
		// the janitor.
		write(t, dir, map[string]string{"mkdocs.yml": "site_name: Payments docs\n"})
		doc = component("file:"+filepath.Join(dir, "catalog-info.yaml"), "dir:.")
		build(portal.DocsBuilt)
		if n, err := b.Prune(ctx); n != 1 || err != nil {
			t.Errorf("Prune: %d, %v", n, err)
		}
		if _, err := os.Stat(guide); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a pruned site's published page: %v", err)
		}
		if _, err := db.DocsPage(ctx, ref, "guide/"); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Errorf("a pruned site's page: %v", err)
		}
		build(portal.DocsBuilt)
		doc = component("file:"+filepath.Join(dir, "catalog-info.yaml"), "")
		build("")
		if _, err := db.DocsSite(ctx, ref); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Errorf("docs without an annotation: %v", err)
		}
		if _, err := db.DocsPage(ctx, ref, ""); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Errorf("pages without an annotation: %v", err)
		}
		if _, err := os.Stat(guide); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("published page without an annotation: %v", err)
		}
	})
}

// Docs on a forge: an entity registered by URL, dir: relative to its
// descriptor, read by a clone from the forge's host with its token.
func TestBuilder_Forge(t *testing.T) {
	f := gittest.NewForge(t)
	src := t.TempDir()
	write(t, src, map[string]string{
		"services/pay/catalog-info.yaml": "kind: Component\n",
		"services/pay/mkdocs.yml":        "site_name: Pay\n",
		"services/pay/docs/index.md":     "# Pay\n",
	})
	f.Git.PushDir(t, src, "org/monorepo.git", "main")
	db := storetest.MustOpenSQLite(t)
	host := strings.TrimPrefix(f.Server.URL, "http://")
	doc := component("url:"+f.Server.URL+"/org/monorepo/blob/main/services/pay/catalog-info.yaml", "dir:.")
	b := &techdocs.Builder{Store: db, Entity: func(context.Context, string) (map[string]any, error) { return doc, nil },
		Forges: []forge.Integration{{Kind: forge.GitHub, Host: host, APIBaseURL: f.Server.URL + "/api/v3", Token: f.Token}}}
	out, err := b.BuildEntity(context.Background(), "component:default/pay")
	if err != nil || out.Status != portal.DocsBuilt || out.Pages != 1 || out.Source != f.Server.URL+"/org/monorepo/blob/main/services/pay/" {
		t.Fatalf("%+v %v", out, err)
	}
	// Unchanged: the refs are listed, nothing is cloned; pushed: cloned.
	if out, err := b.BuildEntity(context.Background(), "component:default/pay"); err != nil || !out.Unchanged || f.Git.Fetches("org/monorepo.git") != 1 {
		t.Errorf("an unchanged repository: %+v %v, %d fetches", out, err, f.Git.Fetches("org/monorepo.git"))
	}
	write(t, src, map[string]string{"services/pay/docs/index.md": "# Pay v2\n"})
	f.Git.PushDir(t, src, "org/monorepo.git", "main")
	if out, err := b.BuildEntity(context.Background(), "component:default/pay"); err != nil || out.Unchanged || out.Written != 1 || f.Git.Fetches("org/monorepo.git") != 2 {
		t.Errorf("after a push: %+v %v, %d fetches", out, err, f.Git.Fetches("org/monorepo.git"))
	}
	b.Forges[0].Token = "wrong"
	if out, _ := b.BuildEntity(context.Background(), "component:default/pay"); out.Status != portal.DocsFailed {
		t.Errorf("a wrong token: %+v", out)
	}
}

// A symlink that leaves the docs source is not followed: the page behind
// it is left out with a warning, and the rest of the site builds; an
// image that is not there is reported.
func TestBuilder_Escapes(t *testing.T) {
	db := storetest.MustOpenSQLite(t)
	outside := t.TempDir()
	write(t, outside, map[string]string{"secret.md": "# Secret\n"})
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"mkdocs.yml":    "site_name: Escapes\n",
		"docs/index.md": "# Home\n\n![logo](img/missing.png)\n",
	})
	if err := os.Symlink(filepath.Join(outside, "secret.md"), filepath.Join(dir, "docs", "secret.md")); err != nil {
		t.Fatal(err)
	}
	doc := component("file:"+filepath.Join(dir, "catalog-info.yaml"), "dir:.")
	b := &techdocs.Builder{Store: db, Entity: func(context.Context, string) (map[string]any, error) { return doc, nil }}
	out, err := b.BuildEntity(context.Background(), "component:default/payments")
	if err != nil || out.Status != portal.DocsBuilt || out.Pages != 1 {
		t.Fatalf("%+v %v", out, err)
	}
	site, _ := db.DocsSite(context.Background(), "component:default/payments")
	for _, want := range []string{"secret.md cannot be read", "shows the image img/missing.png, which is not in the docs"} {
		if !strings.Contains(string(site.Report), want) {
			t.Errorf("report lacks %q: %s", want, site.Report)
		}
	}
	if _, err := db.DocsPage(context.Background(), "component:default/payments", "secret/"); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Errorf("the page behind the symlink was built: %v", err)
	}
}
