-- An error of a file or URL that could not be read is copied onto every
-- entity kept from it, as it was last read, so that the entity says why it
-- is not read now (entity errors). The copies are marked, so that the
-- location's list shows each problem once.

-- +goose Up
-- +goose StatementBegin
ALTER TABLE processing_errors ADD COLUMN kept BOOLEAN NOT NULL DEFAULT FALSE;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
ALTER TABLE processing_errors DROP COLUMN kept;
-- +goose StatementEnd
