package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Locations is what refreshes read of the registered locations.
type Locations interface {
	// Location returns a location; portal.ENOTFOUND if there is none.
	Location(ctx context.Context, id string) (catalog.Location, error)
	Locations(ctx context.Context) ([]catalog.Location, error)
}

// Refresher refreshes one location: ingest's Engine.
type Refresher interface {
	Refresh(ctx context.Context, loc catalog.Location) (catalog.RefreshStats, error)
}

// RefreshArgs is the job that refreshes one location, again and again:
// after each refresh it snoozes until the next is due (see the package
// doc). It is unique by location, so a location has one such job, waiting
// or running, and is never refreshed twice at once.
type RefreshArgs struct {
	Meta
	LocationID string `json:"location_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (RefreshArgs) Kind() string { return "refresh_location" }

// scheduleArgs is the job that gives every location its refresh job: run
// at every start of a leader and every interval, it covers locations
// registered by another process and jobs discarded after their last
// attempt.
type scheduleArgs struct{ Meta }

func (scheduleArgs) Kind() string { return "schedule_refreshes" }

// refreshMaxAttempts is how many refreshes in a row, over a job's life, may
// fail before the job is discarded (and shown failed by greenroom jobs);
// the next scheduling pass then starts a new one.
const refreshMaxAttempts = 5

// AddRefreshes registers the refresh of every location, each interval,
// with eng, on ws.
func AddRefreshes(ws *Workers, locs Locations, eng Refresher, interval time.Duration) {
	ws.refreshInterval = interval
	Add(ws, Kind{Queue: QueueRefresh, MaxAttempts: refreshMaxAttempts, MaxBackoff: interval, Unique: true},
		func(ctx context.Context, job *river.Job[RefreshArgs]) error {
			loc, err := locs.Location(ctx, job.Args.LocationID)
			if portal.ErrorCode(err) == portal.ENOTFOUND {
				return river.JobCancel(fmt.Errorf("location %s was deleted", job.Args.LocationID))
			}
			if err != nil {
				return err
			}
			start := time.Now()
			stats, err := eng.Refresh(ctx, loc)
			if err != nil {
				return err // logged and recorded on the location by the engine
			}
			ws.log.InfoContext(ctx, "refreshed location", "location", loc.Key(), "location_id", loc.ID, "job", job.ID,
				"started", start.UTC().Format(time.RFC3339Nano), "duration_ms", time.Since(start).Milliseconds(),
				"emitted", stats.Emitted, "added", stats.Added, "updated", stats.Updated, "orphaned", stats.Orphaned,
				"deleted", stats.Deleted, "conflicts", stats.Conflicts, "errors", stats.Errors)
			if err := river.RecordOutput(ctx, stats); err != nil {
				return err
			}
			// Due at a fixed rate from when this one was due, so that a
			// late start does not push every later refresh back.
			return river.JobSnooze(max(0, time.Until(job.ScheduledAt.Add(interval))))
		})
	Add(ws, Kind{MaxAttempts: 3, Unique: true}, func(ctx context.Context, job *river.Job[scheduleArgs]) error {
		all, err := locs.Locations(ctx)
		if err != nil {
			return err
		}
		params := make([]river.InsertManyParams, len(all))
		for i, loc := range all {
			args := RefreshArgs{Meta: Meta{As: System}, LocationID: loc.ID}
			opts, err := ws.insertOpts(args)
			if err != nil {
				return err
			}
			params[i] = river.InsertManyParams{Args: args, InsertOpts: opts}
		}
		if len(params) == 0 {
			return nil
		}
		_, err = river.ClientFromContext[*sql.Tx](ctx).InsertMany(ctx, params)
		return err
	})
	ws.periodic = append(ws.periodic, river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) {
			args := scheduleArgs{Meta{As: System}}
			opts, _ := ws.insertOpts(args) // registered just above
			return args, opts
		}, &river.PeriodicJobOpts{ID: "schedule_refreshes", RunOnStart: true}))
}

// RefreshRequest is a refresh asked for with [Jobs.RequestRefresh]: the
// first run of the location's job that starts after the request.
type RefreshRequest struct {
	Location string
	args     RefreshArgs
	jobID    int64
	// before is when the run before the one asked for started (nil: none
	// did), and errors how many errors the job had recorded then; running
	// says that it was still running at the request, so the job must be
	// made due again once it stops.
	before  *time.Time
	errors  int
	running bool
}

// RequestRefresh asks for a refresh of a location now, by whichever process
// takes the job: its waiting job is made due at once, or, when it is
// running, made due again as soon as that run ends (which may have read the
// location before the change the caller knows of).
func (j *Jobs) RequestRefresh(ctx context.Context, locationID string) (*RefreshRequest, error) {
	args := RefreshArgs{Meta: Meta{As: PrincipalOf(portal.PrincipalFromContext(ctx))}, LocationID: locationID}
	// Inserted due later, then made due: an insert of a job due now tells
	// the queue to look at once, and River sends at most one such notice
	// per FetchCooldown (100 ms), so the notice of makeDue's insert, after
	// the job is due, would be dropped and the job would wait for the
	// next poll (a second, as measured on SQLite, whose notices go
	// through a table).
	opts, err := j.ws.insertOpts(args)
	if err != nil {
		return nil, err
	}
	opts.ScheduledAt = time.Now().Add(max(j.ws.refreshInterval, time.Minute))
	res, err := j.client.Insert(ctx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: refresh location %s: %w", locationID, err)
	}
	req := &RefreshRequest{Location: locationID, args: args, jobID: res.Job.ID}
	return req, j.makeDue(ctx, req, res.Job)
}

// RefreshSoon asks for a refresh of a location now, as [Jobs.RequestRefresh]
// does, without waiting for it: when the location's job is running, a
// goroutine waits for that run to end and makes the job due again, since
// the run may have read the location before the change the caller knows
// of. What a file watcher and a webhook ask for.
func (j *Jobs) RefreshSoon(ctx context.Context, locationID string) error {
	_, err := j.refreshSoon(ctx, locationID)
	return err
}

// StartRefresh is [Jobs.RefreshSoon] for a refreshLocation that does not
// wait: it returns the id of the location's job, whose state and output
// say how the refresh went.
func (j *Jobs) StartRefresh(ctx context.Context, loc catalog.Location) (string, error) {
	req, err := j.refreshSoon(ctx, loc.ID)
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(req.jobID, 10), nil
}

func (j *Jobs) refreshSoon(ctx context.Context, locationID string) (*RefreshRequest, error) {
	req, err := j.RequestRefresh(ctx, locationID)
	if err != nil || !req.running {
		return req, err
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), j.ws.max)
		defer cancel()
		j.Wait(ctx, req) // a refresh logs its own failure
	}()
	return req, nil
}

// makeDue makes the job of req, as row shows it, run anew: now, or after
// the run in progress.
func (j *Jobs) makeDue(ctx context.Context, req *RefreshRequest, row *rivertype.JobRow) error {
	if row.State != rivertype.JobStateRunning {
		// JobRetry leaves a running job as it is and makes any other due
		// now. A job it returns in another state changed as it read it (a
		// run ending, see RerunJob) and was not made due: asked again.
		for tries := 0; row.State != rivertype.JobStateAvailable && row.State != rivertype.JobStateRunning; tries++ {
			if tries == 3 {
				return fmt.Errorf("jobs: refresh location %s now: its job stays %s", req.Location, row.State)
			}
			var err error
			if row, err = j.client.JobRetry(ctx, row.ID); err != nil {
				return fmt.Errorf("jobs: refresh location %s now: %w", req.Location, err)
			}
		}
		// River looks for due jobs at each poll, but at once after an
		// insert: inserting the job again, a duplicate skipped, makes this
		// process's refresh queue look now rather than up to a poll
		// interval later.
		if _, err := j.Insert(ctx, req.args); err != nil {
			return err
		}
	}
	req.before, req.errors, req.running = row.AttemptedAt, len(row.Errors), row.State == rivertype.JobStateRunning
	return nil
}

// Wait waits for the refresh asked for to end, and returns how it went: the
// refresh's own error, or portal.ENOTFOUND when the location was deleted.
// Another process may run it: Wait reads the job every tenth of a second,
// and at once when this process ends a run of a job.
func (j *Jobs) Wait(ctx context.Context, req *RefreshRequest) (catalog.RefreshStats, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		ended := j.ended.wait() // before the read, so that no end is missed
		row, err := j.Get(ctx, req.jobID)
		if err != nil {
			return catalog.RefreshStats{}, err
		}
		switch {
		case row.State == rivertype.JobStateCancelled:
			return catalog.RefreshStats{}, portal.Errorf(portal.ENOTFOUND, "no location %s", req.Location)
		case row.State == rivertype.JobStateRunning:
		case req.running:
			if err := j.makeDue(ctx, req, row); err != nil {
				return catalog.RefreshStats{}, err
			}
		case sameTime(row.AttemptedAt, req.before) && row.State != rivertype.JobStateDiscarded:
			// not run yet
		default:
			return runResult(row, req.errors)
		}
		select {
		case <-ctx.Done():
			return catalog.RefreshStats{}, ctx.Err()
		case <-t.C:
		case <-ended:
		}
	}
}

// runResult reads how the last run of a refresh job went: an error more
// than the job had before it is its failure (an error's time, from the
// process that ran it, cannot be compared with the start, from the
// database's clock); otherwise its output.
func runResult(row *rivertype.JobRow, errorsBefore int) (catalog.RefreshStats, error) {
	if n := len(row.Errors); n > errorsBefore {
		return catalog.RefreshStats{}, fmt.Errorf("jobs: refresh of location failed: %s", row.Errors[n-1].Error)
	}
	var stats catalog.RefreshStats
	if out := row.Output(); len(out) > 0 {
		if err := json.Unmarshal(out, &stats); err != nil {
			return stats, fmt.Errorf("jobs: read refresh output: %w", err)
		}
	}
	return stats, nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// Refresh refreshes a location now, on whichever process takes its job,
// and waits for it: what a refreshLocation mutation does.
func (j *Jobs) Refresh(ctx context.Context, loc catalog.Location) (catalog.RefreshStats, error) {
	req, err := j.RequestRefresh(ctx, loc.ID)
	if err != nil {
		return catalog.RefreshStats{}, err
	}
	return j.Wait(ctx, req)
}

// ScheduleRefreshTx has a location refreshed every interval from now on,
// by its job, the first time an interval from now: for a location being
// registered in tx, which is refreshed at once by its registration. The
// job commits with tx. A job the location has already is left as it is.
// On SQLite tx is the store's one writer's: inserting through River's own
// connection instead waited for the file's lock in SQLite's busy handler,
// which sleeps 1, 2, 5 … 100 ms between tries (78 ms p99 beside a
// refresh).
func (j *Jobs) ScheduleRefreshTx(ctx context.Context, tx *sql.Tx, loc catalog.Location) error {
	args := RefreshArgs{Meta: Meta{As: PrincipalOf(portal.PrincipalFromContext(ctx))}, LocationID: loc.ID}
	opts, err := j.ws.insertOpts(args)
	if err != nil {
		return err
	}
	opts.ScheduledAt = time.Now().Add(j.ws.refreshInterval)
	if _, err := j.client.InsertTx(ctx, tx, args, opts); err != nil {
		return fmt.Errorf("jobs: schedule refreshes of location %s: %w", loc.ID, err)
	}
	return nil
}

// RequestRefreshes asks for a refresh of each location now (see
// [Jobs.RequestRefresh]).
func (j *Jobs) RequestRefreshes(ctx context.Context, locs []catalog.Location) ([]*RefreshRequest, error) {
	out := make([]*RefreshRequest, 0, len(locs))
	for _, loc := range locs {
		req, err := j.RequestRefresh(ctx, loc.ID)
		if err != nil {
			return out, err
		}
		out = append(out, req)
	}
	return slices.Clip(out), nil
}
