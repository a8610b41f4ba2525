package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
)

// JobDriver returns River's driver over this database, for internal/jobs:
// riverdatabasesql over the PostgreSQL pool the store already has, or
// riversqlite over a handle of River's own on the SQLite file (see the
// dialect's jobDriver). River's tables are created by [DB.Migrate]. The
// driver lives as long as the DB: close the River client before the DB.
func (db *DB) JobDriver() (riverdriver.Driver[*sql.Tx], error) {
	db.jobsOnce.Do(func() {
		db.jobs, db.jobsClose, db.jobsErr = db.d.jobDriver(db.w, db.dsn, db.open)
	})
	return db.jobs, db.jobsErr
}

// migrateJobs brings River's own tables (river_job, river_leader, …) up to
// date with River's migrator, under the dialect's migration lock, so that
// two replicas starting at once take turns.
func (db *DB) migrateJobs(ctx context.Context) error {
	m, err := db.jobMigrator()
	if err != nil {
		return err
	}
	release, err := db.d.migrationLock(ctx, db.w)
	if err != nil {
		return fmt.Errorf("store: migrate jobs: %w", err)
	}
	defer release()
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("store: migrate jobs: %w", err)
	}
	return nil
}

func (db *DB) jobMigrator() (*rivermigrate.Migrator[*sql.Tx], error) {
	drv, err := db.JobDriver()
	if err != nil {
		return nil, err
	}
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: db.log.With("component", "migrate")})
	if err != nil {
		return nil, fmt.Errorf("store: migrate jobs: %w", err)
	}
	return m, nil
}

// jobMigrationStatus lists River's migrations, named "river NNN_name".
// River keeps no time of application that its migrator returns.
func (db *DB) jobMigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	m, err := db.jobMigrator()
	if err != nil {
		return nil, err
	}
	applied, err := m.ExistingVersions(ctx)
	if err != nil {
		// A database that goose has not migrated has no River tables
		// either; the status says so rather than failing.
		applied = nil
	}
	done := map[int]bool{}
	for _, a := range applied {
		done[a.Version] = true
	}
	var out []MigrationStatus
	for _, v := range m.AllVersions() {
		s := MigrationStatus{Version: int64(v.Version), Name: fmt.Sprintf("river %03d_%s", v.Version, v.Name), River: true}
		s.Applied = done[v.Version]
		out = append(out, s)
	}
	return out, nil
}

// JobCount is how many jobs of one kind are in one state.
type JobCount struct {
	Kind  string
	State string
	Count int
}

// JobCounts counts the jobs in River's table by kind and state, for the
// metrics: read at scrape time, so that every replica reports the same.
func (db *DB) JobCounts(ctx context.Context) ([]JobCount, error) {
	var out []JobCount
	rows, err := db.r.QueryContext(ctx, `SELECT kind, state, count(*) FROM river_job GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c JobCount
		if err := rows.Scan(&c.Kind, &c.State, &c.Count); err != nil {
			return nil, formatError(err)
		}
		out = append(out, c)
	}
	return out, formatError(rows.Err())
}
