// Package store keeps the catalog in SQLite (the embedded default, through
// the pure-Go modernc.org/sqlite) or PostgreSQL (through lib/pq), with one
// schema written as paired goose migrations. It is the only package that
// writes SQL or imports database drivers. Reads of entities, relations and
// pages go through a read cache that a change of the catalog version drops
// (cache.go).
//
// It imports internal/catalog, internal/portal, internal/audit and
// migrations.
package store
