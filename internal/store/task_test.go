package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// watchTasksOf watches a database's task events until the test ends, once
// the watch has started (both dialects wake every task then).
func watchTasksOf(t *testing.T, db *DB) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	woken := make(chan string, 100)
	done := make(chan error, 1)
	go func() { done <- db.d.watchTasks(ctx, db, func(id string) { woken <- id }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watchTasks: %v", err)
		}
	})
	select {
	case id := <-woken:
		if id != "" {
			t.Fatalf("first wake %q, want every task", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watchTasks did not start within 5 s")
	}
	return woken
}

func awaitTask(t *testing.T, woken <-chan string, want string) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case id := <-woken:
			if id == want {
				return
			}
		case <-timeout:
			t.Fatalf("not woken for task %s within 5 s", want)
		}
	}
}

func mustCreateTask(t *testing.T, db *DB, createdBy string) *portal.Task {
	t.Helper()
	task := &portal.Task{TemplateRef: "template:default/t", TemplateEtag: "e1", Template: json.RawMessage(`{"kind":"Template"}`),
		Values: json.RawMessage(`{"name":"x"}`), Secrets: json.RawMessage(`{"token":"s"}`), CreatedBy: createdBy}
	if err := db.CreateTask(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	return task
}

// testDialectNotifyTask: a task's events committed from another
// connection wake watchTasks with the task's id on PostgreSQL; a rolled
// back transaction's do not.
func testDialectNotifyTask(t *testing.T, db *DB) {
	if db.Dialect() != Postgres {
		return // SQLite's watchTasks polls: see watchTasks
	}
	ctx := context.Background()
	woken := watchTasksOf(t, db)
	for _, commit := range []bool{false, true} {
		tx, err := db.w.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		id := "rolled-back"
		if commit {
			id = "committed"
		}
		if err := db.d.notifyTask(ctx, tx, id); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case id := <-woken:
			switch id {
			case "rolled-back":
				t.Fatal("woken by a notification whose transaction rolled back")
			case "committed":
				return
			}
		case <-timeout:
			t.Fatal("the committed notification did not arrive within 5 s")
		}
	}
}

// testDialectWatchTasks: events appended through the store wake the
// watch with their task, on both dialects.
func testDialectWatchTasks(t *testing.T, db *DB) {
	woken := watchTasksOf(t, db)
	task := mustCreateTask(t, db, "user:default/u")
	if err := db.AppendTaskEvents(context.Background(), []portal.TaskEvent{{TaskID: task.ID, Level: "info", Message: "hello"}}); err != nil {
		t.Fatal(err)
	}
	awaitTask(t, woken, task.ID)
}

// TestLocationAnnotations: a location registered with annotations keeps
// them, read back by every way of reading locations.
func TestLocationAnnotations(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(string(d.name()), func(t *testing.T) {
			t.Parallel()
			db := mustOpenDialect(t, d.name())
			ctx := context.Background()
			ann := map[string]string{"greenroom.dev/task-id": "t1"}
			loc, created, err := db.RegisterAnnotatedLocation(ctx, "url", "https://example.com/a.yaml", ann, nil)
			if err != nil || !created {
				t.Fatal(created, err)
			}
			plain, _, _ := db.RegisterLocation(ctx, "url", "https://example.com/b.yaml", nil)
			got, _ := db.Location(ctx, loc.ID)
			all, _ := db.Locations(ctx)
			byIDs, _ := db.LocationsByIDs(ctx, []string{loc.ID})
			for _, l := range []catalog.Location{loc, got, all[0], byIDs[0]} {
				if diff := cmp.Diff(ann, l.Annotations); diff != "" {
					t.Errorf("annotations (-want +got):\n%s", diff)
				}
			}
			if p, _ := db.Location(ctx, plain.ID); p.Annotations != nil {
				t.Errorf("a plain location has annotations %v", p.Annotations)
			}
		})
	}
}

func TestTasks(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(string(d.name()), func(t *testing.T) {
			t.Parallel()
			testTasks(t, mustOpenDialect(t, d.name()))
		})
	}
}

func testTasks(t *testing.T, db *DB) {
	ctx := context.Background()
	a := mustCreateTask(t, db, "user:default/a")
	b := mustCreateTask(t, db, "user:default/b")
	got, err := db.Task(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != portal.TaskOpen || string(got.Values) != `{"name":"x"}` || string(got.Secrets) != `{"token":"s"}` || got.EndedAt != nil {
		t.Fatalf("task %+v", got)
	}
	if _, err := db.Task(ctx, "nope"); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("missing task: %v", err)
	}

	// Newest first, filtered, paged.
	list, err := db.Tasks(ctx, portal.TaskFilter{}, "", 10)
	if err != nil || len(list) != 2 || list[0].ID != b.ID {
		t.Fatalf("tasks %v %v", list, err)
	}
	list, _ = db.Tasks(ctx, portal.TaskFilter{}, b.ID, 10)
	if len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("after %s: %v", b.ID, list)
	}
	list, _ = db.Tasks(ctx, portal.TaskFilter{CreatedBy: []string{"user:default/a"}, Statuses: []portal.TaskStatus{portal.TaskOpen}}, "", 10)
	if len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("filtered: %v", list)
	}

	// A status changes only from the statuses named, with its event.
	ok, err := db.UpdateTask(ctx, a.ID, portal.TaskUpdate{From: []portal.TaskStatus{portal.TaskOpen}, To: portal.TaskProcessing,
		Event: &portal.TaskEvent{TaskID: a.ID, Status: "processing", Level: "info", Message: "start"}})
	if err != nil || !ok {
		t.Fatalf("open → processing: %v %v", ok, err)
	}
	if ok, _ := db.UpdateTask(ctx, a.ID, portal.TaskUpdate{From: []portal.TaskStatus{portal.TaskOpen}, To: portal.TaskCancelled,
		Event: &portal.TaskEvent{TaskID: a.ID, Message: "never"}}); ok {
		t.Fatal("a task not open was cancelled as if it were")
	}

	// Checkpoints, replaced when a step is saved again, and the workspace.
	for _, s := range []portal.TaskStep{
		{StepID: "one", Position: 0, Status: "completed", Output: json.RawMessage(`{"v":1}`)},
		{StepID: "two", Position: 1, Status: "failed", Output: json.RawMessage(`{}`)},
		{StepID: "two", Position: 1, Status: "completed", Output: json.RawMessage(`{"v":2}`)},
	} {
		if err := db.SaveTaskStep(ctx, a.ID, s, []byte("snap-"+s.StepID)); err != nil {
			t.Fatal(err)
		}
	}
	steps, _ := db.TaskSteps(ctx, a.ID)
	want := []portal.TaskStep{
		{StepID: "one", Position: 0, Status: "completed", Output: json.RawMessage(`{"v":1}`)},
		{StepID: "two", Position: 1, Status: "completed", Output: json.RawMessage(`{"v":2}`)},
	}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if snap, _ := db.TaskWorkspace(ctx, a.ID); string(snap) != "snap-two" {
		t.Errorf("workspace %q", snap)
	}
	if err := db.ResetTaskSteps(ctx, a.ID, 1); err != nil {
		t.Fatal(err)
	}
	if steps, _ := db.TaskSteps(ctx, a.ID); len(steps) != 1 {
		t.Errorf("after reset: %v", steps)
	}

	// Events in order, after a cursor.
	if err := db.AppendTaskEvents(ctx, []portal.TaskEvent{{TaskID: a.ID, StepID: "one", Level: "info", Message: "m1"}, {TaskID: a.ID, Level: "error", Message: "m2"}}); err != nil {
		t.Fatal(err)
	}
	events, _ := db.TaskEvents(ctx, a.ID, 0, 100)
	var msgs []string
	for _, e := range events {
		msgs = append(msgs, e.Message)
	}
	if diff := cmp.Diff([]string{"start", "m1", "m2"}, msgs); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if later, _ := db.TaskEvents(ctx, a.ID, events[0].ID, 1); len(later) != 1 || later[0].Message != "m1" {
		t.Errorf("after the first, one: %v", later)
	}

	// Ending clears the secrets and the workspace.
	if ok, err := db.UpdateTask(ctx, a.ID, portal.TaskUpdate{From: []portal.TaskStatus{portal.TaskProcessing}, To: portal.TaskCompleted,
		Output: json.RawMessage(`{"done":true}`)}); !ok || err != nil {
		t.Fatalf("complete: %v %v", ok, err)
	}
	got, _ = db.Task(ctx, a.ID)
	if got.Status != portal.TaskCompleted || string(got.Secrets) != "{}" || string(got.Output) != `{"done":true}` || got.EndedAt == nil {
		t.Errorf("completed task %+v", got)
	}
	if snap, _ := db.TaskWorkspace(ctx, a.ID); snap != nil {
		t.Errorf("workspace kept after the end: %q", snap)
	}

	// b never got a job: stranded once a minute has passed, a never.
	if stranded, err := db.StrandedTasks(ctx, time.Now()); err != nil || len(stranded) != 0 {
		t.Errorf("stranded at once: %v %v", stranded, err)
	}
	stranded, err := db.StrandedTasks(ctx, time.Now().Add(2*time.Minute))
	if err != nil || len(stranded) != 1 || stranded[0] != b.ID {
		t.Errorf("stranded a minute later: %v %v", stranded, err)
	}
}
