-- Versions are numbered on their own (seq) instead of by the change feed
-- position of their change: a version is written before the transaction
-- takes its turn for feed positions, so that the turn, in which every other
-- writer waits, does not include copying the changed entities (that copy
-- took a write beside a refresh past 50 ms at p99). The numbers come from a
-- sequence that starts above every existing one. Two versions of one entity
-- are numbered in the order their transactions committed: the second
-- writes the entity's row only after the first committed, and its version
-- after that.

-- +goose Up
-- +goose StatementBegin
ALTER TABLE entity_history RENAME COLUMN position TO seq;
CREATE SEQUENCE entity_history_seq OWNED BY entity_history.seq;
SELECT setval('entity_history_seq', COALESCE((SELECT max(seq) FROM entity_history), 0) + 1, false);
ALTER TABLE entity_history ALTER COLUMN seq SET DEFAULT nextval('entity_history_seq');
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
ALTER TABLE entity_history ALTER COLUMN seq DROP DEFAULT;
DROP SEQUENCE entity_history_seq;
ALTER TABLE entity_history RENAME COLUMN seq TO position;
-- +goose StatementEnd
