// Package changefeed reads the catalog's change feed and wakes its
// readers: cache invalidation of other processes, subscriptions, search
// indexing and docs rebuilds all follow it.
//
// Every transaction that changes entities, relations or locations appends
// its events to the feed before it commits (internal/store, changefeed.go),
// one per entity or location it changed: the position, the operation
// (catalog.ChangeOp: CREATED, UPDATED, DELETED, ORPHANED, ERROR and the
// LOCATION_ ones), the ref or location id, the entity's kind, namespace,
// location and new etag, the changed field paths, the actor and the time.
//
// Ordering. A consumer that has read everything up to position N and asks
// for what is after N never misses an event: positions are given by one
// counter row that each writer updates inside its transaction, so a writer
// waits for the one before it to commit before it numbers its events;
// positions are therefore in commit order, and without gaps. The store's
// package documentation (changefeed.go) gives the argument; the test with
// eight concurrent writers on PostgreSQL holds it to it, and fails with a
// sequence.
//
// Waking. [Feed.Run] watches for commits: this process's wake its readers
// at once; other processes' arrive by PostgreSQL's LISTEN/NOTIFY (the
// payload is the position alone) or, on SQLite, by polling the head every
// 100 ms. Readers call [Feed.Read] by position, [Feed.Wait] for a position
// to pass, or [Feed.Follow] for both in a loop.
//
// Retention. Events older than the retention (changefeed.retention in
// greenroom.yaml, [DefaultRetention] by default) are pruned every hour; a
// reader asking for a position older than that gets an error with code
// EXPIRED (portal.EEXPIRED), telling it to read the catalog again and
// follow from the current head.
//
// It imports internal/catalog; the database is behind
// [Store], which internal/store implements, so that only the store imports
// drivers.
package changefeed
