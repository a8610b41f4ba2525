package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// The queues. Each has its own workers, so that a slow kind of job never
// holds up another.
const (
	// QueueRefresh holds location refreshes.
	QueueRefresh = "refresh"
	// QueueDefault holds every other kind unless its [Kind] names a queue.
	QueueDefault = river.QueueDefault
)

// Defaults of [Options].
const (
	DefaultTimeout      = 10 * time.Minute
	DefaultPollInterval = time.Second
	DefaultHeartbeat    = time.Second
	DefaultDeadAfter    = 5 * time.Second
)

// Principal is who a job runs as: whoever created it. It is carried in the
// job's arguments (see [Meta]) and put in the job's context, so that what
// the job does is authorized and audited as its creator's own doing.
type Principal struct {
	Kind portal.PrincipalKind `json:"kind"`
	Ref  string               `json:"ref,omitempty"`
}

// System is the principal of the jobs Greenroom schedules by itself, such
// as the refresh of every location at its interval.
var System = Principal{Kind: portal.PrincipalService, Ref: "service:greenroom"}

// PrincipalOf returns the principal a job created by p runs as. Only the
// kind and ref are kept: what p owns is read again when the job needs it,
// from the catalog as it is then.
func PrincipalOf(p *portal.Principal) Principal {
	return Principal{Kind: p.Kind, Ref: p.Ref}
}

// Meta is embedded in the arguments of every kind of job.
type Meta struct {
	// As is the principal the job runs as.
	As Principal `json:"as"`
}

// RunAs returns the principal the job runs as.
func (m Meta) RunAs() Principal { return m.As }

// Args are the arguments of a job: a struct that embeds [Meta], names its
// kind, and is stored as JSON. Fields tagged `river:"unique"` are what
// makes two jobs of a [Kind.Unique] kind the same.
type Args interface {
	river.JobArgs
	RunAs() Principal
}

// Kind is how the jobs of one kind run.
type Kind struct {
	// Queue is the queue its jobs wait in; "" means [QueueDefault].
	Queue string
	// MaxAttempts is how many times a job is tried before it is discarded
	// (failed for good); 0 means River's default, 25.
	MaxAttempts int
	// Timeout cancels the context of a job that runs longer; the job then
	// fails with the timeout as its error and is retried. 0 means
	// [Options.Timeout], which also bounds it.
	Timeout time.Duration
	// MaxBackoff bounds the wait between two attempts, which otherwise
	// grows as River's default policy has it (attempt⁴ seconds, jittered).
	// 0 means no bound.
	MaxBackoff time.Duration
	// Unique keeps at most one job with the same unique arguments waiting
	// or running at a time: inserting another returns the one there is.
	Unique bool
}

// Work runs one job. Its context carries the job's principal
// (portal.PrincipalFromContext) and is cancelled at the kind's timeout, on
// a cancel request, and when the process stops. An error fails the attempt,
// which is retried after a backoff until the kind's MaxAttempts; wrap it in
// river.JobCancel to fail for good at once. A panic is an error too.
type Work[T Args] func(ctx context.Context, job *river.Job[T]) error

// Workers is the registry of kinds: what each runs and how.
type Workers struct {
	river    *river.Workers
	kinds    map[string]Kind
	periodic []*river.PeriodicJob
	// refreshInterval is the interval [AddRefreshes] refreshes at.
	refreshInterval time.Duration
	// obs, log and max are set by [New]; the workers read them as they run.
	obs Observer
	log *slog.Logger
	max time.Duration
	// running are the jobs running in this process.
	running runningJobs
}

// NewWorkers returns an empty registry.
func NewWorkers() *Workers {
	return &Workers{river: river.NewWorkers(), kinds: map[string]Kind{}}
}

// Add registers a kind of job, named by T's Kind method, and its work.
func Add[T Args](ws *Workers, k Kind, work Work[T]) {
	var args T
	k.Queue = cmp.Or(k.Queue, QueueDefault)
	ws.kinds[args.Kind()] = k
	river.AddWorker(ws.river, &worker[T]{ws: ws, kind: k, work: work})
}

// defaultWorkers is how many jobs of a queue one process runs at once
// unless told: refreshes one at a time (see the package doc); docs builds
// two, each holding its site in memory; tasks four, since a task renders
// on the CPU and writes to the one database: with ten at once on two
// cores, 100 tasks took as long and a task event's p99 on SQLite was
// 47–56 ms against 29–31 ms with four (make bench); any other queue ten.
var defaultWorkers = map[string]int{QueueRefresh: 1, QueueDocs: 2, QueueTasks: 4}

// insertOpts returns how a job of args' kind is inserted.
func (ws *Workers) insertOpts(args Args) (*river.InsertOpts, error) {
	k, ok := ws.kinds[args.Kind()]
	if !ok {
		return nil, fmt.Errorf("jobs: no kind %q is registered", args.Kind())
	}
	o := &river.InsertOpts{Queue: k.Queue, MaxAttempts: k.MaxAttempts}
	if k.Unique {
		// While waiting or running only: River's default also counts a
		// completed job, which would keep a task retried after its job
		// completed from getting a new one.
		o.UniqueOpts = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}}
	}
	return o, nil
}

// worker runs one kind through River, with the kind's timeout and backoff,
// the job's principal in its context, and the observer told of every
// attempt.
type worker[T Args] struct {
	river.WorkerDefaults[T]
	ws   *Workers
	kind Kind
	work Work[T]
}

func (w *worker[T]) Timeout(*river.Job[T]) time.Duration {
	if w.kind.Timeout > 0 && w.kind.Timeout < w.ws.max {
		return w.kind.Timeout
	}
	return w.ws.max
}

func (w *worker[T]) NextRetry(job *river.Job[T]) time.Time {
	next := (&river.DefaultClientRetryPolicy{}).NextRetry(job.JobRow)
	if w.kind.MaxBackoff > 0 {
		if latest := time.Now().Add(w.kind.MaxBackoff); next.After(latest) {
			return latest
		}
	}
	return next
}

func (w *worker[T]) Work(ctx context.Context, job *river.Job[T]) (err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer w.ws.running.add(cancel)()
	as := job.Args.RunAs()
	ctx = portal.NewContextWithPrincipal(ctx, &portal.Principal{Kind: as.Kind, Ref: as.Ref})
	end := func(Outcome) {}
	if w.ws.obs != nil {
		ctx, end = w.ws.obs.StartJob(ctx, job.JobRow)
	}
	defer func() {
		if p := recover(); p != nil {
			end(OutcomePanicked)
			panic(p) // River records it, with the stack, as the attempt's error
		}
		end(outcomeOf(ctx, err))
	}()
	return w.work(ctx, job)
}

// Outcome is how an attempt at a job ended, for the [Observer].
type Outcome string

// The outcomes.
const (
	OutcomeCompleted Outcome = "completed"
	OutcomeSnoozed   Outcome = "snoozed" // done for now, to run again later
	OutcomeFailed    Outcome = "failed"  // an error: retried, or discarded at its last attempt
	OutcomeTimedOut  Outcome = "timed_out"
	OutcomeCancelled Outcome = "cancelled"
	OutcomePanicked  Outcome = "panicked"
)

func outcomeOf(ctx context.Context, err error) Outcome {
	var snooze *river.JobSnoozeError
	var cancel *river.JobCancelError
	switch {
	case err == nil:
		return OutcomeCompleted
	case errors.As(err, &snooze):
		return OutcomeSnoozed
	case errors.As(err, &cancel), errors.Is(context.Cause(ctx), river.ErrJobCancelledRemotely):
		return OutcomeCancelled
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return OutcomeTimedOut
	}
	return OutcomeFailed
}

// Observer watches every attempt at a job (see internal/telemetry).
type Observer interface {
	// StartJob is called as an attempt starts; the job runs in the context
	// it returns (which may carry a span) and calls end once.
	StartJob(ctx context.Context, job *rivertype.JobRow) (_ context.Context, end func(Outcome))
}

// Options configures [New].
type Options struct {
	Logger *slog.Logger
	// Timeout is the longest any job runs; 0 means [DefaultTimeout].
	Timeout time.Duration
	// RescueAfter is how long a job may stay running before it is taken
	// for lost (its process died) and retried; it must be longer than
	// Timeout. 0 means Timeout plus five minutes.
	RescueAfter time.Duration
	// QueueWorkers is how many jobs of each queue one process runs at
	// once; a queue missing from it gets its defaultWorkers.
	QueueWorkers map[string]int
	// PollInterval is how often each queue looks for jobs that another
	// process inserted or that came due; 0 means [DefaultPollInterval].
	PollInterval time.Duration
	Observer     Observer
	// Processes, when set, keeps the heartbeat of a process that runs jobs,
	// and hands back the running jobs of a process whose heartbeats
	// stopped for DeadAfter, without waiting for RescueAfter.
	Processes Processes
	// Heartbeat is how often the process beats; 0 means [DefaultHeartbeat].
	Heartbeat time.Duration
	// DeadAfter is how long a process may make no heartbeat before it is
	// taken for dead; at least two heartbeats. 0 means [DefaultDeadAfter].
	DeadAfter time.Duration
}

// Jobs is River's client over the database: it inserts, lists and
// cancels jobs, and, once started, runs them.
type Jobs struct {
	client *river.Client[*sql.Tx]
	ws     *Workers
	// live keeps this process's heartbeat once started (nil: none), until
	// stopLive.
	live     *liveness
	stopLive func()
	liveDone chan struct{}
	// ended fires each time this process has ended a run of a job and
	// stored how it went, so that [Jobs.Wait] need not wait for its poll.
	ended       signal
	unsubscribe func()
}

// signal wakes every goroutine waiting on it: a channel closed, and
// replaced, at each fire.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next fire.
func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// New returns a client over drv (from store.DB.JobDriver). With ws nil it
// can only list, get and cancel jobs, as the CLI does; with ws it inserts
// and, once started, runs the kinds ws registers.
func New(drv riverdriver.Driver[*sql.Tx], ws *Workers, opts Options) (*Jobs, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := &river.Config{Logger: log.With("component", "jobs")}
	if ws != nil {
		ws.obs, ws.log = opts.Observer, cfg.Logger
		ws.max = cmp.Or(opts.Timeout, DefaultTimeout)
		cfg.Workers = ws.river
		cfg.PeriodicJobs = ws.periodic
		cfg.JobTimeout = ws.max
		cfg.RescueStuckJobsAfter = cmp.Or(opts.RescueAfter, ws.max+5*time.Minute)
		if cfg.RescueStuckJobsAfter <= ws.max {
			return nil, fmt.Errorf("jobs: the rescue delay (%s) must be longer than the timeout (%s), or running jobs would be retried beside themselves", cfg.RescueStuckJobsAfter, ws.max)
		}
		cfg.FetchPollInterval = cmp.Or(opts.PollInterval, DefaultPollInterval)
		// A queue with one worker fetches its next job only after the
		// cooldown that follows the last fetch: River's 100 ms would cap
		// the refresh queue at a few locations a second per replica.
		cfg.FetchCooldown = 10 * time.Millisecond
		// An insert of a job due now makes its queue look at once: on
		// PostgreSQL in-process (lib/pq gives River no listener), on SQLite
		// through River's listener, which reads a table every 50 ms (a read
		// outside the writer). Polling alone (PollOnly) left a refresh
		// asked for on SQLite waiting up to FetchPollInterval, so that a
		// file saved took a second to show.
		cfg.Queues = map[string]river.QueueConfig{}
		for _, k := range ws.kinds {
			n := opts.QueueWorkers[k.Queue]
			if n <= 0 {
				n = cmp.Or(defaultWorkers[k.Queue], 10)
			}
			cfg.Queues[k.Queue] = river.QueueConfig{MaxWorkers: n}
		}
	}
	c, err := river.NewClient(drv, cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	j := &Jobs{client: c, ws: ws}
	if ws != nil && opts.Processes != nil {
		every, deadAfter := cmp.Or(opts.Heartbeat, DefaultHeartbeat), cmp.Or(opts.DeadAfter, DefaultDeadAfter)
		if deadAfter < 2*every {
			return nil, fmt.Errorf("jobs: a process may be taken for dead after %s without a heartbeat, which must be at least two heartbeats (%s)", deadAfter, every)
		}
		j.live = &liveness{procs: opts.Processes, id: c.ID(), every: every, deadAfter: deadAfter,
			log: cfg.Logger, running: &ws.running, seen: map[string]sighting{}}
	}
	return j, nil
}

// Start starts running jobs, until ctx ends or [Jobs.Stop]. With
// [Options.Processes], the process is recorded before it takes any job,
// and beats until it stops.
func (j *Jobs) Start(ctx context.Context) error {
	if j.live != nil {
		if err := j.live.procs.StartJobProcess(ctx, j.live.id); err != nil {
			return fmt.Errorf("jobs: start: %w", err)
		}
	}
	// River reports the end of each run once its row is updated.
	events, unsubscribe := j.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
		river.EventKindJobCancelled, river.EventKindJobSnoozed)
	j.unsubscribe = unsubscribe
	go func() {
		for range events {
			j.ended.fire()
		}
	}()
	if err := j.client.Start(ctx); err != nil {
		unsubscribe()
		return fmt.Errorf("jobs: start: %w", err)
	}
	if j.live != nil {
		// It beats until the client has stopped, rather than until ctx
		// ends: a client whose context ended may still be ending its jobs.
		liveCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		j.stopLive, j.liveDone = stop, make(chan struct{})
		go func() {
			defer close(j.liveDone)
			j.live.run(liveCtx)
		}()
		go func() {
			select {
			case <-j.client.Stopped():
			case <-liveCtx.Done():
			}
			stop()
		}()
	}
	return nil
}

// Stop stops taking jobs and waits for those running to end; when ctx ends
// first, it cancels them (a cancelled job is retried, by this process when
// it starts again or by another) and waits for them to return. Then the
// process's heartbeat stops, and its record is deleted if every job ended;
// otherwise other processes take it for dead and hand its jobs back.
func (j *Jobs) Stop(ctx context.Context) error {
	if j.unsubscribe != nil {
		defer j.unsubscribe()
	}
	err := j.client.Stop(ctx)
	if err != nil && errors.Is(err, ctx.Err()) {
		err = j.client.StopAndCancel(context.WithoutCancel(ctx))
	}
	if j.stopLive == nil {
		return err
	}
	j.stopLive()
	<-j.liveDone
	if err != nil {
		return err
	}
	return j.live.procs.StopJobProcess(context.WithoutCancel(ctx), j.live.id)
}

// Insert inserts a job of a registered kind. For a unique kind, when a job
// with the same unique arguments waits or runs already, it is returned
// instead, with UniqueSkippedAsDuplicate set.
func (j *Jobs) Insert(ctx context.Context, args Args) (*rivertype.JobInsertResult, error) {
	opts, err := j.ws.insertOpts(args)
	if err != nil {
		return nil, err
	}
	res, err := j.client.Insert(ctx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res, nil
}

// Get returns a job; portal.ENOTFOUND if there is none (any more: finished
// jobs are kept for a day, failed ones for a week).
func (j *Jobs) Get(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	row, err := j.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return nil, portal.Errorf(portal.ENOTFOUND, "no job %d", id)
	}
	return row, err
}

// Cancel cancels a job: one waiting never runs; one running has its
// context cancelled (within about two seconds in another process) and, if
// it returns an error, is not retried. Finished jobs are left as they are.
func (j *Jobs) Cancel(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	row, err := j.client.JobCancel(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return nil, portal.Errorf(portal.ENOTFOUND, "no job %d", id)
	}
	return row, err
}

// List returns the jobs in the given states whose ids are above after,
// oldest first: at most limit of them, or all with limit 0.
func (j *Jobs) List(ctx context.Context, after int64, limit int, states ...rivertype.JobState) ([]*rivertype.JobRow, error) {
	const page = 1000
	params := river.NewJobListParams().States(states...).OrderBy(river.JobListOrderByID, river.SortOrderAsc)
	if after > 0 {
		// Ordered by id alone, a cursor is the id.
		params = params.After(river.JobListCursorFromJob(&rivertype.JobRow{ID: after}))
	}
	var out []*rivertype.JobRow
	for {
		n := page
		if limit > 0 {
			n = min(page, limit-len(out))
		}
		res, err := j.client.JobList(ctx, params.First(n))
		if err != nil {
			return nil, fmt.Errorf("jobs: list: %w", err)
		}
		out = append(out, res.Jobs...)
		if len(res.Jobs) < n || len(out) == limit {
			return out, nil
		}
		params = params.After(res.LastCursor)
	}
}
