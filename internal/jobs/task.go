package jobs

import (
	"context"

	"github.com/riverqueue/river"

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

// TaskRunner runs a task until it ends: scaffolder.Tasks. It returns an
// error only when it could not read or record the task's state, which is
// worth another attempt; a task that failed has recorded so itself.
type TaskRunner interface {
	Run(ctx context.Context, taskID string) error
}

// taskMaxAttempts is how many times a task's job runs before it is
// discarded: a task's own failures end it without an error, so each
// attempt past the first follows a process that died or a database that
// could not be written.
const taskMaxAttempts = 5

// AddTasks registers the running of tasks with r.
func AddTasks(ws *Workers, r TaskRunner) {
	Add(ws, Kind{Queue: QueueTasks, MaxAttempts: taskMaxAttempts, Unique: true},
		func(ctx context.Context, job *river.Job[TaskArgs]) error {
			return r.Run(ctx, job.Args.TaskID)
		})
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
