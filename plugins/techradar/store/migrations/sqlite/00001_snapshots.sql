-- Every version of every radar the plugin loaded: a snapshot is written
-- when a radar's content changes (by its digest), never updated, so a
-- radar's history stays readable (TechRadar.snapshots, atSnapshot).

-- +goose Up
CREATE TABLE snapshots (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    radar_id    TEXT NOT NULL,
    source      TEXT NOT NULL,    -- the file or URL it was read from
    digest      TEXT NOT NULL,    -- SHA-256 of data, hex
    entry_count INTEGER NOT NULL,
    data        TEXT NOT NULL,    -- Backstage's TechRadarLoaderResponse, as served
    loaded_at   TIMESTAMP NOT NULL
);
CREATE INDEX snapshots_radar ON snapshots (radar_id, id);

-- +goose Down
DROP TABLE snapshots;
