-- Versions are numbered on their own (seq) instead of by the change feed
-- position of their change: a version is written before the transaction
-- takes its turn for feed positions, so that the turn, in which every other
-- writer waits, does not include copying the changed entities (on
-- PostgreSQL that copy took a write beside a refresh past 50 ms at p99).
-- seq stays the rowid, so versions written later have larger numbers, and
-- the existing ones keep theirs.

-- +goose Up
-- +goose StatementBegin
ALTER TABLE entity_history RENAME COLUMN position TO seq;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
ALTER TABLE entity_history RENAME COLUMN seq TO position;
-- +goose StatementEnd
