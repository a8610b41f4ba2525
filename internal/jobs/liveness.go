package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// Processes records the processes that run jobs, each by the id of its
// River client, and hands back the jobs of one that died: store.DB.
type Processes interface {
	// StartJobProcess records a process, with no heartbeats yet.
	StartJobProcess(ctx context.Context, id string) error
	// BeatJobProcess records a heartbeat. Returns portal.ENOTFOUND if the
	// process has no record: another process took it for dead.
	BeatJobProcess(ctx context.Context, id string) error
	// StopJobProcess deletes the record of a process that stopped cleanly.
	StopJobProcess(ctx context.Context, id string) error
	// JobProcesses returns how many heartbeats each process has made.
	JobProcesses(ctx context.Context) (map[string]int64, error)
	// RescueJobsOf takes a process for dead, unless it has made more than
	// beats heartbeats: deletes its record, records reason as the error of
	// each job it was running, and makes the job due now (or cancelled,
	// or discarded at its last attempt). It returns how many jobs it
	// handed back, and false if the process was not taken for dead.
	RescueJobsOf(ctx context.Context, id string, beats int64, reason string) (int, bool, error)
}

// errTakenForDead cancels the jobs still running in a process that another
// process took for dead.
var errTakenForDead = errors.New("jobs: this process was taken for dead and its jobs were handed to others")

// liveness beats this process's heartbeat and, at each beat, hands back
// the running jobs of every other process whose heartbeats stopped.
//
// A process is taken for dead when its count of heartbeats has not moved
// for deadAfter on this process's clock, while this process made at least
// deadAfter/every heartbeats of its own: no two clocks are compared, and a
// database that takes no writes for a while (SQLite's one writer held by a
// long transaction) stops every process's heartbeats alike, so none is
// taken for dead for it.
type liveness struct {
	procs            Processes
	id               string
	every, deadAfter time.Duration
	log              *slog.Logger
	running          *runningJobs

	beats int64               // this process's heartbeats
	seen  map[string]sighting // the others'
}

// sighting is when another process's heartbeats were last seen to move.
type sighting struct {
	beats int64     // its count then
	at    time.Time // this process's clock then
	mine  int64     // this process's count then
}

func (l *liveness) run(ctx context.Context) {
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.tick(ctx)
	}
}

func (l *liveness) tick(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, l.deadAfter)
	defer cancel()
	err := l.procs.BeatJobProcess(ctx, l.id)
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		// This process made no heartbeat for deadAfter (it was stopped,
		// or cut off from the database) and its jobs were handed to
		// others: those still running here would run beside themselves.
		n := l.running.cancelAll(errTakenForDead)
		l.log.ErrorContext(ctx, "this process was taken for dead: cancelled the jobs it was running, handed to others meanwhile",
			"process", l.id, "jobs", n)
		err = l.procs.StartJobProcess(ctx, l.id)
	}
	if err != nil {
		l.log.WarnContext(ctx, "job heartbeat failed", "process", l.id, "err", err)
		return
	}
	l.beats++
	procs, err := l.procs.JobProcesses(ctx)
	if err != nil {
		l.log.WarnContext(ctx, "reading job heartbeats failed", "err", err)
		return
	}
	now := time.Now()
	for id := range l.seen {
		if _, ok := procs[id]; !ok {
			delete(l.seen, id)
		}
	}
	for id, beats := range procs {
		s, ok := l.seen[id]
		switch {
		case id == l.id:
		case !ok || s.beats != beats:
			l.seen[id] = sighting{beats: beats, at: now, mine: l.beats}
		case now.Sub(s.at) >= l.deadAfter && l.beats-s.mine >= int64(l.deadAfter/l.every):
			reason := fmt.Sprintf("the process running the job (%s) stopped responding: no heartbeat for %s", id, now.Sub(s.at).Round(100*time.Millisecond))
			n, dead, err := l.procs.RescueJobsOf(ctx, id, beats, reason)
			if err != nil {
				l.log.WarnContext(ctx, "handing back the jobs of a dead process failed", "process", id, "err", err)
				continue
			}
			delete(l.seen, id)
			if dead {
				l.log.InfoContext(ctx, "a job process stopped responding: its running jobs were handed back",
					"process", id, "jobs", n, "silent_ms", now.Sub(s.at).Milliseconds())
			}
		}
	}
}

// runningJobs are the jobs running in this process, each with what cancels
// it.
type runningJobs struct {
	mu   sync.Mutex
	next int
	jobs map[int]context.CancelCauseFunc
}

// add records a running job and returns what forgets it.
func (r *runningJobs) add(cancel context.CancelCauseFunc) (done func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.jobs == nil {
		r.jobs = map[int]context.CancelCauseFunc{}
	}
	r.next++
	k := r.next
	r.jobs[k] = cancel
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.jobs, k)
	}
}

// cancelAll cancels every running job with cause, and returns how many.
func (r *runningJobs) cancelAll(cause error) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cancel := range r.jobs {
		cancel(cause)
	}
	return len(r.jobs)
}
