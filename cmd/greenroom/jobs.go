package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/jobs"
)

const jobsUsage = `usage:
  greenroom jobs        [--database URL] [--state STATES]   list background jobs
  greenroom jobs cancel [--database URL] ID                 cancel a job

jobs lists the background jobs waiting, running and failed, with their last
error, and exits 1 when a job failed for good (discarded). cancel cancels a
job as the API's cancelJob does: one waiting never runs, one running is
stopped within seconds and not retried, one finished is left as it is. It
is audited, as cli:<OS user>.
`

// cmdJobs runs greenroom jobs and greenroom jobs cancel, through the same
// service as the API, as the operator.
func cmdJobs(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := newDBCommand("jobs", jobsUsage, stderr)
	var states string
	c.fs.StringVar(&states, "state", "", "comma-separated states to list (available, scheduled, running, retryable, discarded, cancelled, completed); default all but completed")
	rest, code, ok := c.parse(args)
	if !ok {
		return code
	}
	cancel := first(rest) == "cancel"
	switch {
	case cancel && len(rest) != 2:
		fmt.Fprintln(stderr, "greenroom jobs cancel takes one job id")
		return 2
	case cancel:
		c.name = "jobs cancel"
	case len(rest) > 0:
		fmt.Fprintf(stderr, "greenroom jobs takes no arguments but cancel ID, and got %s\n", quoteAll(rest))
		return 2
	}
	var want []app.JobState // none: the service's default, all but completed
	if states != "" {
		for _, s := range strings.Split(states, ",") {
			st := app.JobState(strings.TrimSpace(s))
			if !st.Valid() {
				fmt.Fprintf(stderr, "greenroom jobs: unknown state %q\n", s)
				return 2
			}
			want = append(want, st)
		}
	}
	cfg, db, err := c.open(ctx, getenv)
	if err != nil {
		return c.fail(err)
	}
	defer db.Close()
	log, err := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return c.fail(err)
	}
	drv, err := db.JobDriver()
	if err != nil {
		return c.fail(err)
	}
	queue, err := jobs.New(drv, nil, jobs.Options{})
	if err != nil {
		return c.fail(err)
	}
	// The jobs service alone: this command refreshes nothing, so the
	// catalog service beside it goes without an engine.
	svc := app.New(app.Deps{Store: db, Queue: queue, Logger: log}).Jobs
	ctx = app.Operator(ctx, operatorName(getenv))
	if cancel {
		job, err := svc.Cancel(ctx, rest[1])
		if err != nil {
			return c.fail(err)
		}
		switch job.State {
		case app.JobCancelled:
			fmt.Fprintf(stdout, "cancelled job %d (%s)\n", job.ID, job.Kind)
		case app.JobRunning:
			fmt.Fprintf(stdout, "cancelling job %d (%s): it stops within seconds and is not retried\n", job.ID, job.Kind)
		default:
			fmt.Fprintf(stdout, "job %d (%s) is %s already: nothing to cancel\n", job.ID, job.Kind, job.State)
		}
		return 0
	}
	var all []app.Job
	for q := (app.JobQuery{States: want, Limit: 1000}); ; {
		page, more, err := svc.List(ctx, q)
		if err != nil {
			return c.fail(err)
		}
		all = append(all, page...)
		if !more {
			break
		}
		q.After = page[len(page)-1].ID
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATE\tATTEMPT\tWHEN\tARGS\tLAST ERROR")
	failed := 0
	for _, j := range all {
		if j.State == app.JobDiscarded {
			failed++
		}
		args, _ := json.Marshal(j.Args)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", j.ID, j.Kind, j.State, j.Attempt, j.MaxAttempts,
			jobWhen(j), oneLine(string(args), 80), lastError(j))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%s, %d failed\n", count(len(all), "job"), failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// jobWhen says when a job ran, runs or will run, in UTC.
func jobWhen(j app.Job) string {
	t := j.ScheduledAt
	switch j.State {
	case app.JobRunning:
		if j.AttemptedAt != nil {
			t = *j.AttemptedAt
		}
	case app.JobCompleted, app.JobDiscarded, app.JobCancelled:
		if j.FinishedAt != nil {
			t = *j.FinishedAt
		}
	}
	return t.UTC().Format(time.RFC3339)
}

// lastError is the error of a job's last failed attempt, on one line.
func lastError(j app.Job) string {
	if j.LastError == nil {
		return "-"
	}
	return fmt.Sprintf("attempt %d: %s", j.LastError.Attempt, oneLine(j.LastError.Message, 200))
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
