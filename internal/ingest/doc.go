// Package ingest turns registered locations into catalog entities: it reads
// files and URLs, follows Location entities, parses YAML, resolves
// placeholders, validates each document with internal/catalog and plans the
// changes of one location for a [Store] to apply.
// When a location is refreshed is not its decision: internal/jobs runs
// each refresh as a job, at the location's interval and on demand.
//
// A refresh reads, and plans what it changes, with no transaction open; a
// write transaction is never held while a file or URL is read, so that no
// other write (deleting a location, an audit row) waits on the network. It
// encodes each entity as it is read, reads what is stored with plain reads,
// and plans the location's change set (a [catalog.ChangeSet]) in plan.go:
// the one place where the rules of ingestion are decided, for refreshes and
// dry runs alike (conflicts, the last good version of an entity that stops
// validating, orphans, errors of unreadable files copied onto the entities
// kept from them). Each planned change carries what a change feed needs: its
// operation, ref, new etag and changed paths. The [Store] applies each
// change set in one short transaction that re-checks what the plan was made
// against and refuses it, writing nothing, when another write changed it
// meanwhile; the refresh then plans again from the documents already read,
// a bounded number of times. A refresh is applied in parts as it is read
// (see [Engine.refresh]): the database's work runs beside the parsing, no
// transaction holds a whole location, and memory does not grow with one. Refreshes of one location take turns;
// refreshes of different locations may overlap, the re-check settling which
// one keeps a ref both emit.
//
// Bad input is never fatal: each problem becomes a processing error on the
// location (and on the entity when one can be named), and the valid
// documents beside it are still ingested. Hostile input is bounded: only
// regular files are read, each read within a deadline, and the bytes that
// YAML aliases and placeholders expand to are counted as they are spent,
// per entity and per location. A refresh that fails all the same orphans
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
