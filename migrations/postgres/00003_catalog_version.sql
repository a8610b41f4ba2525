-- The catalog's version: a number every write that changes entities or
-- relations increments, in the same transaction. A server compares it with
-- the version of what it keeps in memory, so that it notices the writes of
-- other processes (greenroom ingest, other replicas).

-- +goose Up
-- +goose StatementBegin
CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE catalog_version;
-- +goose StatementEnd
