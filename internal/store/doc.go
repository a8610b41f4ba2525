// Package store keeps the catalog in SQLite (the embedded default, through
// the pure-Go modernc.org/sqlite) or PostgreSQL (through lib/pq), with one
// schema written as paired goose migrations. It is the only package that
// writes SQL or imports database drivers. Reads of entities, relations and
// pages go through a read cache that a change of the catalog version drops
// (cache.go).
//
// Every difference between the two databases lives in one type, dialect
// (dialect.go), with its two implementations side by side in
// dialect_sqlite.go and dialect_postgres.go: opening connections, the
// migrations and their lock, which constraint a driver's error names, lists
// as one argument (json_each over a JSON array, ANY over an array), the
// JSON functions, row locks, and bulk writes (COPY, INSERT OR FAIL). Open
// picks the dialect once, so the rest of the store writes one SQL text for
// both and never asks which database it is on: a new difference gets a
// method, and a feature that needs one (full-text search, job claims) sees
// at a glance what the other database does instead. What both databases
// share stays out of it: placeholders are written ? and sqlx rewrites them
// for the driver the dialect opened; upserts are INSERT … ON CONFLICT …
// DO UPDATE; recursive queries are WITH RECURSIVE, with the parameters
// PostgreSQL cannot type CAST; text is matched case-insensitively by
// comparing lower() of a column with a value lower-cased in Go.
//
// It imports internal/catalog, internal/portal, internal/audit and
// migrations.
package store
