package techdocs

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"path"
	"strings"

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
		case stylesheet:
			serveBytes(w, "text/css; charset=utf-8", []byte(siteCSS))
			return
		case highlightSheet:
			serveBytes(w, "text/css; charset=utf-8", highlightCSS())
			return
		case searchIndexPath, metadataPath:
			s, err := storedSite(req.Context(), r, site, true)
			if err != nil {
				serveError(w, err)
				return
			}
			files := s.SiteFiles(site.Etag, *site.BuiltAt)
			serveBytes(w, "application/json", files[rest])
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
				http.Redirect(w, req, path.Join("/docs", parts[0], parts[1], parts[2], candidate)+"/", http.StatusMovedPermanently)
				return
			}
			s, err := storedSite(req.Context(), r, site, false)
			if err != nil {
				serveError(w, err)
				return
			}
			var toc []Heading
			json.Unmarshal(page.TOC, &toc)
			p := &Page{Src: page.Src, URL: page.Path, Title: page.Title, HTML: page.HTML, TOC: toc, home: isHome(page.Src)}
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
	})
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

// storedSite is a stored site as a Site, for its theme (nav) and, with
// pages, for its search index.
func storedSite(ctx context.Context, r Reader, site *portal.DocsSite, pages bool) (*Site, error) {
	s := &Site{Name: site.Name, Description: site.Description}
	if err := json.Unmarshal(site.Nav, &s.Nav); err != nil && len(site.Nav) > 0 {
		return nil, err
	}
	if !pages {
		return s, nil
	}
	stored, err := r.Pages(ctx, site)
	if err != nil {
		return nil, err
	}
	for _, p := range stored {
		var toc []Heading
		json.Unmarshal(p.TOC, &toc)
		s.Pages = append(s.Pages, &Page{Src: p.Src, URL: p.Path, Title: p.Title, HTML: p.HTML, TOC: toc, home: isHome(p.Src)})
	}
	return s, nil
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
