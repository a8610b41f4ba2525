package app

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// JobQueue is the queue of background jobs the [Jobs] service reads and
// cancels: internal/jobs' client.
type JobQueue interface {
	// List returns the jobs in states whose ids are above after, oldest
	// first: at most limit of them, or all with limit 0.
	List(ctx context.Context, after int64, limit int, states ...rivertype.JobState) ([]*rivertype.JobRow, error)
	// Get returns a job. Returns ENOTFOUND if there is none.
	Get(ctx context.Context, id int64) (*rivertype.JobRow, error)
	// Cancel cancels a job that waits or runs, and leaves a finished one as
	// it is. Returns ENOTFOUND if there is none.
	Cancel(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

// JobState is where a job stands.
type JobState string

// The states of a job.
const (
	JobAvailable JobState = "available" // waits for a worker
	JobScheduled JobState = "scheduled" // waits for its time
	JobPending   JobState = "pending"   // waits for something other than time
	JobRunning   JobState = "running"
	JobRetryable JobState = "retryable" // failed, and waits for its next attempt
	JobCompleted JobState = "completed"
	JobDiscarded JobState = "discarded" // failed for good, after its last attempt
	JobCancelled JobState = "cancelled"
)

// JobStates are every state, in the order a job goes through them.
var JobStates = []JobState{JobPending, JobScheduled, JobAvailable, JobRunning, JobRetryable, JobCompleted, JobDiscarded, JobCancelled}

// DefaultJobStates are the states a list holds when it names none: every
// one but completed, which is what an operator looks at (completed jobs are
// kept a day, and refreshes snooze rather than complete).
var DefaultJobStates = []JobState{JobAvailable, JobScheduled, JobPending, JobRunning, JobRetryable, JobDiscarded, JobCancelled}

// Valid reports whether s is one of [JobStates].
func (s JobState) Valid() bool { return slices.Contains(JobStates, s) }

// Job is a background job as the services show it, whatever runs it.
type Job struct {
	ID          int64
	Kind        string // what the job does, such as refresh_location
	Queue       string
	State       JobState
	Attempt     int // attempts made so far
	MaxAttempts int
	CreatedAt   time.Time
	// ScheduledAt is when the job is to run, or was last made to run.
	ScheduledAt time.Time
	AttemptedAt *time.Time // the start of its last attempt; nil before the first
	FinishedAt  *time.Time // when it completed, was discarded or cancelled
	// Args are the job's arguments, with the values of secret-looking names
	// and credentials in URLs redacted as in the audit log; nil when they
	// are not a JSON object.
	Args map[string]any
	// LastError is the error of the job's last failed attempt, with the
	// credentials of URLs redacted; nil when no attempt failed.
	LastError *JobError
}

// JobError is the error of one failed attempt.
type JobError struct {
	Attempt int
	At      time.Time
	Message string
}

// JobQuery selects a page of jobs.
type JobQuery struct {
	// States are the states of the jobs listed; none means
	// [DefaultJobStates].
	States []JobState
	// After is the id the jobs listed come after; jobs list oldest first.
	After int64
	// Limit is how many jobs the page holds at most.
	Limit int
}

// Jobs is the background jobs' service: listing them needs jobs.job.read,
// cancelling one jobs.job.cancel, and cancellations are audited.
type Jobs struct {
	guard interface {
		Require(ctx context.Context, perm string, r *policy.Resource) error
	}
	queue JobQueue // nil: this process has no jobs to show
	audit auditor
}

// errNoJobs answers every call of a service built without a queue, once
// the caller is authorized.
var errNoJobs = portal.Errorf(portal.EUNAVAILABLE, "background jobs are not available in this process")

// List returns a page of jobs, oldest first, and whether more follow. It
// needs jobs.job.read. Returns EINVALID for an unknown state.
func (s *Jobs) List(ctx context.Context, q JobQuery) ([]Job, bool, error) {
	if err := s.guard.Require(ctx, policy.JobRead, nil); err != nil {
		return nil, false, err
	}
	states := q.States
	if len(states) == 0 {
		states = DefaultJobStates
	}
	rs := make([]rivertype.JobState, len(states))
	for i, st := range states {
		if !st.Valid() {
			return nil, false, portal.Errorf(portal.EINVALID, "unknown job state %q", st)
		}
		rs[i] = rivertype.JobState(st)
	}
	if s.queue == nil {
		return nil, false, errNoJobs
	}
	// One more than the page tells whether another follows.
	limit := max(q.Limit, 0)
	rows, err := s.queue.List(ctx, q.After, limit+1, rs...)
	if err != nil {
		return nil, false, err
	}
	more := len(rows) > limit
	rows = rows[:min(len(rows), limit)]
	out := make([]Job, len(rows))
	for i, r := range rows {
		out[i] = jobOf(r)
	}
	return out, more, nil
}

// Get returns a job. It needs jobs.job.read. Returns EINVALID for an id
// that is not a job's and ENOTFOUND if there is none.
func (s *Jobs) Get(ctx context.Context, id string) (Job, error) {
	return s.one(ctx, policy.JobRead, id, func(ctx context.Context, n int64) (*rivertype.JobRow, error) {
		return s.queue.Get(ctx, n)
	})
}

// Cancel cancels a job and returns it: one that waits never runs, one that
// runs has its context cancelled and is not retried (its state changes
// once it returns, within about two seconds in another process). A job
// that finished already is left as it is and returned: cancelling twice is
// not an error, and the state returned says what happened. It needs
// jobs.job.cancel. Returns EINVALID for an id that is not a job's and
// ENOTFOUND if there is none.
func (s *Jobs) Cancel(ctx context.Context, id string) (job Job, err error) {
	defer s.audit.record(ctx, "cancelJob", id, map[string]any{"id": id}, &err)
	return s.one(ctx, policy.JobCancel, id, func(ctx context.Context, n int64) (*rivertype.JobRow, error) {
		return s.queue.Cancel(ctx, n)
	})
}

// one authorizes perm, validates id and returns the job that do, called
// with its number once there is a queue, returns.
func (s *Jobs) one(ctx context.Context, perm, id string, do func(context.Context, int64) (*rivertype.JobRow, error)) (Job, error) {
	if err := s.guard.Require(ctx, perm, nil); err != nil {
		return Job{}, err
	}
	n, err := parseJobID(id)
	if err != nil {
		return Job{}, err
	}
	if s.queue == nil {
		return Job{}, errNoJobs
	}
	row, err := do(ctx, n)
	if err != nil {
		return Job{}, err
	}
	return jobOf(row), nil
}

// parseJobID returns the number a job id stands for. Returns EINVALID for
// anything but a positive integer.
func parseJobID(id string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
	if err != nil || n <= 0 {
		return 0, portal.Errorf(portal.EINVALID, "a job id is a positive integer, not %q", id)
	}
	return n, nil
}

// jobOf returns the service's view of River's row.
func jobOf(r *rivertype.JobRow) Job {
	j := Job{
		ID: r.ID, Kind: r.Kind, Queue: r.Queue, State: JobState(r.State),
		Attempt: r.Attempt, MaxAttempts: r.MaxAttempts,
		CreatedAt: r.CreatedAt, ScheduledAt: r.ScheduledAt, AttemptedAt: r.AttemptedAt, FinishedAt: r.FinalizedAt,
	}
	var args map[string]any
	if json.Unmarshal(r.EncodedArgs, &args) == nil {
		j.Args = audit.Redact(args)
	}
	if n := len(r.Errors); n > 0 {
		e := r.Errors[n-1]
		j.LastError = &JobError{Attempt: e.Attempt, At: e.At, Message: audit.RedactString(e.Error)}
	}
	return j
}
