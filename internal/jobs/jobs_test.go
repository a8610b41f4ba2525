package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/jobs"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// testArgs is a kind of job for these tests: what it does is the test's.
type testArgs struct {
	jobs.Meta
	Name string `json:"name"`
}

func (testArgs) Kind() string { return "test" }

// start runs a client with the test kind doing work, fast: short polls,
// backoffs and timeouts.
func start(t *testing.T, db *store.DB, k jobs.Kind, work jobs.Work[testArgs]) *jobs.Jobs {
	t.Helper()
	drv, err := db.JobDriver()
	if err != nil {
		t.Fatal(err)
	}
	ws := jobs.NewWorkers()
	jobs.Add(ws, k, work)
	return run(t, drv, ws, jobs.Options{Timeout: 2 * time.Second, RescueAfter: 3 * time.Second, PollInterval: 100 * time.Millisecond})
}

// run starts a client of ws, stopped when the test ends.
func run(t *testing.T, drv riverdriver.Driver[*sql.Tx], ws *jobs.Workers, opts jobs.Options) *jobs.Jobs {
	t.Helper()
	j, err := jobs.New(drv, ws, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := j.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return j
}

// waitState waits for a job to reach one of states, and returns it.
func waitState(t *testing.T, j *jobs.Jobs, id int64, states ...rivertype.JobState) *rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		row, err := j.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			if row.State == s {
				return row
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s after 15 s, want one of %v (errors %v)", id, row.State, states, row.Errors)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func insert(t *testing.T, j *jobs.Jobs, name string) int64 {
	t.Helper()
	res, err := j.Insert(context.Background(), testArgs{Meta: jobs.Meta{As: jobs.Principal{Kind: portal.PrincipalUser, Ref: "user:default/jane"}}, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return res.Job.ID
}

func TestJobs_RetryThenSucceed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var calls atomic.Int32
		var as atomic.Value
		j := start(t, db, jobs.Kind{MaxAttempts: 3, MaxBackoff: 50 * time.Millisecond}, func(ctx context.Context, job *river.Job[testArgs]) error {
			as.Store(*portal.PrincipalFromContext(ctx))
			if calls.Add(1) == 1 {
				return errors.New("the first attempt fails")
			}
			return nil
		})
		row := waitState(t, j, insert(t, j, "retry"), rivertype.JobStateCompleted)
		if len(row.Errors) != 1 || row.Errors[0].Error != "the first attempt fails" || row.Attempt != 2 {
			t.Errorf("attempt %d, errors %+v; want the second attempt to complete after the first's error", row.Attempt, row.Errors)
		}
		if p := as.Load().(portal.Principal); p.Kind != portal.PrincipalUser || p.Ref != "user:default/jane" {
			t.Errorf("the job ran as %+v, want its creator", p)
		}
	})
}

func TestJobs_PanicIsDiscardedWithReason(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		j := start(t, db, jobs.Kind{MaxAttempts: 2, MaxBackoff: 50 * time.Millisecond}, func(context.Context, *river.Job[testArgs]) error {
			panic("boom")
		})
		row := waitState(t, j, insert(t, j, "panic"), rivertype.JobStateDiscarded)
		if len(row.Errors) != 2 || !strings.Contains(row.Errors[1].Error, "boom") || row.Errors[1].Trace == "" {
			t.Errorf("errors %+v; want both attempts' panic, with a stack", row.Errors)
		}
	})
}

func TestJobs_TimeoutFailsTheAttempt(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		j := start(t, db, jobs.Kind{MaxAttempts: 1, Timeout: 200 * time.Millisecond}, func(ctx context.Context, _ *river.Job[testArgs]) error {
			<-ctx.Done()
			return ctx.Err()
		})
		start := time.Now()
		row := waitState(t, j, insert(t, j, "timeout"), rivertype.JobStateDiscarded)
		if len(row.Errors) != 1 || !strings.Contains(row.Errors[0].Error, "deadline exceeded") {
			t.Errorf("errors %+v; want the timeout", row.Errors)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the job took %s to fail, its timeout is 200ms", d)
		}
	})
}

func TestJobs_CancelARunningJob(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		running := make(chan struct{})
		j := start(t, db, jobs.Kind{MaxAttempts: 5}, func(ctx context.Context, _ *river.Job[testArgs]) error {
			close(running)
			<-ctx.Done()
			return ctx.Err()
		})
		id := insert(t, j, "cancel")
		<-running
		if _, err := j.Cancel(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		row := waitState(t, j, id, rivertype.JobStateCancelled, rivertype.JobStateRetryable, rivertype.JobStateAvailable)
		if row.State != rivertype.JobStateCancelled || row.Attempt != 1 {
			t.Errorf("state %s after %d attempts, want cancelled after the one", row.State, row.Attempt)
		}
		if _, err := j.Cancel(context.Background(), 1<<40); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Errorf("cancel of no job: %v, want NOT_FOUND", err)
		}
	})
}

// TestRefreshes refreshes a file location through its job: on demand, at
// its interval, and not after it is deleted.
func TestRefreshes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		loc, eng, j := refreshJobs(t, db, 300*time.Millisecond, 100*time.Millisecond, false)
		if err := j.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer j.Stop(ctx)

		stats, err := j.Refresh(ctx, loc)
		// The scheduling pass may have refreshed it first: added or unchanged.
		if err != nil || stats.Emitted != 2 {
			t.Fatalf("Refresh = %+v, %v; want the component and its location's Location entity", stats, err)
		}
		n := eng.n.Load()
		time.Sleep(1500 * time.Millisecond)
		if got := eng.n.Load() - n; got < 3 || got > 6 {
			t.Errorf("%d refreshes in 1.5 s at an interval of 300ms, want about 5", got)
		}
		if _, err := db.DeleteLocation(ctx, loc.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := j.Refresh(ctx, loc); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Errorf("Refresh of a deleted location: %v, want NOT_FOUND", err)
		}
		if rows, err := j.List(ctx, 0, 0, rivertype.JobStateCancelled); err != nil || len(rows) != 1 {
			t.Errorf("cancelled jobs %v, %v; want the deleted location's", rows, err)
		}
	})
}

// refreshJobs registers a file location of one component and returns a
// client, not started, that refreshes it every interval through a counting
// engine, polling every poll. With schedule, the location's job is inserted
// as registerLocation does, in the transaction that registers it: twice,
// as a job the location has already is left as it is.
func refreshJobs(t *testing.T, db *store.DB, interval, poll time.Duration, schedule bool) (catalog.Location, *countingEngine, *jobs.Jobs) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "catalog-info.yaml")
	if err := os.WriteFile(file, []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: a}\nspec: {type: service, lifecycle: production, owner: team-a}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	eng := &countingEngine{Engine: ingest.NewEngine(db, ingest.Options{})}
	drv, err := db.JobDriver()
	if err != nil {
		t.Fatal(err)
	}
	ws := jobs.NewWorkers()
	jobs.AddRefreshes(ws, db, eng, interval)
	j, err := jobs.New(drv, ws, jobs.Options{PollInterval: poll})
	if err != nil {
		t.Fatal(err)
	}
	var with func(*sql.Tx, catalog.Location) error
	if schedule {
		with = func(tx *sql.Tx, loc catalog.Location) error {
			if err := j.ScheduleRefreshTx(context.Background(), tx, loc); err != nil {
				return err
			}
			return j.ScheduleRefreshTx(context.Background(), tx, loc)
		}
	}
	loc, _, err := db.RegisterLocation(context.Background(), "file", file, with)
	if err != nil {
		t.Fatal(err)
	}
	return loc, eng, j
}

// countingEngine counts the refreshes of a real engine.
type countingEngine struct {
	*ingest.Engine
	n atomic.Int32
}

func (e *countingEngine) Refresh(ctx context.Context, loc catalog.Location) (catalog.RefreshStats, error) {
	e.n.Add(1)
	return e.Engine.Refresh(ctx, loc)
}

// TestScheduleRefresh gives a location registered its job, due an
// interval later; and a refresh asked for and run by this process
// returns as soon as it ends, not at the next poll.
func TestScheduleRefresh(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const interval, poll = time.Hour, 3 * time.Second
		loc, eng, j := refreshJobs(t, db, interval, poll, true)
		rows, err := j.List(ctx, 0, 0, rivertype.JobStateScheduled)
		if err != nil || len(rows) != 1 {
			t.Fatalf("scheduled jobs %v, %v; want one, the location's", rows, err)
		}
		if due := time.Until(rows[0].ScheduledAt); due < interval-time.Minute || due > interval {
			t.Errorf("the job is due in %s, want an interval (%s)", due, interval)
		}

		if err := j.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer j.Stop(ctx)
		// Started, the client's scheduling pass inserts nothing more: the
		// location has its job. Ask for a refresh now: it starts at once,
		// well before the next poll (on SQLite, through River's listener).
		time.Sleep(poll / 3) // past the fetches a start makes
		began := time.Now()
		if _, err := j.Refresh(ctx, loc); err != nil {
			t.Fatal(err)
		}
		took, want := time.Since(began), poll/2
		if took > want {
			t.Errorf("Refresh took %s; want under %s with polls every %s", took, want, poll)
		}
		if n := eng.n.Load(); n != 1 {
			t.Errorf("%d refreshes, want 1", n)
		}
	})
}

// TestJobs_ListPages lists jobs a page at a time, each page after the
// last id of the one before.
func TestJobs_ListPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		drv, err := db.JobDriver()
		if err != nil {
			t.Fatal(err)
		}
		ws := jobs.NewWorkers()
		jobs.Add(ws, jobs.Kind{}, func(context.Context, *river.Job[testArgs]) error { return nil })
		j, err := jobs.New(drv, ws, jobs.Options{}) // never started: the jobs wait
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for i := range 5 {
			ids = append(ids, insert(t, j, fmt.Sprint("job-", i)))
		}
		ctx := context.Background()
		var got []int64
		for after := int64(0); ; {
			rows, err := j.List(ctx, after, 2, rivertype.JobStateAvailable)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) > 2 {
				t.Fatalf("a page of %d jobs; want at most 2", len(rows))
			}
			for _, r := range rows {
				got = append(got, r.ID)
			}
			if len(rows) < 2 {
				break
			}
			after = rows[len(rows)-1].ID
		}
		if fmt.Sprint(got) != fmt.Sprint(ids) {
			t.Errorf("paged through %v; want %v", got, ids)
		}
		all, err := j.List(ctx, ids[1], 0, rivertype.JobStateAvailable, rivertype.JobStateRunning)
		if err != nil || len(all) != 3 || all[0].ID != ids[2] {
			t.Errorf("every job after the second: %d jobs, %v; want the last 3", len(all), err)
		}
	})
}

// parkingRunner parks each task at a gate on its first run, and records
// the runs that follow.
type parkingRunner struct {
	parked, resumed chan string
	runs            sync.Map // task id → *atomic.Int32
}

func (r *parkingRunner) Run(ctx context.Context, id string) (time.Time, error) {
	n, _ := r.runs.LoadOrStore(id, new(atomic.Int32))
	if n.(*atomic.Int32).Add(1) == 1 {
		r.parked <- id
		return time.Now().Add(time.Hour), nil
	}
	r.resumed <- id
	return time.Time{}, nil
}

func (r *parkingRunner) Sweep(context.Context) error { return nil }

// A decision made as the run that parked the task ends (its snooze being
// committed) still makes the job due: on PostgreSQL, JobRetry racing the
// completer returned the job as snoozed without having updated it, and
// the task waited for its gate's deadline (a CI failure of
// TestMain_Templates/GateApproved).
func TestResumeTask_RacesTheSnooze(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		drv, err := db.JobDriver()
		if err != nil {
			t.Fatal(err)
		}
		r := &parkingRunner{parked: make(chan string), resumed: make(chan string, 1)}
		ws := jobs.NewWorkers()
		jobs.AddTasks(ws, r)
		j := run(t, drv, ws, jobs.Options{PollInterval: 50 * time.Millisecond})
		ctx := context.Background()
		for i := range 30 {
			id := fmt.Sprintf("task-%d", i)
			job, err := j.StartTask(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			<-r.parked
			// Across the window in which the snooze is recorded.
			time.Sleep(time.Duration(i%6) * time.Millisecond)
			if err := j.RerunJob(ctx, job); err != nil {
				t.Fatal(err)
			}
			select {
			case got := <-r.resumed:
				if got != id {
					t.Fatalf("resumed %s, want %s", got, id)
				}
			case <-time.After(5 * time.Second):
				row, _ := j.Get(ctx, job)
				t.Fatalf("%s was not resumed within 5 s of its decision: its job is %s until %s", id, row.State, row.ScheduledAt)
			}
		}
	})
}
