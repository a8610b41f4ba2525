-- Whether the operator configured a location (command line, greenroom.yaml,
-- environment) or a caller registered it through the API: the catalog rules
-- let configured locations emit every kind by default and registered ones
-- only software kinds, and only configured file locations may lead to files
-- outside their own tree. Locations stored before count as registered until
-- the configuration names them again at the next start.

-- +goose Up
-- +goose StatementBegin
ALTER TABLE locations ADD COLUMN configured BOOLEAN NOT NULL DEFAULT FALSE;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
ALTER TABLE locations DROP COLUMN configured;
-- +goose StatementEnd
