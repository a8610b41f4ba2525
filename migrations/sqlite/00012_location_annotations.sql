-- Annotations a location stamps on every entity it emits: what a software
-- template's task registers carries the template, its version and the task
-- that registered it (internal/scaffolder, catalog:register).

-- +goose Up
ALTER TABLE locations ADD COLUMN annotations TEXT NOT NULL DEFAULT '{}'; -- JSON object of strings

-- +goose Down
ALTER TABLE locations DROP COLUMN annotations;
