-- TechDocs sites as the last build of each entity's docs made them
-- (internal/store/docs.go, internal/techdocs): the site, its pages (content
-- and table of contents; the theme around them is added when served) and
-- its assets. Every replica serves them from here. Keyed by entity ref,
-- without a foreign key: a site outlives a change of its entity's uid, and
-- the docs job removes the site of an entity that is gone.

-- +goose Up
-- +goose StatementBegin
CREATE TABLE docs_site (
    entity_ref  TEXT PRIMARY KEY,
    source      TEXT NOT NULL,      -- the folder read: a directory, or a URL
    status      TEXT NOT NULL,      -- built, failed
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    nav         TEXT NOT NULL,      -- JSON: [{title, path, url, children}]
    report      TEXT NOT NULL,      -- JSON: the last build's warnings [{file, line, message}]
    error       TEXT NOT NULL,      -- why the last build failed; '' when it did not
    etag        TEXT NOT NULL,      -- digest of the source the pages were built from
    built_at    TIMESTAMPTZ,       -- the last good build; NULL before one
    checked_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE docs_page (
    entity_ref TEXT NOT NULL,
    path       TEXT NOT NULL,       -- MkDocs' page URL: '' for the home page, 'a/' or 'a.html'
    position   INTEGER NOT NULL,    -- file order
    src        TEXT NOT NULL,       -- the Markdown file, relative to the docs folder
    title      TEXT NOT NULL,
    html       TEXT NOT NULL,       -- the page's content, sanitized
    toc        TEXT NOT NULL,       -- JSON: [{level, id, text}]
    links      TEXT NOT NULL,       -- JSON: its relative links, checked again by each build
    hash       TEXT NOT NULL,       -- the page's inputs; unchanged pages are not rendered again
    PRIMARY KEY (entity_ref, path)
);

CREATE TABLE docs_asset (
    entity_ref TEXT NOT NULL,
    path       TEXT NOT NULL,
    data       BYTEA NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (entity_ref, path)
);
-- +goose StatementEnd

-- +goose Down
DROP TABLE docs_asset;
DROP TABLE docs_page;
DROP TABLE docs_site;
