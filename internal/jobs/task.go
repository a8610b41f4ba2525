package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// QueueTasks holds software template tasks, beside refreshes so that
// neither waits for the other.
const QueueTasks = "tasks"

// TaskArgs is the job that runs one software template task. It is unique
// by task: a task is never run twice at once. When its process dies, the
// job is handed back (see Liveness in the package doc) and the task
// resumes from its last checkpoint.
type TaskArgs struct {
	Meta
	TaskID string `json:"task_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (TaskArgs) Kind() string { return "scaffolder_task" }

// TaskRunner runs a task until it ends or waits: scaffolder.Tasks. A task
// that waits (at an approval gate) returns when its job is to run again,
// and the job is snoozed until then, holding no worker; a decision makes
// it due at once ([Jobs.RerunJob]). It returns an error only when it
// could not read or record the task's state, which is worth another
// attempt; a task that failed has recorded so itself.
type TaskRunner interface {
	Run(ctx context.Context, taskID string) (resumeAt time.Time, err error)
	// Sweep fails the tasks whose job will not run them again.
	Sweep(ctx context.Context) error
}

// sweepTasksArgs is the janitor that runs TaskRunner.Sweep every
// taskSweepInterval, on the leader.
type sweepTasksArgs struct{ Meta }

func (sweepTasksArgs) Kind() string { return "sweep_tasks" }

// taskSweepInterval is how often stranded tasks are looked for.
const taskSweepInterval = time.Minute

// taskMaxAttempts is how many times a task's job runs before it is
// discarded: a task's own failures end it without an error, so each
// attempt past the first follows a process that died or a database that
// could not be written.
const taskMaxAttempts = 5

// AddTasks registers the running of tasks with r.
func AddTasks(ws *Workers, r TaskRunner) {
	Add(ws, Kind{Queue: QueueTasks, MaxAttempts: taskMaxAttempts, Unique: true},
		func(ctx context.Context, job *river.Job[TaskArgs]) error {
			at, err := r.Run(ctx, job.Args.TaskID)
			if err != nil || at.IsZero() {
				return err
			}
			return river.JobSnooze(max(time.Until(at), time.Millisecond))
		})
	addJanitor(ws, sweepTasksArgs{Meta{As: System}}, taskSweepInterval, func(ctx context.Context) (any, error) { return nil, r.Sweep(ctx) })
}

// addJanitor registers a periodic job of args's kind, run every interval
// (and at start) by the leader, as the system: work's output is recorded.
func addJanitor[T Args](ws *Workers, args T, interval time.Duration, work func(context.Context) (any, error)) {
	Add(ws, Kind{MaxAttempts: 3, Unique: true}, func(ctx context.Context, job *river.Job[T]) error {
		out, err := work(ctx)
		if err != nil || out == nil {
			return err
		}
		return river.RecordOutput(ctx, out)
	})
	ws.periodic = append(ws.periodic, river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) {
			opts, _ := ws.insertOpts(args) // registered just above
			return args, opts
		}, &river.PeriodicJobOpts{ID: args.Kind(), RunOnStart: true}))
}

// StartTask inserts the job that runs a task, as its creator, and returns
// the job's id.
func (j *Jobs) StartTask(ctx context.Context, taskID string) (int64, error) {
	res, err := j.Insert(ctx, TaskArgs{Meta: Meta{As: PrincipalOf(portal.PrincipalFromContext(ctx))}, TaskID: taskID})
	if err != nil {
		return 0, err
	}
	return res.Job.ID, nil
}

// RerunJob makes a job due now: a task's, once a decision was recorded
// on a task that waited or to run a task that ended again; a docs
// build's, asked for again while it ran. The run in progress may have
// returned without River having recorded it yet (its completer writes in
// batches): RerunJob waits for the job to stop running, at most
// resumeWait, then makes it due; a queue takes it at its next poll (a
// second). A job is due once JobRetry returns it available.
func (j *Jobs) RerunJob(ctx context.Context, jobID int64) error {
	ctx, cancel := context.WithTimeout(ctx, resumeWait)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		ended := j.ended.wait()
		// JobRetry leaves a running job as it is and makes any other due now.
		row, err := j.client.JobRetry(ctx, jobID)
		if errors.Is(err, river.ErrNotFound) {
			return portal.Errorf(portal.ENOTFOUND, "no job %d", jobID)
		}
		if err != nil {
			return fmt.Errorf("jobs: resume task job %d: %w", jobID, err)
		}
		// Available: made due now (or it was). Any state but running means
		// the row changed as JobRetry read it: on PostgreSQL, a run whose
		// end the completer committed meanwhile is returned in its new
		// state (snoozed until the gate's deadline) but was not updated,
		// its statement's snapshot still seeing it running; so try again.
		if row.State == rivertype.JobStateAvailable {
			return nil
		}
		select {
		case <-ended:
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("jobs: resume task job %d: it is still running", jobID)
		}
	}
}

// resumeWait bounds how long RerunJob waits for a run to be recorded.
const resumeWait = 30 * time.Second
