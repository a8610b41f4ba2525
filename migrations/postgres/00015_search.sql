-- Text search (internal/store/search.go, internal/search): one row per
-- thing a search finds, written in the transaction of the change it
-- reflects: an entity's row with the entity (catalog.SearchDocument),
-- a docs site's page and section rows with the build that made them.
-- A row goes with its entity (the foreign key), so a search never shows
-- what the catalog no longer has.
--
-- words is a weighted tsvector (name A, title B, keywords C, text D) that
-- ranks with ts_rank and matches words by prefix, and head the same of
-- the short fields, whose matches rank first; parts, the short fields
-- lower-cased, has a pg_trgm index that finds parts of words ("atewa" in
-- payment-gateway). A tier of hits too large to rank is read in the order
-- of the size index. Both are split into words the way
-- SQLite's unicode61 tokenizer splits them (at anything that is not a
-- letter or a digit), so that both databases find the same rows.
-- search_terms is the vocabulary: every word of the rows, written in
-- their transaction. Typos are corrected to its words, and a prefix is
-- matched as the words it begins. It only grows: a word no row has any
-- more matches nothing.

-- +goose Up
-- +goose StatementBegin
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE search_docs (
    id         BIGSERIAL PRIMARY KEY,
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
    words      TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', regexp_replace(name, '[^[:alnum:]]+', ' ', 'g')), 'A') ||
        setweight(to_tsvector('simple', regexp_replace(title, '[^[:alnum:]]+', ' ', 'g')), 'B') ||
        setweight(to_tsvector('simple', regexp_replace(keywords, '[^[:alnum:]]+', ' ', 'g')), 'C') ||
        setweight(to_tsvector('simple', regexp_replace(text, '[^[:alnum:]]+', ' ', 'g')), 'D')
    ) STORED,
    head       TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', regexp_replace(name, '[^[:alnum:]]+', ' ', 'g')), 'A') ||
        setweight(to_tsvector('simple', regexp_replace(title, '[^[:alnum:]]+', ' ', 'g')), 'B') ||
        setweight(to_tsvector('simple', regexp_replace(keywords, '[^[:alnum:]]+', ' ', 'g')), 'C')
    ) STORED,
    parts      TEXT GENERATED ALWAYS AS (lower(name || ' ' || title || ' ' || keywords)) STORED,
    UNIQUE (entity_ref, type, location)
);
CREATE INDEX search_docs_words_idx ON search_docs USING gin (words);
CREATE INDEX search_docs_head_idx ON search_docs USING gin (head);
CREATE INDEX search_docs_size_idx ON search_docs (size, id);
CREATE INDEX search_docs_parts_idx ON search_docs USING gin (parts gin_trgm_ops);

CREATE TABLE search_terms (
    term TEXT COLLATE "C" PRIMARY KEY
);

-- Sites built before this migration have no search rows: their next
-- build writes them all.
UPDATE docs_site SET etag = '';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE search_terms;
DROP TABLE search_docs;
-- +goose StatementEnd
