// Package store keeps the catalog in SQLite (the embedded default, through
// the pure-Go modernc.org/sqlite) or PostgreSQL (through lib/pq), with one
// schema written as paired goose migrations. It is the only package that
// writes SQL or imports database drivers.
//
// It imports internal/catalog, internal/portal and migrations.
package store
