package jobs_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/greenroomhq/greenroom/internal/jobs"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// deadAfter is how long the processes of these tests may make no
// heartbeat (they make one every tenth of a second).
const deadAfter = 500 * time.Millisecond

// startLive runs a client that keeps a heartbeat in procs, with the test
// kind doing work. River's own rescue is an hour away: only the heartbeats
// can hand a job back within the test.
func startLive(t *testing.T, db *store.DB, procs jobs.Processes, k jobs.Kind, work jobs.Work[testArgs]) *jobs.Jobs {
	t.Helper()
	drv, err := db.JobDriver()
	if err != nil {
		t.Fatal(err)
	}
	ws := jobs.NewWorkers()
	jobs.Add(ws, k, work)
	j, err := jobs.New(drv, ws, jobs.Options{Timeout: 30 * time.Minute, RescueAfter: time.Hour, PollInterval: 100 * time.Millisecond,
		Processes: procs, Heartbeat: 100 * time.Millisecond, DeadAfter: deadAfter})
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

// stoppable is the store as one process's heartbeat reaches it, with a
// switch that makes its heartbeats stop reaching the database, as when
// the process is stopped or killed; its jobs go on.
type stoppable struct {
	*store.DB
	stopped atomic.Bool
}

func (s *stoppable) BeatJobProcess(ctx context.Context, id string) error {
	if s.stopped.Load() {
		return nil
	}
	return s.DB.BeatJobProcess(ctx, id)
}

// TestLiveness_DeadProcess: a job running in a process whose heartbeats
// stopped is retried by a live process within a few heartbeats, with the
// reason recorded; when the first process comes back, it learns that it
// was taken for dead and cancels the job it still runs.
func TestLiveness_DeadProcess(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		running := make(chan struct{})
		var cause atomic.Value
		dying := &stoppable{DB: db}
		var runs atomic.Int32
		a := startLive(t, db, dying, jobs.Kind{MaxAttempts: 3}, func(ctx context.Context, _ *river.Job[testArgs]) error {
			// Only its heartbeats stop: it may take the retry itself.
			if runs.Add(1) > 1 {
				return nil
			}
			close(running)
			<-ctx.Done()
			cause.Store(context.Cause(ctx).Error())
			return ctx.Err()
		})
		id := insert(t, a, "dead")
		<-running
		dying.stopped.Store(true)
		stopped := time.Now()
		j := startLive(t, db, db, jobs.Kind{MaxAttempts: 3}, func(context.Context, *river.Job[testArgs]) error { return nil })

		row := waitState(t, j, id, rivertype.JobStateCompleted)
		if took := time.Since(stopped); took > 3*time.Second {
			t.Errorf("the job was retried %s after its process stopped beating; want within a few heartbeats (dead after %s)", took, deadAfter)
		}
		if len(row.Errors) != 1 || !strings.Contains(row.Errors[0].Error, "stopped responding") || row.Attempt != 2 {
			t.Errorf("attempt %d, errors %+v; want the second attempt to complete after the first's process stopped responding", row.Attempt, row.Errors)
		}

		dying.stopped.Store(false)
		deadline := time.Now().Add(5 * time.Second)
		for cause.Load() == nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if c, _ := cause.Load().(string); !strings.Contains(c, "taken for dead") {
			t.Errorf("the first run ended with %q; want it cancelled as the process learns it was taken for dead", c)
		}
	})
}

// TestLiveness_SlowJob: a job that runs for many times the dead-after
// bound in a live process is never retried beside itself.
func TestLiveness_SlowJob(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var calls atomic.Int32
		slow := func(ctx context.Context, _ *river.Job[testArgs]) error {
			calls.Add(1)
			select {
			case <-time.After(4 * deadAfter):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		j := startLive(t, db, db, jobs.Kind{MaxAttempts: 3}, slow)
		startLive(t, db, db, jobs.Kind{MaxAttempts: 3}, slow)
		row := waitState(t, j, insert(t, j, "slow"), rivertype.JobStateCompleted)
		if len(row.Errors) != 0 || row.Attempt != 1 || calls.Load() != 1 {
			t.Errorf("attempt %d, errors %+v, %d runs; want one run, completed", row.Attempt, row.Errors, calls.Load())
		}
	})
}

// TestLiveness_DeadProcessLastAttempt: a job at its last attempt when its
// process stops beating is discarded, with the reason.
func TestLiveness_DeadProcessLastAttempt(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		running := make(chan struct{})
		dying := &stoppable{DB: db}
		a := startLive(t, db, dying, jobs.Kind{MaxAttempts: 1}, func(ctx context.Context, _ *river.Job[testArgs]) error {
			close(running)
			<-ctx.Done()
			return ctx.Err()
		})
		id := insert(t, a, "last")
		<-running
		dying.stopped.Store(true)
		j := startLive(t, db, db, jobs.Kind{MaxAttempts: 1}, func(context.Context, *river.Job[testArgs]) error { return nil })
		row := waitState(t, j, id, rivertype.JobStateDiscarded)
		if len(row.Errors) != 1 || !strings.Contains(row.Errors[0].Error, "stopped responding") || row.FinalizedAt == nil {
			t.Errorf("errors %+v, finalized at %v; want the job finalized with its process's death as its error", row.Errors, row.FinalizedAt)
		}
		dying.stopped.Store(false) // it learns, and ends its run
	})
}
