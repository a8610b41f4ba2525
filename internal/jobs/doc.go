// Package jobs runs Greenroom's background work as durable jobs with River
// (github.com/riverqueue/river), in the database the catalog uses: River's
// tables beside Greenroom's, made by store.DB.Migrate, reached through the
// driver store.DB.JobDriver returns (riverdatabasesql on PostgreSQL,
// riversqlite on SQLite). A job survives its process: replicas sharing one
// PostgreSQL claim each job once (FOR UPDATE SKIP LOCKED), and a job whose
// process died is retried within seconds, once the process's heartbeats
// stop (see Liveness below).
//
// The design, made once for every kind of job:
//
//   - A kind is an arguments type (a struct embedding [Meta], with a Kind
//     method) and a [Work] function, registered with [Add] and a [Kind]: its
//     queue, attempts, timeout, bound on backoff and uniqueness. Template
//     tasks and docs builds add a kind and its work, and nothing else.
//   - Queues: one per kind of work, each with its own workers in every
//     process ([Options.QueueWorkers]): refresh, tasks, docs and default
//     (their counts in defaultWorkers). Refresh runs
//     one job at a time per process. That was chosen when each job a
//     replica held as it died waited minutes for River's rescuer, so that
//     more workers would have stalled more locations; such a job now waits
//     seconds, which no longer argues against more workers, but the count
//     stays until more is measured (cmd/greenroom's TestReplicas). A
//     location registered through the API is refreshed at once by its
//     service, outside the queue.
//   - Retries: an error fails the attempt; it is retried after River's
//     backoff (attempt⁴ seconds, jittered), bounded by the kind's
//     MaxBackoff, until MaxAttempts, then discarded with every attempt's
//     error kept. A panic is an error with its stack; river.JobCancel fails
//     for good at once.
//   - Timeouts: each attempt's context ends at the kind's timeout, at most
//     [Options.Timeout]; the attempt then fails with the timeout recorded.
//     [Options.RescueAfter] must exceed the timeout, so that River's
//     rescuer, the backstop of Liveness, only takes a job whose process is
//     gone: none stays "running" for ever.
//   - Liveness ([Options.Processes]): every process that runs jobs records
//     itself in job_process, by its River client's id (what River writes
//     in a job's attempted_by), before it takes a job; it adds one to its
//     heartbeat count every [Options.Heartbeat] (a second) from its own
//     goroutine, whatever its jobs do, and deletes its record when it stops
//     with every job ended. At each heartbeat, every process reads the
//     others' counts: one whose count has not moved for
//     [Options.DeadAfter] (five seconds) on the reader's clock, while the
//     reader made as many heartbeats of its own, is taken for dead. Its
//     record is deleted (only if its count is still the one read, which
//     orders the rescue with its own heartbeat and other readers' rescues)
//     and each job River shows running with it as the last attempt gets
//     an error saying that its process stopped responding and is due at
//     once, or cancelled if a cancellation was asked for, or discarded at
//     its last attempt: what River's rescuer does, without the backoff,
//     since the attempt failed with its process and not with what the job
//     depends on. Counts rather than times, so that no two clocks are
//     compared; the reader's own heartbeats, so that a database that takes
//     no writes for a while (SQLite's one writer held by a long
//     transaction) stops every process alike and none is taken for dead.
//     Every process reads, not River's leader alone: rescues are ordered by
//     the guarded delete, and a killed leader's own jobs would otherwise
//     wait for a new election. A job whose process has no record (one
//     started before Greenroom kept records, or that stopped with a job
//     still running) is left to River's rescuer, after RescueAfter: a
//     process with no record may well be alive, and a process records
//     itself before it takes a job. A process taken for dead that was only
//     stalled (stopped, or cut off from the database, for DeadAfter) finds
//     its record gone at its next heartbeat: it cancels the jobs it still
//     runs, which run elsewhere meanwhile, and records itself again. Until
//     then the two runs overlap, and the end of the stalled one is
//     recorded by River over the other's (River checks only that the job
//     is running), as it would be after River's own rescue. The SQL that
//     writes River's table is in internal/store (RescueJobsOf), written
//     for River's schema version 8.
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
// and the job, left running, is handed back by another replica once the
// killed one's heartbeats have stopped for DeadAfter, and retried at its
// next poll.
//
// It imports River, internal/catalog and internal/portal; the store and
// the engine are behind [Locations], [Processes] and [Refresher], wired in
// cmd/greenroom.
package jobs
