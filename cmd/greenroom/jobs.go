package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/greenroomhq/greenroom/internal/jobs"
)

// jobStates are the states greenroom jobs lists by default: everything but
// the jobs that completed.
var jobStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStatePending,
	rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateDiscarded,
	rivertype.JobStateCancelled,
}

// cmdJobs lists the jobs waiting, running and failed, with their last
// error, one line each. It exits 1 when a job failed for good (discarded).
func cmdJobs(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	f := newDatabaseFlags("jobs", stderr)
	var states string
	f.fs.StringVar(&states, "state", "", "comma-separated states to list (available, scheduled, running, retryable, discarded, cancelled, completed); default all but completed")
	f.fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: greenroom jobs [--database URL] [--state STATES]\n\nLists the background jobs waiting, running and failed, with their last error.\nExits 1 when a job failed for good (discarded).")
		f.fs.PrintDefaults()
	}
	rest, err := parseInterspersed(f.fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "greenroom jobs takes no arguments, and got %s\n", quoteAll(rest))
		return 2
	}
	want := jobStates
	if states != "" {
		want = nil
		for _, s := range strings.Split(states, ",") {
			st := rivertype.JobState(strings.TrimSpace(s))
			if !validState(st) {
				fmt.Fprintf(stderr, "greenroom jobs: unknown state %q\n", s)
				return 2
			}
			want = append(want, st)
		}
	}
	cfg, err := f.load(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "greenroom jobs:", err)
		return 2
	}
	db, err := openExistingStore(ctx, cfg.Database)
	if err != nil {
		fmt.Fprintln(stderr, "greenroom jobs:", err)
		return 2
	}
	defer db.Close()
	drv, err := db.JobDriver()
	if err != nil {
		fmt.Fprintln(stderr, "greenroom jobs:", err)
		return 2
	}
	j, err := jobs.New(drv, nil, jobs.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "greenroom jobs:", err)
		return 2
	}
	rows, err := j.List(ctx, want...)
	if err != nil {
		fmt.Fprintln(stderr, "greenroom jobs:", err)
		return 2
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATE\tATTEMPT\tWHEN\tARGS\tLAST ERROR")
	failed := 0
	for _, r := range rows {
		if r.State == rivertype.JobStateDiscarded {
			failed++
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", r.ID, r.Kind, r.State, r.Attempt, r.MaxAttempts,
			jobWhen(r), oneLine(string(r.EncodedArgs), 80), lastError(r))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%s, %d failed\n", count(len(rows), "job"), failed)
	if failed > 0 {
		return 1
	}
	return 0
}

func validState(s rivertype.JobState) bool {
	return s == rivertype.JobStateCompleted || slices.Contains(jobStates, s)
}

// jobWhen says when a job ran, runs or will run, in UTC.
func jobWhen(r *rivertype.JobRow) string {
	t := r.ScheduledAt
	switch r.State {
	case rivertype.JobStateRunning:
		if r.AttemptedAt != nil {
			t = *r.AttemptedAt
		}
	case rivertype.JobStateCompleted, rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
		if r.FinalizedAt != nil {
			t = *r.FinalizedAt
		}
	}
	return t.UTC().Format(time.RFC3339)
}

// lastError is the error of a job's last failed attempt, on one line.
func lastError(r *rivertype.JobRow) string {
	if len(r.Errors) == 0 {
		return "-"
	}
	e := r.Errors[len(r.Errors)-1]
	return fmt.Sprintf("attempt %d: %s", e.Attempt, oneLine(e.Error, 200))
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
