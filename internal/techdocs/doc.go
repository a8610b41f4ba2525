// Package techdocs builds TechDocs sites natively: an mkdocs.yml and its
// docs folder become the site MkDocs + techdocs-core would write — a page
// at each of MkDocs' URLs, assets, search/search_index.json and
// techdocs_metadata.json — without Python or Docker.
//
// What it follows exactly (backstage-spec.md §4 and §8.2, measured on
// MkDocs 1.4.2 + Material 8.2.5): the order of files and the automatic
// nav, page titles (nav title, front matter, a first "# " line, the file
// name, Home), heading ids (Python-Markdown's slugify and _1 for
// repeats), URLs with and without use_directory_urls and links rewritten
// relative to each page, the search index's entries. The Markdown is
// goldmark with GFM, footnotes, definition lists, emoji and attribute
// lists, plus what no module on the proxy offers (blocks.go, markdown.go):
// admonitions, details, tabs, GitHub alerts, Material's task lists, chroma
// highlighting as CSS classes, and mermaid/plantuml fences passed through
// for the browser (chroma took 30 times as long on them).
//
// Pages that hold raw HTML are sanitized with bluemonday; goldmark's own
// output escapes text and drops dangerous URLs, so the others are not.
// A build's problems — links to missing files or anchors, nav entries
// without a page, extensions and plugins it does not provide, files too
// large — are warnings in its report, with file and line; only a source
// with nothing to build is an error.
//
// Builds are incremental: a page is rendered again only when its source,
// the set of files or the URL style changed (Page.Hash), so a one-page
// edit of a 1,000-page site re-renders one page.
package techdocs
