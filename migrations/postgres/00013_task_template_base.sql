-- A task's template_dir becomes template_base: the folder its template's
-- relative fetch URLs point to, a directory on the server or the URL of
-- the descriptor's folder on a forge (a template registered by URL).

-- +goose Up
ALTER TABLE task RENAME COLUMN template_dir TO template_base;

-- +goose Down
ALTER TABLE task RENAME COLUMN template_base TO template_dir;
