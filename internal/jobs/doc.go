// Package jobs runs Greenroom's background work as durable jobs with River
// (github.com/riverqueue/river), in the database the catalog uses: River's
// tables beside Greenroom's, made by store.DB.Migrate, reached through the
// driver store.DB.JobDriver returns (riverdatabasesql on PostgreSQL,
// riversqlite on SQLite). A job survives its process: replicas sharing one
// PostgreSQL claim each job once (FOR UPDATE SKIP LOCKED), and a job whose
// process died is taken for lost after [Options.RescueAfter] and retried.
//
// The design, made once for every kind of job:
//
//   - A kind is an arguments type (a struct embedding [Meta], with a Kind
//     method) and a [Work] function, registered with [Add] and a [Kind]: its
//     queue, attempts, timeout, bound on backoff and uniqueness. Template
//     tasks and docs builds add a kind and its work, and nothing else.
//   - Queues: one per kind of work, each with its own workers in every
//     process ([Options.QueueWorkers]): refresh and default. Refresh runs
//     one job at a time per process: each job a replica holds when it dies
//     waits for River's rescuer (every 30 s, after RescueAfter), so more
//     workers would stall more locations; a location registered through
//     the API is refreshed at once by its service, outside the queue.
//   - Retries: an error fails the attempt; it is retried after River's
//     backoff (attempt⁴ seconds, jittered), bounded by the kind's
//     MaxBackoff, until MaxAttempts, then discarded with every attempt's
//     error kept. A panic is an error with its stack; river.JobCancel fails
//     for good at once.
//   - Timeouts: each attempt's context ends at the kind's timeout, at most
//     [Options.Timeout]; the attempt then fails with the timeout recorded.
//     RescueAfter must exceed the timeout, so that only a job whose process
//     is gone is ever rescued: none stays "running" for ever.
//   - Cancellation: [Jobs.Cancel]. A waiting job never runs; a running one
//     has its context cancelled, within about two seconds in another
//     process (River polls for cancellations: lib/pq and the SQLite driver
//     give it no listener it could use cheaply).
//   - Principal: every job carries who created it ([Meta.As]), and runs with
//     that principal in its context, so that the services it calls
//     authorize and audit it as its creator's doing. Jobs Greenroom
//     schedules by itself run as [System].
//   - Observation: an [Observer] sees every attempt (kind, outcome,
//     duration); internal/telemetry counts them and traces each.
//
// Refreshing a location is the first kind ([AddRefreshes]). Each location
// has one refresh job, unique by location, so that it is never refreshed
// twice at once, on one replica or two: the job refreshes the location
// with ingest's Engine, records the counts as its output, and snoozes until
// its next refresh is due, an interval after the last one was due. A job
// that is due is taken by whichever replica polls first (each polls every
// [Options.PollInterval]); snoozes under five seconds wait in the queue
// itself, longer ones are made due by River's scheduler on the elected
// leader, so a refresh is at most about five seconds late and lateness does
// not add up. A failed refresh is retried after a backoff bounded by the
// interval; after five failures over a job's life the job is discarded,
// and listed as failed, and the next scheduling pass starts a new one. That
// pass (a River periodic job, run by the leader at its start and every
// interval) gives a job to every location that has none: registered by
// another process, or whose job was discarded. A job of a deleted location
// cancels itself. [Jobs.RequestRefresh] makes a location's job due now
// (registerLocation, refreshLocation, SIGHUP, start), or again as soon as
// a run in progress ends, and [Jobs.Wait] waits for that run, wherever it
// runs, and returns its outcome.
//
// A replica killed in the middle of a refresh loses nothing: the refresh's
// transaction never commits, so the catalog keeps what the last one stored,
// and the job, left running, is rescued by the leader (River's rescuer runs
// every 30 s) once it has run for RescueAfter, and retried.
//
// It imports River, internal/catalog and internal/portal; the store and
// the engine are behind [Locations] and [Refresher], wired in cmd/greenroom.
package jobs
