package techdocs

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Reader reads the built sites of entities as the caller may:
// internal/app's Docs service.
type Reader interface {
	// SiteOf returns ENOTFOUND for an entity the caller may not read, or
	// one without docs.
	SiteOf(ctx context.Context, ref string) (*portal.DocsSite, error)
	Page(ctx context.Context, site *portal.DocsSite, path string) (*portal.DocsPage, error)
	Pages(ctx context.Context, site *portal.DocsSite) ([]portal.DocsPage, error)
	Asset(ctx context.Context, site *portal.DocsSite, path string) (*portal.DocsAsset, error)
	AssetPaths(ctx context.Context, site *portal.DocsSite) ([]string, error)
}

// Handler serves built sites at /docs/{namespace}/{kind}/{name}/{path}
// as readable sites: each page with the nav and its table of contents,
// the assets, the stylesheets, search/search_index.json and
// techdocs_metadata.json. Pages are sanitized when built and served with
// a policy that runs no script; assets that a browser would run (HTML,
// SVG, XML) are served as text, as Backstage's TechDocs serves them.
func Handler(r Reader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		parts := strings.SplitN(strings.TrimPrefix(req.URL.Path, "/docs/"), "/", 4)
		if len(parts) < 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			http.NotFound(w, req)
			return
		}
		if len(parts) == 3 { // the site's root is a folder
			http.Redirect(w, req, req.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		serveSite(w, req, r, parts, "/docs", false)
	})
}

// serveSite serves the file rest (parts[3]) of the site of the entity
// namespace/kind/name (parts[:3]), under base. With plain, pages are
// served as text, as Backstage's reader fetches and sanitizes them.
func serveSite(w http.ResponseWriter, req *http.Request, r Reader, parts []string, base string, plain bool) {
	ref := strings.ToLower(parts[1] + ":" + parts[0] + "/" + parts[2])
	rest := parts[3]
	site, err := r.SiteOf(req.Context(), ref)
	if err != nil {
		serveError(w, err)
		return
	}
	if site.BuiltAt == nil {
		msg := "the docs of " + ref + " are not built yet"
		if site.Error != "" {
			msg = "the docs of " + ref + " could not be built: " + site.Error
		}
		http.Error(w, msg, http.StatusNotFound)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch rest {
	case stylesheet, highlightSheet:
		data, _ := (&Site{}).SiteFile(rest, "", time.Time{})
		serveBytes(w, "text/css; charset=utf-8", data)
		return
	case searchIndexPath, metadataPath:
		s, err := storedSite(req.Context(), r, site, rest == metadataPath)
		if err != nil {
			serveError(w, err)
			return
		}
		data, _ := s.SiteFile(rest, site.Etag, *site.BuiltAt)
		serveBytes(w, "application/json", data)
		return
	}
	for _, candidate := range pageCandidates(rest) {
		page, err := r.Page(req.Context(), site, candidate)
		if portal.ErrorCode(err) == portal.ENOTFOUND {
			continue
		}
		if err != nil {
			serveError(w, err)
			return
		}
		if candidate != rest && !strings.HasSuffix(rest, "index.html") {
			http.Redirect(w, req, path.Join(base, parts[0], parts[1], parts[2], candidate)+"/", http.StatusMovedPermanently)
			return
		}
		s := &Site{Name: site.Name, Description: site.Description}
		if err := json.Unmarshal(site.Nav, &s.Nav); err != nil && len(site.Nav) > 0 {
			serveError(w, err)
			return
		}
		p := servedPage(*page)
		if plain {
			serveBytes(w, "text/plain; charset=utf-8", s.PageHTML(p))
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:")
		serveBytes(w, "text/html; charset=utf-8", s.PageHTML(p))
		return
	}
	asset, err := r.Asset(req.Context(), site, rest)
	if err != nil {
		serveError(w, err)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(asset.Path))
	if ctype == "" || strings.Contains(ctype, "html") || strings.Contains(ctype, "svg") || strings.Contains(ctype, "xml") {
		ctype = "text/plain; charset=utf-8"
	}
	w.Header().Set("ETag", `"`+asset.Hash+`"`)
	serveBytes(w, ctype, asset.Data)
}

// pageCandidates are the page paths a request path may name: itself, its
// folder's page for …/index.html, and a folder URL without its slash.
func pageCandidates(rest string) []string {
	out := []string{rest}
	if base, ok := strings.CutSuffix(rest, "index.html"); ok && (base == "" || strings.HasSuffix(base, "/")) {
		out = append(out, base)
	}
	if rest != "" && !strings.HasSuffix(rest, "/") && path.Ext(rest) == "" {
		out = append(out, rest+"/")
	}
	return out
}

func isHome(src string) bool { return src == "index.md" || src == "README.md" }

// storedSite is a stored site as a Site, with its pages, for its search
// index, and with its assets' paths too, for its metadata.
func storedSite(ctx context.Context, r Reader, site *portal.DocsSite, assets bool) (*Site, error) {
	s := &Site{Name: site.Name, Description: site.Description}
	stored, err := r.Pages(ctx, site)
	if err != nil {
		return nil, err
	}
	for _, p := range stored {
		s.Pages = append(s.Pages, servedPage(p))
	}
	if assets {
		paths, err := r.AssetPaths(ctx, site)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			s.Assets = append(s.Assets, &Asset{Path: p})
		}
	}
	return s, nil
}

// servedPage is a stored page as a Page: its output file follows from
// its URL ("" and "a/" are folders, "a.html" a file).
func servedPage(p portal.DocsPage) *Page {
	var toc []Heading
	json.Unmarshal(p.TOC, &toc)
	dest := p.Path
	if dest == "" || strings.HasSuffix(dest, "/") {
		dest += "index.html"
	}
	return &Page{Src: p.Src, Dest: dest, URL: p.Path, Title: p.Title, HTML: p.HTML, TOC: toc, home: isHome(p.Src)}
}

func serveBytes(w http.ResponseWriter, ctype string, data []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(data)
}

// serveError answers with the error's HTTP status and, unless it is an
// internal error, its message (never SQL: the store's errors are
// EINTERNAL).
func serveError(w http.ResponseWriter, err error) {
	code := portal.ErrorCode(err)
	msg := portal.ErrorMessage(err)
	if code == portal.EINTERNAL || code == "" {
		msg = "the docs could not be read"
	}
	http.Error(w, msg, portal.HTTPStatus(code))
}

// EntityReader reads an entity as the caller may (ENOTFOUND otherwise):
// internal/app's Docs service.
type EntityReader interface {
	EntityOf(ctx context.Context, ref string) (*catalog.Record, error)
}

// BackstageHandler serves Backstage's TechDocs backend endpoints under
// /api/techdocs, so that Backstage's own TechDocs reader can show sites
// Greenroom built (backstage-spec.md §4.2; the path order is
// namespace/kind/name):
//
//	GET /static/docs/:namespace/:kind/:name/<file>  the site's files; pages as text, which the reader sanitizes
//	GET /metadata/techdocs/:namespace/:kind/:name   techdocs_metadata.json
//	GET /metadata/entity/:namespace/:kind/:name     the entity, with locationMetadata {type, target}
//	GET /sync/:namespace/:kind/:name                server-sent events: finish {updated}, once a build has ended
//
// Builds are Greenroom's jobs, so sync asks for none: it reports whether
// a build is there.
func BackstageHandler(r Reader, e EntityReader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rest := strings.TrimPrefix(req.URL.Path, "/api/techdocs/")
		route, rest, _ := strings.Cut(rest, "/")
		if route == "static" {
			var ok bool
			if rest, ok = strings.CutPrefix(rest, "docs/"); !ok {
				http.NotFound(w, req)
				return
			}
		} else if route == "metadata" {
			route, rest, _ = strings.Cut(rest, "/")
			route = "metadata/" + route
		}
		parts := strings.SplitN(rest, "/", 4)
		if len(parts) < 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			http.NotFound(w, req)
			return
		}
		ref := strings.ToLower(parts[1] + ":" + parts[0] + "/" + parts[2])
		switch route {
		case "static":
			if len(parts) == 3 {
				parts = append(parts, "")
			}
			serveSite(w, req, r, parts, "/api/techdocs/static/docs", true)
		case "metadata/techdocs":
			serveSite(w, req, r, append(parts[:3], metadataPath), "/api/techdocs/static/docs", true)
		case "metadata/entity":
			rec, err := e.EntityOf(req.Context(), ref)
			if err != nil {
				serveError(w, err)
				return
			}
			var doc map[string]any
			json.Unmarshal(rec.Data, &doc)
			meta, _ := doc["metadata"].(map[string]any)
			ann, _ := meta["annotations"].(map[string]any)
			loc, _ := ann[catalog.AnnotationManagedByLocation].(string)
			typ, target, _ := strings.Cut(loc, ":")
			doc["locationMetadata"] = map[string]string{"type": typ, "target": target}
			data, _ := json.Marshal(doc)
			serveBytes(w, "application/json", data)
		case "sync":
			site, err := r.SiteOf(req.Context(), ref)
			if err != nil {
				serveError(w, err)
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Cache-Control", "no-cache")
			if site.BuiltAt == nil && site.Error != "" {
				data, _ := json.Marshal(site.Error)
				fmt.Fprintf(w, "event: error\ndata: %s\n\n", data)
				return
			}
			fmt.Fprintf(w, "event: finish\ndata: {\"updated\":false}\n\n")
		default:
			http.NotFound(w, req)
		}
	})
}
