package portal

import (
	"encoding/json"
	"time"
)

// DocsStatus is how the last build of an entity's docs went.
type DocsStatus string

// The statuses of a docs site: built, or failed (the last good build, if
// any, keeps serving).
const (
	DocsBuilt  DocsStatus = "built"
	DocsFailed DocsStatus = "failed"
)

// DocsSite is an entity's docs site as stored: what its last good build
// made, and how its last build went.
type DocsSite struct {
	EntityRef         string
	Source            string // the folder read: a directory or a URL
	Status            DocsStatus
	Name, Description string
	Nav               json.RawMessage // [{title, path, url, children}]
	Report            json.RawMessage // [{file, line, message}]
	Error             string
	Etag              string
	BuiltAt           *time.Time
	CheckedAt         time.Time
}

// DocsPage is a page of a docs site: its content without the theme.
type DocsPage struct {
	Path     string // MkDocs' page URL: "" for the home page
	Position int
	Src      string
	Title    string
	HTML     string
	TOC      json.RawMessage // [{level, id, text}]
	// Links are its relative links, which each build checks again.
	Links json.RawMessage
	Hash  string
	// Sections are the page's entries in the site's search index: the
	// page, then each heading's section.
	Sections []DocsSection
}

// DocsSection is an entry of a docs site's search index, as MkDocs'
// search plugin writes it: a page or a heading's section.
type DocsSection struct {
	Location string // the page's path, and #anchor for a section
	Title    string // as the table of contents escapes it
	Text     string
}

// DocsAsset is a file of a docs site that is not a page.
type DocsAsset struct {
	Path string
	Data []byte
	Hash string
}
