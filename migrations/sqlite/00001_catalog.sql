-- The catalog: registered locations, the entities they emit, the relations
-- between entities, and the problems found while reading locations.
-- Times are written by Greenroom in UTC; IDs are UUIDs made in Go.

-- +goose Up
-- +goose StatementBegin
CREATE TABLE locations (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    target       TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    changed_at   TIMESTAMP, -- when a refresh last changed what the location emits
    -- digest of the location-level errors last written, so that an
    -- unchanged refresh writes nothing
    errors_hash  TEXT NOT NULL DEFAULT '',
    UNIQUE (type, target)
);

CREATE TABLE entities (
    id           TEXT PRIMARY KEY, -- metadata.uid, stable for the entity's lifetime
    ref          TEXT NOT NULL UNIQUE, -- kind:namespace/name, lower-cased
    -- The fields below are copied out of data, as written, for filters,
    -- ordering and the fields of a list that need no decoding of data.
    kind         TEXT NOT NULL,
    namespace    TEXT NOT NULL,
    name         TEXT NOT NULL,
    title        TEXT,
    description  TEXT,
    spec_type    TEXT,
    lifecycle    TEXT,
    tags         TEXT NOT NULL, -- lower-cased, each between bars: |java|data|
    labels       TEXT NOT NULL, -- metadata.labels as a JSON object
    annotations  TEXT NOT NULL, -- metadata.annotations as a JSON object
    search_text  TEXT NOT NULL, -- lower-cased name, title, description and tags, for text search
    parent_ref   TEXT, -- the Location entity whose target led to the file
    location_id  TEXT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    location_key TEXT NOT NULL, -- the file or URL it was read from
    data         TEXT NOT NULL, -- the entity as JSON, as served
    hash         TEXT NOT NULL, -- digest of the content as read, without uid and etag
    etag         TEXT NOT NULL,
    valid        BOOLEAN NOT NULL, -- false when stored with errors and no good version
    orphan       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX entities_location_idx ON entities (location_id);
CREATE INDEX entities_parent_idx ON entities (parent_ref);
-- Serves the most common list, entities of some kinds ordered by ref,
-- without sorting them all.
CREATE INDEX entities_kind_idx ON entities (lower(kind), ref);

-- Both directions of every relation are rows; originating_id is the entity
-- whose spec produced the row, so its rows are replaced when it changes.
-- There is no foreign key: on SQLite a constraint that a multi-row INSERT
-- could break forces a statement journal, which makes large loads several
-- times slower. The store deletes an entity's relations with the entity.
CREATE TABLE relations (
    originating_id TEXT NOT NULL, -- entities.id; no foreign key, see above
    source_ref     TEXT NOT NULL,
    type           TEXT NOT NULL,
    target_ref     TEXT NOT NULL
);
CREATE INDEX relations_source_idx ON relations (source_ref, type, target_ref);
CREATE INDEX relations_target_idx ON relations (target_ref, type, source_ref);
CREATE INDEX relations_originating_idx ON relations (originating_id);

CREATE TABLE processing_errors (
    id           TEXT PRIMARY KEY,
    location_id  TEXT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    entity_ref   TEXT, -- NULL when no entity could be named
    location_key TEXT NOT NULL,
    document     INTEGER NOT NULL,
    line         INTEGER NOT NULL,
    code         TEXT NOT NULL,
    message      TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX processing_errors_location_idx ON processing_errors (location_id);
CREATE INDEX processing_errors_entity_idx ON processing_errors (entity_ref);
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE processing_errors;
DROP TABLE relations;
DROP TABLE entities;
DROP TABLE locations;
-- +goose StatementEnd
