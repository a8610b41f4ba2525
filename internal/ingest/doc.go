// Package ingest turns registered locations into catalog entities: it reads
// files and URLs, follows Location entities, parses YAML, resolves
// placeholders, validates each document with internal/catalog and hands the
// results of one location to a [Store] to be written in one transaction.
// When a location is refreshed is not its decision: internal/jobs runs
// each refresh as a job, at the location's interval and on demand.
//
// Bad input is never fatal: each problem becomes a processing error on the
// location (and on the entity when one can be named), and the valid
// documents beside it are still ingested. Hostile input is bounded: only
// regular files are read, each read within a deadline, and the bytes that
// YAML aliases and placeholders expand to are counted as they are spent,
// per entity and per location. A refresh that fails all the same stores
// nothing and is recorded on its location.
//
// Trust follows the root location: what a location may emit is decided by
// [Rules] (configured locations everything, registered ones software kinds,
// unless catalog rules say otherwise), and a location only leads to
// locations of its own trust: from a URL only to URLs, from a registered
// file location only within its tree. The file roots and allowed hosts of
// [Options] bound every read, redirects included.
//
// It imports internal/catalog and internal/portal; storage is behind the
// [Store] interface, wired in cmd/greenroom.
package ingest
