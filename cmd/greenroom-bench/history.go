package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// historyVersions is how many versions each entity has for the asOf
// measurement: the live-catalog issue's 10, of which the ingest made one.
const historyVersions = 10

// historyDays is how far back the versions go: one a day.
const historyDays = historyVersions - 1

// fillHistory gives every entity of the database at dsn historyVersions-1
// older versions, one a day for the days before now, copied from its
// current version in one INSERT … SELECT per day. Their positions are
// negative, below every real change's, older days lower. It returns how
// many versions it wrote.
func fillHistory(ctx context.Context, dsn string) (int64, error) {
	driver, source, ph := "sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_time_format=sqlite", func(int) string { return "?" }
	if strings.HasPrefix(dsn, "postgres") {
		driver, source, ph = "postgres", dsn, func(i int) string { return fmt.Sprintf("$%d", i) }
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var total int64
	now := time.Now().UTC()
	for day := 1; day <= historyDays; day++ {
		res, err := db.ExecContext(ctx, fmt.Sprintf(`
			INSERT INTO entity_history (seq, ref, operation, location_id, etag, actor, at, data)
			SELECT -(%s + ROW_NUMBER() OVER (ORDER BY ref)), ref, 'UPDATED', location_id, etag, 'user:default/bench', %s, data
			FROM entities`, ph(1), ph(2)), int64(day)*10_000_000, now.Add(-time.Duration(day)*24*time.Hour))
		if err != nil {
			return total, fmt.Errorf("fill history, day %d: %w", day, err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
