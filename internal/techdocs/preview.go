package techdocs

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Preview serves a docs source as its author edits it (greenroom docs
// serve): built in memory, rebuilt — only the pages that changed — when a
// file under the source changes, and each open page reloaded then, through
// a server-sent event. The pages carry one script, the reload; this is a
// local preview, not the served site.
type Preview struct {
	Dir string
	Log *slog.Logger

	mu      sync.Mutex
	site    *Site
	err     error
	version int
	changed chan struct{} // closed and replaced at each rebuild
}

// settle is how long the source must be quiet before a rebuild: an
// editor's save is several events.
const settle = 100 * time.Millisecond

// Build builds the source (again), keeping the previous build's pages
// that did not change; a source that does not build keeps the last site,
// with the error shown on every page.
func (p *Preview) Build(ctx context.Context) error {
	p.mu.Lock()
	prev := p.site
	p.mu.Unlock()
	root, err := os.OpenRoot(p.Dir)
	if err != nil {
		return err
	}
	defer root.Close()
	abs, _ := filepath.Abs(p.Dir)
	site, err := Build(ctx, root.FS(), Options{DefaultName: filepath.Base(abs), Previous: prev})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		p.site = site
	}
	p.err = err
	p.version++
	if p.changed != nil {
		close(p.changed)
	}
	p.changed = make(chan struct{})
	return err
}

// Site is the last good build.
func (p *Preview) Site() *Site {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.site
}

// Watch rebuilds the source whenever a file under it changes, until ctx
// ends.
func (p *Preview) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	add := func(dir string) {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				if strings.HasPrefix(d.Name(), ".") && path != dir {
					return filepath.SkipDir
				}
				w.Add(path)
			}
			return nil
		})
	}
	add(p.Dir)
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Op&fsnotify.Create != 0 {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
					add(ev.Name)
				}
			}
			timer = time.After(settle)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			p.Log.Warn("docs serve: watching the source", "err", err)
		case <-timer:
			timer = nil
			start := time.Now()
			if err := p.Build(ctx); err != nil {
				p.Log.Warn("docs serve: the source does not build", "err", err)
				continue
			}
			site := p.Site()
			p.Log.Info("docs serve: rebuilt", "pages", len(site.Pages), "rendered", site.Rendered, "warnings", len(site.Warnings),
				"duration_ms", time.Since(start).Milliseconds())
		}
	}
}

// reloadScript reloads the page at each rebuild.
const reloadScript = `<script>new EventSource("/__reload").onmessage = () => location.reload();</script>`

// ServeHTTP serves the site, and /__reload, the rebuilds as events.
func (p *Preview) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/__reload" {
		p.reload(w, r)
		return
	}
	p.mu.Lock()
	site, err := p.site, p.err
	p.mu.Unlock()
	if site == nil {
		http.Error(w, fmt.Sprintf("the docs do not build: %v", err), http.StatusInternalServerError)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/")
	for _, candidate := range pageCandidates(rest) {
		for _, pg := range site.Pages {
			if pg.URL != candidate {
				continue
			}
			if candidate != rest && !strings.HasSuffix(rest, "index.html") {
				http.Redirect(w, r, "/"+candidate, http.StatusMovedPermanently)
				return
			}
			page := string(site.PageHTML(pg))
			banner := ""
			if err != nil {
				banner = `<div class="admonition failure"><p class="admonition-title">The source does not build; this is the last good build</p><p>` + esc(err.Error()) + "</p></div>"
			}
			page = strings.Replace(page, `<article class="md-content__inner md-typeset">`, `<article class="md-content__inner md-typeset">`+banner, 1)
			page = strings.Replace(page, "</body>", reloadScript+"</body>", 1)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(page))
			return
		}
	}
	if data, ok := site.SiteFile(rest, "", time.Now()); ok {
		w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(rest)))
		w.Write(data)
		return
	}
	for _, a := range site.Assets {
		if a.Path == rest {
			w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(rest)))
			w.Write(a.Data)
			return
		}
	}
	http.NotFound(w, r)
}

func (p *Preview) reload(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	for {
		p.mu.Lock()
		changed, version := p.changed, p.version
		p.mu.Unlock()
		select {
		case <-r.Context().Done():
			return
		case <-changed:
			fmt.Fprintf(w, "data: %d\n\n", version+1)
			flusher.Flush()
		}
	}
}
