package techdocs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/forge"
	"github.com/greenroomhq/greenroom/internal/gitfs"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Store is what building an entity's docs reads and writes:
// internal/store.
type Store interface {
	DocsSite(ctx context.Context, ref string) (*portal.DocsSite, error)
	DocsPages(ctx context.Context, ref string) ([]portal.DocsPage, error)
	SaveDocs(ctx context.Context, site portal.DocsSite, pages []portal.DocsPage, assets []portal.DocsAsset) (int, error)
	FailDocs(ctx context.Context, ref, source, reason string, at time.Time) error
	CheckedDocs(ctx context.Context, ref string, at time.Time) error
	DeleteDocs(ctx context.Context, ref string) error
	PruneDocs(ctx context.Context) ([]string, error)
}

// Builder builds entities' docs and stores them: the work of a docs job.
type Builder struct {
	Store Store
	// Entity returns an entity's document, nil when there is none.
	Entity func(ctx context.Context, ref string) (map[string]any, error)
	// Forges are the hosts whose URLs are read, with their tokens.
	Forges []forge.Integration
	// PublishDir, when set, also receives each good build as files, in
	// the layout `greenroom docs build` writes, at
	// {namespace}/{kind}/{name}/ under it: the layout Backstage's local
	// publisher serves, for a web server or a Backstage to read. The
	// database stays what the API serves from.
	PublishDir string
	Log        *slog.Logger

	mu      sync.Mutex
	commits map[string]string // entity ref → the commit its forge source was last built from here
}

// Outcome is what a build of an entity's docs did.
type Outcome struct {
	Source   string
	Status   portal.DocsStatus // "" when the entity has no docs (any stored were removed)
	Pages    int
	Rendered int // pages rendered; the others were reused
	Written  int // pages and assets written to the store
	// Unchanged says the source was as the stored site was built from.
	Unchanged bool
	Warnings  int
	Error     string
}

// BuildEntity builds the docs of the entity ref from its techdocs-ref and
// stores the site. A source that cannot be read or built is recorded as
// a failed build, and the last good one keeps serving; an entity that is
// gone, or has no techdocs-ref any more, loses its site. The error is for
// the job (the store could not be read or written).
func (b *Builder) BuildEntity(ctx context.Context, ref string) (Outcome, error) {
	doc, err := b.Entity(ctx, ref)
	if err != nil {
		return Outcome{}, err
	}
	src, err := SourceOf(doc)
	if errors.Is(err, errNoDocs) {
		if err := b.Store.DeleteDocs(ctx, ref); err != nil {
			return Outcome{}, err
		}
		return Outcome{}, b.unpublish(ref)
	}
	now := time.Now()
	fail := func(source string, err error) (Outcome, error) {
		return Outcome{Source: source, Status: portal.DocsFailed, Error: err.Error()}, b.Store.FailDocs(ctx, ref, source, err.Error(), now)
	}
	if err != nil {
		return fail("", err)
	}
	stored, err := b.Store.DocsSite(ctx, ref)
	if err != nil && portal.ErrorCode(err) != portal.ENOTFOUND {
		return Outcome{}, err
	}
	// A source on a forge is cloned only when its ref moved since this
	// process last built it: every refresh of the location asks.
	var commit string
	if src.URL != nil {
		if commit, err = b.head(ctx, src); err != nil {
			return fail(src.String(), err)
		}
		if stored != nil && stored.Status == portal.DocsBuilt && stored.Source == src.String() && b.built(ref) == commit {
			return Outcome{Source: src.String(), Status: portal.DocsBuilt, Unchanged: true}, b.Store.CheckedDocs(ctx, ref, now)
		}
	}
	fsys, closeSource, err := b.open(ctx, src)
	if err != nil {
		return fail(src.String(), err)
	}
	defer closeSource()
	var prev *Site
	if stored != nil && stored.BuiltAt != nil {
		if prev, err = b.previous(ctx, ref); err != nil {
			return Outcome{}, err
		}
	}
	site, err := Build(ctx, fsys, Options{DefaultName: entityTitle(doc), Previous: prev})
	if err != nil {
		if ctx.Err() != nil {
			return Outcome{}, ctx.Err()
		}
		return fail(src.String(), err)
	}
	out := Outcome{Source: src.String(), Status: portal.DocsBuilt, Pages: len(site.Pages), Rendered: site.Rendered, Warnings: len(site.Warnings)}
	if stored != nil && stored.Status == portal.DocsBuilt && stored.Etag == site.Etag && stored.Source == out.Source {
		out.Unchanged = true
		b.remember(ref, commit)
		if err := b.Store.CheckedDocs(ctx, ref, now); err != nil {
			return out, err
		}
		if dir, ok := b.publishPath(ref); ok && !exists(dir) && stored.BuiltAt != nil {
			return out, b.publish(ref, site, *stored.BuiltAt)
		}
		return out, nil
	}
	nav, _ := json.Marshal(site.Nav)
	report, _ := json.Marshal(site.Warnings)
	pages := site.StoredPages()
	assets := make([]portal.DocsAsset, len(site.Assets))
	for i, a := range site.Assets {
		assets[i] = portal.DocsAsset{Path: a.Path, Data: a.Data, Hash: a.Hash}
	}
	out.Written, err = b.Store.SaveDocs(ctx, portal.DocsSite{
		EntityRef: ref, Source: out.Source, Name: site.Name, Description: site.Description,
		Nav: nav, Report: report, Etag: site.Etag, BuiltAt: &now, CheckedAt: now,
	}, pages, assets)
	if err != nil {
		return out, err
	}
	b.remember(ref, commit)
	return out, b.publish(ref, site, now)
}

// Prune removes the docs of entities that are gone, published ones too,
// and returns how many sites went: the work of the prune_docs janitor.
func (b *Builder) Prune(ctx context.Context) (int, error) {
	refs, err := b.Store.PruneDocs(ctx)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, ref := range refs {
		errs = append(errs, b.unpublish(ref))
	}
	return len(refs), errors.Join(errs...)
}

// publishPath is where an entity's site is published, if anywhere: the
// ref's namespace, kind and name, lower-cased, under PublishDir.
func (b *Builder) publishPath(ref string) (string, bool) {
	if b.PublishDir == "" {
		return "", false
	}
	r, err := catalog.ParseRef(ref, catalog.RefDefaults{})
	if err != nil {
		return "", false
	}
	parts := []string{strings.ToLower(r.Namespace), strings.ToLower(r.Kind), strings.ToLower(r.Name)}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || strings.ContainsAny(p, `/\`) {
			return "", false
		}
	}
	return filepath.Join(append([]string{b.PublishDir}, parts...)...), true
}

// publish writes a site to its folder under PublishDir, replacing the
// last: it is written beside it and renamed into place, so that a
// reader sees one build or the other.
func (b *Builder) publish(ref string, site *Site, built time.Time) error {
	dir, ok := b.publishPath(ref)
	if !ok {
		return nil
	}
	next, prev := dir+".next", dir+".prev"
	os.RemoveAll(next)
	if err := site.WriteDir(next, site.Etag, built); err != nil {
		os.RemoveAll(next)
		return fmt.Errorf("publish docs of %s: %w", ref, err)
	}
	os.RemoveAll(prev)
	if err := os.Rename(dir, prev); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("publish docs of %s: %w", ref, err)
	}
	if err := os.Rename(next, dir); err != nil {
		return fmt.Errorf("publish docs of %s: %w", ref, err)
	}
	return os.RemoveAll(prev)
}

// unpublish removes an entity's published site.
func (b *Builder) unpublish(ref string) error {
	if dir, ok := b.publishPath(ref); ok {
		return os.RemoveAll(dir)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// built is the commit this process last built ref's forge source from.
func (b *Builder) built(ref string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.commits[ref]
}

func (b *Builder) remember(ref, commit string) {
	if commit == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.commits == nil {
		b.commits = map[string]string{}
	}
	b.commits[ref] = commit
}

// head is the commit a forge source's ref points to now.
func (b *Builder) head(ctx context.Context, src Source) (string, error) {
	loc, ok := forge.Parse(b.Forges, src.URL)
	if !ok {
		return "", fmt.Errorf("%s is not a folder URL of a known git host", src.URL.Redacted())
	}
	return gitfs.Head(ctx, loc.CloneURL(), auth(loc), loc.Ref)
}

// auth is the token a forge location is read with; nil (no interface
// holding a nil pointer) without one.
func auth(loc forge.Location) transport.AuthMethod {
	if loc.Token == "" {
		return nil
	}
	return &githttp.BasicAuth{Username: loc.GitUser(), Password: loc.Token}
}

// previous is the stored site as a previous build, for its pages.
func (b *Builder) previous(ctx context.Context, ref string) (*Site, error) {
	pages, err := b.Store.DocsPages(ctx, ref)
	if err != nil {
		return nil, err
	}
	site := &Site{}
	for _, p := range pages {
		var toc []Heading
		var links PageLinks
		if json.Unmarshal(p.TOC, &toc) != nil || json.Unmarshal(p.Links, &links) != nil {
			continue // rendered again
		}
		site.Pages = append(site.Pages, StoredPage(p.Src, p.Hash, p.Title, p.HTML, toc, links))
	}
	return site, nil
}

var errNoDocs = errors.New("the entity has no " + catalog.AnnotationTechDocsRef + " annotation")

// Source is where an entity's docs are: a directory on this server, or
// a folder URL on a forge.
type Source struct {
	Dir string
	URL *url.URL
}

func (s Source) String() string {
	if s.URL != nil {
		return s.URL.String()
	}
	return s.Dir
}

// SourceOf resolves an entity's techdocs-ref as Backstage does: url: is
// the folder; dir: is relative to the entity's source location (its
// backstage.io/source-location, else the location it was read from) — for
// a file, under the folder of that file, which it may not leave.
func SourceOf(doc map[string]any) (Source, error) {
	meta, _ := doc["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	ref, _ := ann[catalog.AnnotationTechDocsRef].(string)
	if ref == "" {
		return Source{}, errNoDocs
	}
	kind, target, ok := strings.Cut(ref, ":")
	if !ok || target == "" {
		return Source{}, fmt.Errorf("invalid %s annotation %q: it must be dir:PATH or url:URL", catalog.AnnotationTechDocsRef, ref)
	}
	switch kind {
	case "url":
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return Source{}, fmt.Errorf("invalid %s annotation %q: not an http(s) URL", catalog.AnnotationTechDocsRef, ref)
		}
		return Source{URL: u}, nil
	case "dir":
	default:
		return Source{}, fmt.Errorf("invalid reference annotation %s: %s", kind, ref)
	}
	base, _ := ann[catalog.AnnotationSourceLocation].(string)
	if base == "" {
		base, _ = ann[catalog.AnnotationManagedByLocation].(string)
	}
	bkind, btarget, _ := strings.Cut(base, ":")
	switch bkind {
	case "file":
		dir := btarget
		if !strings.HasSuffix(dir, "/") {
			dir = filepath.Dir(dir)
		}
		p := filepath.Join(dir, filepath.FromSlash(target))
		if rel, err := filepath.Rel(dir, p); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return Source{}, fmt.Errorf("%s %q leaves the folder of the entity's descriptor", catalog.AnnotationTechDocsRef, ref)
		}
		return Source{Dir: p}, nil
	case "url":
		u, err := url.Parse(btarget)
		if err != nil {
			return Source{}, fmt.Errorf("the entity's location %q is not a URL", base)
		}
		return Source{URL: u.ResolveReference(&url.URL{Path: strings.TrimSuffix(target, "/") + "/"})}, nil
	}
	return Source{}, fmt.Errorf("%s %q needs the entity's location, which is %q", catalog.AnnotationTechDocsRef, ref, base)
}

// open opens a source: a directory through an os.Root (no symlink
// leaves it), a forge folder by a clone into memory.
func (b *Builder) open(ctx context.Context, src Source) (fs.FS, func(), error) {
	if src.URL == nil {
		root, err := os.OpenRoot(src.Dir)
		if err != nil {
			return nil, nil, fmt.Errorf("the docs folder cannot be read: %w", unwrap(err))
		}
		return root.FS(), func() { root.Close() }, nil
	}
	loc, ok := forge.Parse(b.Forges, src.URL)
	if !ok {
		return nil, nil, fmt.Errorf("%s is not a folder URL of a known git host", src.URL.Redacted())
	}
	fsys, err := gitfs.Clone(ctx, loc.CloneURL(), auth(loc), loc.Ref, "")
	if err != nil {
		return nil, nil, err
	}
	// A folder, even one resolved against a file's …/blob/… URL; a file
	// URL names the folder it is in.
	dir := loc.Path
	if loc.Blob && !strings.HasSuffix(src.URL.Path, "/") {
		dir = path.Dir(dir)
	}
	if dir != "" && dir != "." {
		if fsys, err = fs.Sub(fsys, dir); err != nil {
			return nil, nil, err
		}
	}
	return fsys, func() {}, nil
}

// entityTitle names a site without an mkdocs.yml: the entity's title,
// else its name.
func entityTitle(doc map[string]any) string {
	meta, _ := doc["metadata"].(map[string]any)
	if t, _ := meta["title"].(string); t != "" {
		return t
	}
	name, _ := meta["name"].(string)
	return name
}

// StoredPages returns the site's pages as a store keeps them, with their
// search entries.
func (s *Site) StoredPages() []portal.DocsPage {
	pages := make([]portal.DocsPage, len(s.Pages))
	parallel(len(s.Pages), func(i int) {
		p := s.Pages[i]
		toc, _ := json.Marshal(p.TOC)
		links, _ := json.Marshal(p.Links)
		var sections []portal.DocsSection
		for _, e := range p.SearchEntries() {
			sections = append(sections, portal.DocsSection{Location: e.Location, Title: e.Title, Text: e.Text})
		}
		pages[i] = portal.DocsPage{Path: p.URL, Position: i, Src: p.Src, Title: p.Title, HTML: p.HTML, TOC: toc, Links: links,
			Hash: p.Hash, Sections: sections}
	})
	return pages
}
