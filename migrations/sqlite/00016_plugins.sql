-- The plugin registry (internal/store/plugin.go): plugin subgraphs an
-- operator added at run time with `greenroom plugins add` or addPlugin. The
-- gateway reads it through the plugins query and composes them with the
-- subgraphs of its own configuration.

-- +goose Up
CREATE TABLE plugins (
    name     TEXT PRIMARY KEY,  -- the subgraph's name in the supergraph
    url      TEXT NOT NULL,     -- its GraphQL endpoint
    added_by TEXT NOT NULL,     -- the principal that added it
    added_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE plugins;
