-- When a configured location left the configuration. A removed location is
-- no longer listed, read or refreshed, and its errors are gone; its row
-- stays only while the entities it emitted, kept as orphans
-- (catalog.orphans: keep), still name it, since every entity belongs to a
-- location. Configuring or registering it again brings it back, and its
-- next refresh takes its orphans back.

-- +goose Up
-- +goose StatementBegin
ALTER TABLE locations ADD COLUMN removed_at TIMESTAMP;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
ALTER TABLE locations DROP COLUMN removed_at;
-- +goose StatementEnd
