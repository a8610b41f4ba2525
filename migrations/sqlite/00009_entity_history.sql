-- Every version of every entity: a row per change of an entity's content
-- (created, updated, orphaned, deleted), written by the transaction that
-- makes the change, with the entity as it is after it (NULL once deleted),
-- so that the history of an entity, what changed in each version and the
-- entity as it was at any time can be read back (see
-- internal/store/history.go). Rows are keyed by the position of the change
-- feed event of the same change, so that a history cursor and a
-- subscription's cursor name the same change; they outlive the feed's
-- retention, and are pruned after their own (history.retention).
--
-- The entities stored before this table existed get one version each, as
-- they are now, at their last update, with negative positions that sort
-- before every change to come.

-- +goose Up
-- +goose StatementBegin
CREATE TABLE entity_history (
    position    INTEGER PRIMARY KEY, -- the change feed position of the change: the rowid, so no second index to write
    ref         TEXT NOT NULL,      -- the entity's canonical ref
    operation   TEXT NOT NULL,      -- CREATED, UPDATED, ORPHANED or DELETED
    location_id TEXT NOT NULL,      -- the location that emitted it, or ''
    etag        TEXT NOT NULL,      -- its etag after the change; '' once deleted
    actor       TEXT NOT NULL,      -- principal ref, location:<id>, or '' for the server
    at          TIMESTAMP NOT NULL,
    data        TEXT                -- the entity as JSON after the change; NULL once deleted
);
CREATE INDEX entity_history_ref_idx ON entity_history (ref, position);
CREATE INDEX entity_history_at_idx ON entity_history (at);

INSERT INTO entity_history (position, ref, operation, location_id, etag, actor, at, data)
SELECT -ROW_NUMBER() OVER (ORDER BY ref DESC), ref,
       CASE WHEN created_at = updated_at THEN 'CREATED' ELSE 'UPDATED' END,
       location_id, etag, '', updated_at, data
FROM entities;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE entity_history;
-- +goose StatementEnd
