package portal

import (
	"encoding/json"
	"slices"
	"time"
)

// TaskStatus is where a software template's task stands.
type TaskStatus string

// The statuses of a task. A task is created open, taken by a worker
// (processing), may wait at a gate (waiting, holding no worker), and ends
// completed, failed or cancelled.
const (
	TaskOpen       TaskStatus = "open"
	TaskProcessing TaskStatus = "processing"
	TaskWaiting    TaskStatus = "waiting"
	TaskCompleted  TaskStatus = "completed"
	TaskFailed     TaskStatus = "failed"
	TaskCancelled  TaskStatus = "cancelled"
)

// TaskStatuses are every status, in the order a task goes through them.
var TaskStatuses = []TaskStatus{TaskOpen, TaskProcessing, TaskWaiting, TaskCompleted, TaskFailed, TaskCancelled}

// Ended reports whether a task in s is over.
func (s TaskStatus) Ended() bool {
	return s == TaskCompleted || s == TaskFailed || s == TaskCancelled
}

// Valid reports whether s is one of [TaskStatuses].
func (s TaskStatus) Valid() bool { return slices.Contains(TaskStatuses, s) }

// Task is a run of a software template, kept in the database with its
// steps and its event log so that it outlives the process that runs it.
type Task struct {
	ID string
	// TemplateRef and TemplateEtag name the template and its version when
	// the task was created; Template is that version's document, which
	// the task runs whatever the catalog holds later.
	TemplateRef, TemplateEtag string
	Template                  json.RawMessage
	// TemplateBase is the folder the template's relative fetch URLs
	// point to: its descriptor's directory on this server, the URL of its
	// folder on a forge, or "" (see scaffolder.OpenTemplateBase).
	TemplateBase string
	// Values are the form's values; Secrets the task's secrets, cleared
	// when it ends and never shown.
	Values, Secrets json.RawMessage
	CreatedBy       string // the principal's ref; the task runs as it
	Status          TaskStatus
	Output          json.RawMessage // the rendered spec.output once completed
	Error           string          // why it failed or was cancelled
	JobID           int64           // the job that runs it; 0 before it has one
	// Gate is the approval it waits at while waiting (JSON), or nil.
	Gate                 json.RawMessage
	CreatedAt, UpdatedAt time.Time
	EndedAt              *time.Time
}

// TaskStep is where one step of a task ended: its checkpoint.
type TaskStep struct {
	StepID   string
	Position int // the step's index in the template
	Status   string
	Output   json.RawMessage
}

// TaskEvent is a line of a task's log. Status is set on the events that
// change a step's status or the task's.
type TaskEvent struct {
	ID      int64 // increases within a task and across tasks
	TaskID  string
	StepID  string
	Status  string
	Level   string // info or error
	Message string
	At      time.Time
}

// TaskFilter narrows a list of tasks; empty fields narrow nothing.
type TaskFilter struct {
	CreatedBy   []string
	Statuses    []TaskStatus
	TemplateRef string
}

// TaskUpdate is a change of a task's status: made only when the task is
// in one of From, so that two writers (a worker finishing, a caller
// cancelling) never both win.
type TaskUpdate struct {
	From   []TaskStatus
	To     TaskStatus
	Output json.RawMessage // set when not nil
	Error  string          // set when To is not open or processing
	// Gate is set when To is waiting, and cleared otherwise.
	Gate json.RawMessage
	// Event is appended in the same transaction when the update is made.
	Event *TaskEvent
}
