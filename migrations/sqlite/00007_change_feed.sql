-- The change feed: every write that changes entities, relations or
-- locations appends one row per entity or location it changed, in its own
-- transaction (see internal/store/changefeed.go). Consumers read it by
-- position: the read cache of every process, subscriptions, indexers.
--
-- Positions come from the one row of change_feed_head, which each writer
-- updates inside its transaction, so that they are given in commit order
-- and without gaps; a sequence would not be (PostgreSQL sequences are not
-- transactional). It replaces catalog_version, the integer writers bumped
-- by hand, which told readers that something changed but not what.

-- +goose Up
-- +goose StatementBegin
CREATE TABLE change_feed (
    position    BIGINT PRIMARY KEY,
    operation   TEXT NOT NULL, -- CREATED, UPDATED, DELETED, ORPHANED, ERROR, LOCATION_…
    ref         TEXT NOT NULL, -- the entity's canonical ref, or the location's id
    kind        TEXT NOT NULL, -- the entity's, lower-cased; '' for a location
    namespace   TEXT NOT NULL, -- the entity's, lower-cased; '' for a location
    location_id TEXT NOT NULL, -- the location that emits the entity, or ''
    etag        TEXT NOT NULL, -- the entity's new etag, or ''
    fields      TEXT NOT NULL, -- JSON array of the changed field paths
    actor       TEXT NOT NULL, -- principal ref, location:<id>, or '' for the server
    at          TIMESTAMP NOT NULL -- UTC
);
-- Pruning deletes by time.
CREATE INDEX change_feed_at_idx ON change_feed (at);

CREATE TABLE change_feed_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL, -- the last position given
    pruned   BIGINT NOT NULL -- every position up to this one has been pruned
);
INSERT INTO change_feed_head (id, position, pruned) VALUES (1, 0, 0);

DROP TABLE catalog_version;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) SELECT 1, position FROM change_feed_head;
DROP TABLE change_feed_head;
DROP TABLE change_feed;
-- +goose StatementEnd
