package techdocs

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Bounds of a docs source: what passes them is reported and left out, so
// that one huge file cannot stall a build or fill the database.
const (
	maxFiles      = 20000
	MaxPageBytes  = 1 << 20
	MaxAssetBytes = 8 << 20
	// MaxSiteBytes bounds a site's pages and assets together.
	MaxSiteBytes = 256 << 20
)

// Warning is a finding of a build, named by the file (relative to the
// docs source, such as docs/a.md or mkdocs.yml) and line it is on.
type Warning struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

func (w Warning) String() string {
	if w.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Message)
	}
	return w.File + ": " + w.Message
}

type reporter struct {
	mu   sync.Mutex
	docs string // the docs folder, prefixed to page paths
	list []Warning
}

// warn reports on a file of the docs folder (or, with a leading /, a
// file of the source such as /mkdocs.yml).
func (r *reporter) warn(file string, line int, format string, args ...any) {
	if p, ok := strings.CutPrefix(file, "/"); ok {
		file = p
	} else {
		file = path.Join(r.docs, file)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, Warning{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// Site is a built docs site.
type Site struct {
	Name, Description string
	Nav               []*NavItem
	// Pages are in file order, as MkDocs lists them.
	Pages  []*Page
	Assets []*Asset
	// Warnings are the build report, in the order found.
	Warnings []Warning
	// Rendered counts the pages rendered; the others were reused from
	// the previous build.
	Rendered int
	// Etag is a digest of everything the site was built from.
	Etag string
	navs sync.Map // root → the nav's HTML (see navHTML)
}

// Page is a built page.
type Page struct {
	Src   string // relative to the docs folder
	Dest  string // the output file, relative to the site's root
	URL   string // MkDocs' page URL: "" for the home page, "a/" or "a.html"
	Title string
	// HTML is the page's content (not the theme around it), sanitized.
	HTML string
	TOC  []Heading
	// Hash names the page's inputs: its source, the site's files and
	// URL style. A page whose hash did not change is not rendered again.
	Hash  string
	Links PageLinks
	home  bool
}

// PageLinks are a page's relative links: to files of the docs, and to
// files that are not there.
type PageLinks struct {
	Found   []Link `json:"found,omitempty"`
	Missing []Link `json:"missing,omitempty"`
}

// StoredPage is a page as a previous build stored it, to be reused
// (Options.Previous) when its hash is unchanged.
func StoredPage(src, hash, title, html string, toc []Heading, links PageLinks) *Page {
	return &Page{Src: src, Hash: hash, Title: title, HTML: html, TOC: toc, Links: links}
}

// Asset is a file of the docs folder that is not a page.
type Asset struct {
	Path string // relative to the docs folder and to the site's root
	Data []byte
	Hash string // of Data
}

// NavItem is an entry of a site's navigation: a page (Path is its URL),
// a link (URL) or a section (Children).
type NavItem struct {
	Title    string     `json:"title"`
	Path     string     `json:"path,omitempty"`
	URL      string     `json:"url,omitempty"`
	Section  bool       `json:"section,omitempty"`
	Children []*NavItem `json:"children,omitempty"`
	page     *Page
}

// Options are a build's settings.
type Options struct {
	// DefaultName names a site without an mkdocs.yml: the entity's title
	// or name.
	DefaultName string
	// Previous is the last build of the same source, whose unchanged
	// pages are reused.
	Previous *Site
}

// Build builds the docs source at the root of fsys: its mkdocs.yml and
// docs folder. An error means there is nothing to serve (no docs folder,
// an mkdocs.yml that does not parse); what a site can be built despite is
// a warning in its report.
func Build(ctx context.Context, fsys fs.FS, opts Options) (*Site, error) {
	cfg, err := ReadConfig(fsys, opts.DefaultName)
	if err != nil {
		return nil, err
	}
	info, err := fs.Stat(fsys, cfg.DocsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the docs folder %s/ does not exist", cfg.DocsDir)
	}
	if err != nil {
		return nil, fmt.Errorf("the docs folder %s/ cannot be read: %w", cfg.DocsDir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", cfg.DocsDir)
	}
	r := &reporter{docs: cfg.DocsDir}
	cfgFile := "/" + cmp.Or(cfg.File, "mkdocs.yml")
	for _, x := range unknown(cfg.Extensions, supportedExtensions) {
		r.warn(cfgFile, 0, "markdown extension %s is not supported: its syntax is shown as written", x)
	}
	for _, x := range unknown(cfg.Plugins, supportedPlugins) {
		r.warn(cfgFile, 0, "plugin %s is not supported", x)
	}
	files, err := walk(fsys, cfg.DocsDir, cfg, r)
	if err != nil {
		return nil, err
	}
	byPath := make(map[string]*file, len(files))
	inputs := sha256.New()
	fmt.Fprintf(inputs, "urls=%v\n", cfg.UseDirectoryURLs)
	for _, f := range files {
		byPath[f.src] = f
		fmt.Fprintln(inputs, f.src)
	}
	siteHash := inputs.Sum(nil)
	site := &Site{Name: cfg.SiteName, Description: cfg.SiteDescription}
	var previous map[string]*Page
	if opts.Previous != nil {
		previous = make(map[string]*Page, len(opts.Previous.Pages))
		for _, p := range opts.Previous.Pages {
			previous[p.Src] = p
		}
	}

	var total int64
	var todo []*Page
	sources := map[*Page][]byte{}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		limit := int64(MaxAssetBytes)
		if f.page {
			limit = MaxPageBytes
		}
		if f.size > limit {
			r.warn(f.src, 0, "%s is larger than %d MiB and is left out", f.src, limit>>20)
			continue
		}
		if total += f.size; total > MaxSiteBytes {
			return nil, fmt.Errorf("the docs folder holds more than %d MiB", MaxSiteBytes>>20)
		}
		data, err := fs.ReadFile(fsys, path.Join(cfg.DocsDir, f.src))
		if err != nil {
			r.warn(f.src, 0, "%s cannot be read: %v", f.src, unwrap(err))
			continue
		}
		if !f.page {
			sum := sha256.Sum256(data)
			site.Assets = append(site.Assets, &Asset{Path: f.src, Data: data, Hash: hex.EncodeToString(sum[:])})
			continue
		}
		h := sha256.New()
		h.Write(siteHash)
		h.Write(data)
		p := &Page{Src: f.src, Dest: f.dest, URL: f.pageURL(), Hash: hex.EncodeToString(h.Sum(nil)), home: f.url == "."}
		if old := previous[f.src]; old != nil && old.Hash == p.Hash {
			p.Title, p.HTML, p.TOC, p.Links = old.Title, old.HTML, old.TOC, old.Links
		} else {
			todo = append(todo, p)
			sources[p] = data
		}
		site.Pages = append(site.Pages, p)
	}
	site.Rendered = len(todo)
	renderAll(ctx, todo, sources, byPath)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	for _, p := range site.Pages {
		if p.Title == "" {
			p.Title = fallbackTitle(p)
		}
	}
	if cfg.Nav != nil {
		site.Nav = explicitNav(cfg.Nav, site.Pages, byPath, r, cfgFile)
	} else {
		site.Nav = autoNav(site.Pages)
	}
	checkLinks(site, byPath, r)
	site.Warnings = r.list
	etag := sha256.New()
	etag.Write(siteHash)
	fmt.Fprintf(etag, "name=%s\ndescription=%s\n", site.Name, site.Description)
	for _, p := range site.Pages {
		fmt.Fprintln(etag, p.Src, p.Hash, p.Title)
	}
	for _, a := range site.Assets {
		fmt.Fprintln(etag, a.Path, a.Hash)
	}
	navJSON, _ := json.Marshal(site.Nav)
	etag.Write(navJSON)
	site.Etag = hex.EncodeToString(etag.Sum(nil))
	return site, nil
}

// renderAll renders pages on every core.
func renderAll(ctx context.Context, pages []*Page, sources map[*Page][]byte, files map[string]*file) {
	parallel(len(pages), func(i int) {
		if ctx.Err() != nil {
			return
		}
		p := pages[i]
		out := render(sources[p], renderCtx{self: files[p.Src], files: files})
		p.Title, p.HTML, p.TOC, p.Links = out.Title, out.HTML, out.TOC, PageLinks{Found: out.Links, Missing: out.Missing}
	})
}

// parallel calls fn for 0..n-1 on every core.
func parallel(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(n, 1)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// fallbackTitle is MkDocs' title for a page without one: Home for the
// home page, else the file's name with - and _ as spaces, capitalised if
// it was all lower case.
func fallbackTitle(p *Page) string {
	if p.home {
		return "Home"
	}
	return nameToTitle(stem(p.Src))
}

func nameToTitle(name string) string {
	t := strings.NewReplacer("-", " ", "_", " ").Replace(name)
	if strings.ToLower(t) == t && t != "" {
		t = strings.ToUpper(t[:1]) + t[1:]
	}
	return t
}

// autoNav is MkDocs' nav without a nav setting: the pages in file order,
// nested in a section per folder (nest_paths).
func autoNav(pages []*Page) []*NavItem {
	var root []*NavItem
	for _, p := range pages {
		branch := &root
		dir := path.Dir(p.Src)
		if dir != "." {
			for part := range strings.SplitSeq(dir, "/") {
				title := nameToTitle(part)
				var found *NavItem
				for _, e := range *branch {
					if e.Section && e.Title == title {
						found = e
						break
					}
				}
				if found == nil {
					found = &NavItem{Title: title, Section: true, Children: []*NavItem{}}
					*branch = append(*branch, found)
				}
				branch = &found.Children
			}
		}
		*branch = append(*branch, &NavItem{Title: p.Title, Path: p.URL, page: p})
	}
	return root
}

// explicitNav builds the nav the config lists; a title given there is
// the page's title everywhere. An entry naming no page is reported and
// left out.
func explicitNav(entries []NavEntry, pages []*Page, files map[string]*file, r *reporter, cfgFile string) []*NavItem {
	bySrc := make(map[string]*Page, len(pages))
	for _, p := range pages {
		bySrc[p.Src] = p
	}
	var build func([]NavEntry) []*NavItem
	build = func(entries []NavEntry) []*NavItem {
		out := []*NavItem{}
		for _, e := range entries {
			switch {
			case e.Children != nil:
				out = append(out, &NavItem{Title: e.Title, Section: true, Children: build(e.Children)})
			case e.URL != "":
				out = append(out, &NavItem{Title: cmp.Or(e.Title, e.URL), URL: e.URL})
			default:
				p := bySrc[e.Path]
				if p == nil {
					r.warn(cfgFile, e.Line, "the nav names %s, which is not a page of the docs", e.Path)
					continue
				}
				if e.Title != "" {
					p.Title = e.Title
				}
				out = append(out, &NavItem{Title: p.Title, Path: p.URL, page: p})
			}
		}
		return out
	}
	items := build(entries)
	// Titles set by later entries show in earlier ones too.
	var retitle func([]*NavItem)
	retitle = func(items []*NavItem) {
		for _, it := range items {
			if it.page != nil {
				it.Title = it.page.Title
			}
			retitle(it.Children)
		}
	}
	retitle(items)
	return items
}

// checkLinks reports links to files that are not in the docs and
// anchors that the linked page does not have.
func checkLinks(site *Site, files map[string]*file, r *reporter) {
	ids := make(map[string]map[string]bool, len(site.Pages))
	for _, p := range site.Pages {
		m := make(map[string]bool, len(p.TOC))
		for _, h := range p.TOC {
			m[h.ID] = true
		}
		ids[p.Src] = m
	}
	for _, p := range site.Pages {
		for _, l := range p.Links.Missing {
			what := "links to"
			if l.Image {
				what = "shows the image"
			}
			r.warn(p.Src, l.Line, "%s %s, which is not in the docs", what, l.Target)
		}
		for _, l := range p.Links.Found {
			if l.Fragment == "" {
				continue
			}
			if m, ok := ids[l.Target]; ok && !m[l.Fragment] && !footnote(l.Fragment) {
				r.warn(p.Src, l.Line, "links to #%s, which %s has no heading for", l.Fragment, l.Target)
			}
		}
	}
	slices.SortStableFunc(r.list, func(a, b Warning) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
}

// footnote reports whether an anchor is a footnote's, which goldmark
// makes and no heading has.
func footnote(id string) bool { return strings.HasPrefix(id, "fn:") || strings.HasPrefix(id, "fnref:") }

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
