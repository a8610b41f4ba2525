// Package store keeps the Tech Radar plugin's snapshots in its own
// database, SQLite or PostgreSQL: every version of every radar loaded, so
// that a radar's history survives restarts and can be read back.
package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the postgres driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the sqlite driver
)

//go:embed migrations
var migrations embed.FS

// Store is the plugin's database.
type Store struct {
	db *sqlx.DB
}

// Snapshot is one version of a radar.
type Snapshot struct {
	ID         int64     `db:"id"`
	RadarID    string    `db:"radar_id"`
	Source     string    `db:"source"`
	Digest     string    `db:"digest"`
	EntryCount int       `db:"entry_count"`
	LoadedAt   time.Time `db:"loaded_at"`
}

// Open opens the database at dsn — a postgres:// URL, or a SQLite file
// (path or sqlite:path) — and applies the migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	driver, source, dialect, dir := "sqlite", "", goose.DialectSQLite3, "migrations/sqlite"
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		driver, source, dialect, dir = "postgres", dsn, goose.DialectPostgres, "migrations/postgres"
	} else {
		source = "file:" + strings.TrimPrefix(dsn, "sqlite:") + "?_time_format=sqlite&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
	}
	db, err := sqlx.Open(driver, source)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if driver == "sqlite" {
		db.SetMaxOpenConns(1) // one writer; snapshots are few and small
	}
	sub, _ := fs.Sub(migrations, dir) // the directory is embedded
	p, err := goose.NewProvider(dialect, db.DB, sub)
	if err == nil {
		_, err = p.Up(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Save stores data (a radar as Backstage serves it, with entries entries)
// as a new snapshot of the radar, unless its latest snapshot has the same
// content; it returns the latest snapshot and whether it is new.
func (s *Store) Save(ctx context.Context, radarID, source string, entries int, data []byte) (Snapshot, bool, error) {
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	latest, err := s.Latest(ctx, radarID)
	if err == nil && latest.Digest == digest && latest.Source == source {
		return latest, false, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Snapshot{}, false, err
	}
	snap := Snapshot{RadarID: radarID, Source: source, Digest: digest, EntryCount: entries, LoadedAt: time.Now().UTC().Truncate(time.Millisecond)}
	err = s.db.GetContext(ctx, &snap.ID, s.db.Rebind(`INSERT INTO snapshots (radar_id, source, digest, entry_count, data, loaded_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), radarID, source, digest, entries, string(data), snap.LoadedAt)
	return snap, err == nil, err
}

const snapshotColumns = `id, radar_id, source, digest, entry_count, loaded_at`

// Latest returns a radar's newest snapshot: sql.ErrNoRows when it has none.
func (s *Store) Latest(ctx context.Context, radarID string) (Snapshot, error) {
	var snap Snapshot
	err := s.db.GetContext(ctx, &snap, s.db.Rebind(`SELECT `+snapshotColumns+` FROM snapshots WHERE radar_id = ? ORDER BY id DESC LIMIT 1`), radarID)
	snap.LoadedAt = snap.LoadedAt.UTC()
	return snap, err
}

// Snapshots returns a radar's snapshots, newest first, at most limit.
func (s *Store) Snapshots(ctx context.Context, radarID string, limit int) ([]Snapshot, error) {
	var out []Snapshot
	err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT `+snapshotColumns+` FROM snapshots WHERE radar_id = ? ORDER BY id DESC LIMIT ?`), radarID, limit)
	for i := range out {
		out[i].LoadedAt = out[i].LoadedAt.UTC()
	}
	return out, err
}

// Data returns a snapshot's content: sql.ErrNoRows when the radar has no
// such snapshot.
func (s *Store) Data(ctx context.Context, radarID string, id int64) (Snapshot, []byte, error) {
	var row struct {
		Snapshot
		Data string `db:"data"`
	}
	err := s.db.GetContext(ctx, &row, s.db.Rebind(`SELECT `+snapshotColumns+`, data FROM snapshots WHERE radar_id = ? AND id = ?`), radarID, id)
	row.LoadedAt = row.LoadedAt.UTC()
	return row.Snapshot, []byte(row.Data), err
}
