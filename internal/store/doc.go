// Package store keeps the catalog in SQLite (the embedded default, through
// the pure-Go modernc.org/sqlite) or PostgreSQL (through lib/pq), with one
// schema written as paired goose migrations. It is the only package that
// writes SQL or imports database drivers. Every transaction that changes
// entities, relations or locations appends its events to the change feed
// before it commits, with positions in commit order (changefeed.go, where
// the ordering argument is); reads of entities, relations and pages go
// through a read cache that drops exactly what the feed says changed
// (cache.go). For metrics it counts the cache's hits and misses and reports
// its pools' statistics and each location's processing errors; given a
// tracer provider ([WithTracerProvider]) it wraps the driver with otelsql,
// so that every statement is a span.
//
// Every difference between the two databases lives in one type, dialect
// (dialect.go), with its two implementations side by side in
// dialect_sqlite.go and dialect_postgres.go: opening connections, the
// migrations and their lock, which constraint a driver's error names, lists
// as one argument (json_each over a JSON array, ANY over an array), the
// JSON functions, row locks, bulk writes (COPY, INSERT OR FAIL), and how the
// change feed wakes other processes (NOTIFY and LISTEN, polling). Open
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
// Writes are short transactions. A refresh's change set is planned by
// internal/ingest outside any transaction, from plain reads (StoredState,
// EntityData, StoredErrors); ApplyChangeSet persists it, or one part of it,
// in one transaction and decides nothing: it first re-reads, locked, what the plan depends on
// (the location and its stamp, each stored row the plan changes or leaves
// to another location; each ref it creates must still be free, which the
// unique index checks) and answers catalog.ErrStale, having written
// nothing, when any of it changed. No transaction is held while a file or
// URL is read.
//
// It imports internal/catalog, internal/portal, internal/audit and
// migrations, and OpenTelemetry's trace API.
package store
