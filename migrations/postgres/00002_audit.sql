-- The audit log: every attempt to change the portal, with who made it and
-- how it ended. Rows are only ever added; IDs are version 7 UUIDs made in
-- Go, so the primary key orders events by time and serves the newest-first
-- listing (and its keyset pages) without a separate index.

-- +goose Up
-- +goose StatementBegin
CREATE TABLE audit_events (
    -- Collation C compares IDs byte by byte, as Go and SQLite do, whatever
    -- the database's locale.
    id            TEXT COLLATE "C" PRIMARY KEY,
    at            TIMESTAMPTZ NOT NULL,
    actor         TEXT NOT NULL, -- the principal's ref; '' when anonymous
    actor_kind    TEXT NOT NULL, -- user, service or anonymous
    action        TEXT NOT NULL, -- such as the mutation name, deleteEntity
    target        TEXT NOT NULL, -- the entity ref or location id acted on; '' when none
    arguments     TEXT NOT NULL, -- a JSON object, secrets redacted
    outcome       TEXT NOT NULL, -- ok, denied or error
    error_code    TEXT NOT NULL,
    error_message TEXT NOT NULL,
    request_id    TEXT NOT NULL
);
-- "What did this caller do", "who ran this action" and "what happened to
-- this entity", each newest first.
CREATE INDEX audit_events_actor_idx ON audit_events (actor, id);
CREATE INDEX audit_events_action_idx ON audit_events (action, id);
CREATE INDEX audit_events_target_idx ON audit_events (target, id);
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE audit_events;
-- +goose StatementEnd
