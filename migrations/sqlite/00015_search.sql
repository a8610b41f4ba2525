-- Text search (internal/store/search.go, internal/search): one row per
-- thing a search finds, written in the transaction of the change it
-- reflects: an entity's row with the entity (catalog.SearchDocument),
-- a docs site's page and section rows with the build that made them.
-- A row goes with its entity (the foreign key), so a search never shows
-- what the catalog no longer has.
--
-- Two FTS5 indexes read the rows (external content, kept by triggers):
-- search_words, by word, ranks with bm25 and matches words by prefix;
-- search_parts, by trigram over the short fields, finds parts of words
-- ("atewa" in payment-gateway). A tier of hits too large to rank is read
-- in the order of the size index. search_terms is the vocabulary: every
-- word of the rows, written in their transaction, which typos are
-- corrected to. It only grows: a word no row has any more matches
-- nothing.

-- +goose Up
-- +goose StatementBegin
CREATE TABLE search_docs (
    id         INTEGER PRIMARY KEY,
    entity_ref TEXT NOT NULL REFERENCES entities (ref) ON DELETE CASCADE,
    type       TEXT NOT NULL,      -- entity, docs
    kind       TEXT NOT NULL,      -- the entity's kind, lower-cased
    size       INTEGER NOT NULL,   -- bytes of name, title, keywords and text: the order of a tier too large to rank
    page       TEXT NOT NULL,      -- a docs row's page path; '' for an entity
    location   TEXT NOT NULL,      -- a docs row's page path#anchor; '' for an entity
    name       TEXT NOT NULL,
    title      TEXT NOT NULL,
    keywords   TEXT NOT NULL,
    text       TEXT NOT NULL,
    UNIQUE (entity_ref, type, location)
);

CREATE INDEX search_docs_size_idx ON search_docs (size);

CREATE VIRTUAL TABLE search_words USING fts5 (
    name, title, keywords, text,
    content = 'search_docs', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);

CREATE VIRTUAL TABLE search_parts USING fts5 (
    name, title, keywords,
    content = 'search_docs', content_rowid = 'id',
    tokenize = 'trigram'
);

-- search_words' terms, which a word's prefix is matched as when they are
-- few (internal/store/dialect_sqlite.go, searchTerms).
CREATE VIRTUAL TABLE search_vocab USING fts5vocab (search_words, row);

CREATE TRIGGER search_docs_insert AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_words (rowid, name, title, keywords, text) VALUES (new.id, new.name, new.title, new.keywords, new.text);
    INSERT INTO search_parts (rowid, name, title, keywords) VALUES (new.id, new.name, new.title, new.keywords);
END;

CREATE TRIGGER search_docs_delete AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_words (search_words, rowid, name, title, keywords, text) VALUES ('delete', old.id, old.name, old.title, old.keywords, old.text);
    INSERT INTO search_parts (search_parts, rowid, name, title, keywords) VALUES ('delete', old.id, old.name, old.title, old.keywords);
END;

CREATE TRIGGER search_docs_update AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_words (search_words, rowid, name, title, keywords, text) VALUES ('delete', old.id, old.name, old.title, old.keywords, old.text);
    INSERT INTO search_parts (search_parts, rowid, name, title, keywords) VALUES ('delete', old.id, old.name, old.title, old.keywords);
    INSERT INTO search_words (rowid, name, title, keywords, text) VALUES (new.id, new.name, new.title, new.keywords, new.text);
    INSERT INTO search_parts (rowid, name, title, keywords) VALUES (new.id, new.name, new.title, new.keywords);
END;

CREATE TABLE search_terms (
    term TEXT PRIMARY KEY
) WITHOUT ROWID;

-- Sites built before this migration have no search rows: their next
-- build writes them all.
UPDATE docs_site SET etag = '';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE search_terms;
DROP TABLE search_vocab;
DROP TRIGGER search_docs_update;
DROP TRIGGER search_docs_delete;
DROP TRIGGER search_docs_insert;
DROP TABLE search_parts;
DROP TABLE search_words;
DROP TABLE search_docs;
-- +goose StatementEnd
