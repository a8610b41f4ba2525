package techdocs

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"errors"
	"html"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// SearchEntry is an entry of MkDocs' search/search_index.json: a page,
// or a section of one from a heading to the next.
type SearchEntry struct {
	Location string `json:"location"`
	Text     string `json:"text"`
	Title    string `json:"title"`
}

// searchConfig is the config MkDocs' search plugin writes beside its
// entries, with its defaults.
var searchConfig = map[string]any{
	"indexing": "full", "lang": []string{"en"}, "min_search_length": 3,
	"prebuild_index": false, "separator": `[\s\-]+`,
}

// SearchIndex lists a site's search entries as MkDocs' search plugin
// does: in file order, each page, then each of its headings' sections
// (location page#id, title as the toc escapes it, the text up to the
// next heading). Texts have tags replaced by spaces, and each run of
// white space made one space.
func (s *Site) SearchIndex() []SearchEntry {
	per := make([][]SearchEntry, len(s.Pages))
	parallel(len(s.Pages), func(i int) { per[i] = s.Pages[i].SearchEntries() })
	var out []SearchEntry
	for _, e := range per {
		out = append(out, e...)
	}
	return out
}

// SearchEntries are a page's entries in the site's search index (see
// [Site.SearchIndex]).
func (p *Page) SearchEntries() []SearchEntry {
	whole, sections := sectionTexts(p.HTML)
	entries := make([]SearchEntry, 0, len(p.TOC)+1)
	entries = append(entries, SearchEntry{Location: p.URL, Title: p.Title, Text: whole})
	for i, h := range p.TOC {
		text := ""
		if i < len(sections) {
			text = sections[i]
		}
		entries = append(entries, SearchEntry{Location: p.URL + "#" + h.ID, Title: html.EscapeString(h.Text), Text: text})
	}
	return entries
}

// sectionTexts returns the text of a page's HTML, and of each part that
// follows a heading, tags replaced by spaces and entities decoded; a
// heading's own text and its permalink are not part of its section.
func sectionTexts(h string) (string, []string) {
	var whole strings.Builder
	var sections []string
	var cur *strings.Builder
	inHeading := false
	for len(h) > 0 {
		lt := strings.IndexByte(h, '<')
		if lt < 0 {
			lt = len(h)
		}
		data := html.UnescapeString(h[:lt])
		whole.WriteString(data)
		if cur != nil && !inHeading {
			cur.WriteString(data)
		}
		h = h[lt:]
		if h == "" {
			break
		}
		gt := strings.IndexByte(h, '>')
		if gt < 0 {
			break
		}
		tag := h[1:gt]
		h = h[gt+1:]
		whole.WriteByte(' ')
		if cur != nil && !inHeading {
			cur.WriteByte(' ')
		}
		if len(tag) >= 2 && (tag[0] == 'h' || tag[0] == 'H') && tag[1] >= '1' && tag[1] <= '6' && (len(tag) == 2 || tag[2] == ' ') {
			if cur != nil {
				sections = append(sections, collapse(cur.String()))
			}
			cur = &strings.Builder{}
			inHeading = true
		} else if len(tag) == 3 && tag[0] == '/' && (tag[1] == 'h' || tag[1] == 'H') && tag[2] >= '1' && tag[2] <= '6' {
			inHeading = false
		}
	}
	if cur != nil {
		sections = append(sections, collapse(cur.String()))
	}
	return collapse(whole.String()), sections
}

// collapse makes each run of white space one space, and trims.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// Metadata is techdocs_metadata.json.
type Metadata struct {
	SiteName        string   `json:"site_name"`
	SiteDescription string   `json:"site_description"`
	Etag            string   `json:"etag"`
	BuildTimestamp  int64    `json:"build_timestamp"`
	Files           []string `json:"files"`
	Engine          string   `json:"engine"`
}

// Stylesheets the standalone site links: Greenroom's layout and chroma's
// classes coloured as GitHub colours them.
const (
	stylesheet      = "assets/greenroom/site.css"
	highlightSheet  = "assets/greenroom/highlight.css"
	techdocsEngine  = "greenroom"
	searchIndexPath = "search/search_index.json"
	metadataPath    = "techdocs_metadata.json"
)

// generated are the files a site has beside its pages and assets.
var generated = []string{stylesheet, highlightSheet, searchIndexPath, metadataPath}

// SiteFile returns one of the generated files of the built site: a
// stylesheet, the search index or techdocs_metadata.json, which lists
// every file; false for any other name. etag names the source. Only the
// search index reads every page's HTML.
func (s *Site) SiteFile(name, etag string, built time.Time) ([]byte, bool) {
	switch name {
	case stylesheet:
		return []byte(siteCSS), true
	case highlightSheet:
		return highlightCSS(), true
	case searchIndexPath:
		idx, _ := json.Marshal(map[string]any{"config": searchConfig, "docs": s.SearchIndex()})
		return idx, true
	case metadataPath:
		meta := Metadata{SiteName: s.Name, SiteDescription: s.Description, Etag: etag, BuildTimestamp: built.UnixMilli(), Engine: techdocsEngine}
		for _, p := range s.Pages {
			meta.Files = append(meta.Files, p.Dest)
		}
		for _, a := range s.Assets {
			meta.Files = append(meta.Files, a.Path)
		}
		meta.Files = append(meta.Files, generated...)
		slices.Sort(meta.Files)
		data, _ := json.Marshal(meta)
		return data, true
	}
	return nil, false
}

// WriteDir writes the site under dir as MkDocs + techdocs-core lay it
// out: each page's HTML at its URL, the assets, and the generated files. Pages are
// written as they are made, on every core, rather than held.
func (s *Site) WriteDir(dir, etag string, built time.Time) error {
	write := func(name string, data []byte) error {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, data, 0o644)
	}
	errs := make([]error, len(s.Pages))
	parallel(len(s.Pages), func(i int) { errs[i] = write(s.Pages[i].Dest, s.PageHTML(s.Pages[i])) })
	for _, a := range s.Assets {
		errs = append(errs, write(a.Path, a.Data))
	}
	for _, name := range generated {
		data, _ := s.SiteFile(name, etag, built)
		errs = append(errs, write(name, data))
	}
	return errors.Join(errs...)
}

// PageHTML is a page as a whole HTML document: Material's layout and
// class names (md-header, md-sidebar, md-nav, md-content, md-typeset),
// the nav with the page marked active, and the page's table of contents.
func (s *Site) PageHTML(p *Page) []byte {
	var b bytes.Buffer
	b.Grow(len(p.HTML) + 4096)
	root := relativeURL(".", cmp.Or(pageFileURL(p), "."))
	if root == "." {
		root = ""
	} else {
		root += "/"
	}
	b.WriteString(`<!doctype html>
<html lang="en" class="no-js"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="generator" content="greenroom">`)
	if s.Description != "" {
		b.WriteString(`<meta name="description" content="` + esc(s.Description) + `">`)
	}
	b.WriteString("\n<title>")
	if !p.home {
		b.WriteString(esc(p.Title) + " - ")
	}
	b.WriteString(esc(s.Name) + "</title>\n")
	b.WriteString(`<link rel="stylesheet" href="` + root + stylesheet + `"><link rel="stylesheet" href="` + root + highlightSheet + `">
</head><body dir="ltr"><div class="md-container">
<header class="md-header"><nav class="md-header__inner md-grid"><a class="md-header__button md-logo" href="` + cmp.Or(root, "./") + `">` + esc(s.Name) + `</a></nav></header>
<main class="md-main"><div class="md-main__inner md-grid">
<div class="md-sidebar md-sidebar--primary"><div class="md-sidebar__scrollwrap"><div class="md-sidebar__inner">
<nav class="md-nav md-nav--primary"><label class="md-nav__title">` + esc(s.Name) + "</label>\n")
	b.WriteString(s.navHTML(root, p))
	b.WriteString("</nav></div></div></div>\n")
	if len(p.TOC) > 0 {
		b.WriteString(`<div class="md-sidebar md-sidebar--secondary"><div class="md-sidebar__scrollwrap"><div class="md-sidebar__inner">
<nav class="md-nav md-nav--secondary"><label class="md-nav__title">Table of contents</label><ul class="md-nav__list">` + "\n")
		for _, h := range p.TOC {
			if h.Level == 1 {
				continue
			}
			b.WriteString(`<li class="md-nav__item md-nav__item--level-` + string(rune('0'+h.Level)) + `"><a class="md-nav__link" href="#` + esc(h.ID) + `">` + esc(h.Text) + "</a></li>\n")
		}
		b.WriteString("</ul></nav></div></div></div>\n")
	}
	b.WriteString(`<div class="md-content" data-md-component="content"><article class="md-content__inner md-typeset">` + "\n")
	b.WriteString(p.HTML)
	b.WriteString("</article></div>\n</div></main></div></body></html>\n")
	return b.Bytes()
}

// pageFileURL is the page's folder URL, from which its links are
// relative.
func pageFileURL(p *Page) string {
	if p.home {
		return "."
	}
	return p.URL
}

// navHTML is the nav as the page p shows it, its links relative to root
// (the site's root as seen from p): p's own link marked active, the
// sections that lead to p open, the others closed to a link to their
// first page. A 1,000-page site's full nav in every page made each page
// 96 KB and the site 96 MB; closed, it is 30 KB.
func (s *Site) navHTML(root string, p *Page) string {
	var b bytes.Buffer
	writeNav(&b, s.Nav, root, p.URL)
	return b.String()
}

func navHref(root, path string) string { return cmp.Or(root+path, "./") }

func writeNav(b *bytes.Buffer, items []*NavItem, root, current string) {
	b.WriteString(`<ul class="md-nav__list">` + "\n")
	for _, it := range items {
		switch {
		case it.Section && leadsTo(it, current):
			b.WriteString(`<li class="md-nav__item md-nav__item--nested md-nav__item--active"><span class="md-nav__link">` + esc(it.Title) + "</span>\n<nav class=\"md-nav\">")
			writeNav(b, it.Children, root, current)
			b.WriteString("</nav></li>\n")
		case it.Section:
			if first := firstPage(it); first != nil {
				b.WriteString(`<li class="md-nav__item md-nav__item--nested"><a class="md-nav__link" href="` + esc(navHref(root, first.Path)) + `">` + esc(it.Title) + "</a></li>\n")
			} else {
				b.WriteString(`<li class="md-nav__item md-nav__item--nested"><span class="md-nav__link">` + esc(it.Title) + "</span></li>\n")
			}
		case it.URL != "":
			b.WriteString(`<li class="md-nav__item"><a class="md-nav__link" href="` + esc(it.URL) + `">` + esc(it.Title) + "</a></li>\n")
		default:
			cls := "md-nav__link"
			if it.Path == current {
				cls += " md-nav__link--active"
			}
			b.WriteString(`<li class="md-nav__item"><a class="` + cls + `" href="` + esc(navHref(root, it.Path)) + `">` + esc(it.Title) + "</a></li>\n")
		}
	}
	b.WriteString("</ul>\n")
}

// leadsTo reports whether a section holds the page at url.
func leadsTo(section *NavItem, url string) bool {
	for _, c := range section.Children {
		if (c.Section && leadsTo(c, url)) || (!c.Section && c.URL == "" && c.Path == url) {
			return true
		}
	}
	return false
}

// firstPage is a section's first page, depth first.
func firstPage(section *NavItem) *NavItem {
	for _, c := range section.Children {
		switch {
		case c.Section:
			if p := firstPage(c); p != nil {
				return p
			}
		case c.URL == "":
			return c
		}
	}
	return nil
}

// highlightCSS colours chroma's classes with its GitHub style.
func highlightCSS() []byte {
	var b bytes.Buffer
	formatter.WriteCSS(&b, codeStyle)
	return b.Bytes()
}

// siteCSS lays out the standalone site.
//
//go:embed site.css
var siteCSS string
