package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/jobs"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// sweepArgs is a kind of job for these tests, with a secret among its
// arguments.
type sweepArgs struct {
	jobs.Meta
	Name  string `json:"name"`
	Token string `json:"token"`
}

func (sweepArgs) Kind() string { return "sweep" }

// MustQueue returns a job queue over db that is never started, so that
// the jobs inserted wait, with n of them inserted.
func MustQueue(tb testing.TB, db *store.DB, n int) (*jobs.Jobs, []int64) {
	tb.Helper()
	drv, err := db.JobDriver()
	if err != nil {
		tb.Fatal(err)
	}
	ws := jobs.NewWorkers()
	jobs.Add(ws, jobs.Kind{}, func(context.Context, *river.Job[sweepArgs]) error { return nil })
	q, err := jobs.New(drv, ws, jobs.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	var ids []int64
	for i := range n {
		res, err := q.Insert(context.Background(), sweepArgs{Meta: jobs.Meta{As: jobs.System}, Name: fmt.Sprint("sweep-", i), Token: "s3cret"})
		if err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, res.Job.ID)
	}
	return q, ids
}

// readJobs is a policy under which everyone may read jobs and nobody may
// cancel them.
type readJobs struct{}

func (readJobs) Current() *policy.Policy {
	p, err := policy.Parse([]byte("rules:\n  - name: read-jobs\n    allow: [jobs.job.read]\n    to: [anyone]\n"), "jobs.yaml")
	if err != nil {
		panic(err)
	}
	return p
}

// TestJobs_ChecksAndAudits checks that listing jobs needs jobs.job.read and
// cancelling one jobs.job.cancel, that an operator may do both, that jobs
// show their arguments redacted, and that every cancellation, refused or
// not, is in the audit log.
func TestJobs_ChecksAndAudits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		queue, ids := MustQueue(t, db, 3)
		denied := app.New(app.Deps{Store: db, Queue: queue, Policies: denyAll{}}).Jobs
		reader := app.New(app.Deps{Store: db, Queue: queue, Policies: readJobs{}}).Jobs
		jane := portal.NewContextWithPrincipal(ctx, &portal.Principal{Kind: portal.PrincipalUser, Ref: "user:default/jane",
			Ownership: []string{"user:default/jane"}, InCatalog: true})
		op := app.Operator(ctx, "ops")
		first := fmt.Sprint(ids[0])

		if _, _, err := denied.List(jane, app.JobQuery{Limit: 10}); portal.ErrorCode(err) != portal.EFORBIDDEN {
			t.Errorf("jane lists without jobs.job.read: %v; want FORBIDDEN", err)
		}
		if _, err := denied.Get(jane, first); portal.ErrorCode(err) != portal.EFORBIDDEN {
			t.Errorf("jane gets a job without jobs.job.read: %v; want FORBIDDEN", err)
		}
		if _, err := denied.Cancel(jane, first); portal.ErrorCode(err) != portal.EFORBIDDEN {
			t.Errorf("jane cancels without jobs.job.cancel: %v; want FORBIDDEN", err)
		}
		if _, err := reader.Cancel(jane, first); portal.ErrorCode(err) != portal.EFORBIDDEN ||
			!strings.Contains(portal.ErrorMessage(err), "jobs.job.cancel") {
			t.Errorf("jane cancels with jobs.job.read alone: %v; want FORBIDDEN naming jobs.job.cancel", err)
		}

		page, more, err := reader.List(jane, app.JobQuery{Limit: 2})
		if err != nil || len(page) != 2 || !more || page[0].ID != ids[0] {
			t.Fatalf("jane lists 2 of 3 jobs: %d jobs, more %v, %v; want the first 2 and more", len(page), more, err)
		}
		j := page[0]
		if j.Kind != "sweep" || j.State != app.JobAvailable || j.Queue != jobs.QueueDefault || j.Attempt != 0 ||
			j.MaxAttempts != 25 || j.LastError != nil || j.FinishedAt != nil || j.CreatedAt.IsZero() {
			t.Errorf("job %+v; want a sweep job waiting", j)
		}
		if j.Args["name"] != "sweep-0" || j.Args["token"] != audit.Redacted {
			t.Errorf("args %v; want the name, and the token redacted", j.Args)
		}
		rest, more, err := reader.List(jane, app.JobQuery{After: page[1].ID, Limit: 2})
		if err != nil || len(rest) != 1 || more || rest[0].ID != ids[2] {
			t.Errorf("the page after: %d jobs, more %v, %v; want the last job alone", len(rest), more, err)
		}
		if _, _, err := reader.List(jane, app.JobQuery{States: []app.JobState{"finished"}, Limit: 2}); portal.ErrorCode(err) != portal.EINVALID {
			t.Errorf("an unknown state: %v; want INVALID", err)
		}

		job, err := denied.Cancel(op, first)
		if err != nil || job.State != app.JobCancelled || job.FinishedAt == nil {
			t.Fatalf("the operator cancels: %+v, %v; want the job cancelled", job, err)
		}
		if again, err := denied.Cancel(op, first); err != nil || again.State != app.JobCancelled {
			t.Errorf("cancelling again: %+v, %v; want the job as it is, and no error", again, err)
		}
		if got, err := reader.Get(jane, first); err != nil || got.State != app.JobCancelled {
			t.Errorf("jane gets the job: %+v, %v; want it cancelled", got, err)
		}
		cancelled, _, err := reader.List(jane, app.JobQuery{States: []app.JobState{app.JobCancelled}, Limit: 10})
		if err != nil || len(cancelled) != 1 || cancelled[0].ID != ids[0] {
			t.Errorf("cancelled jobs: %+v, %v; want the one cancelled", cancelled, err)
		}
		if _, err := denied.Cancel(op, "99999"); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Errorf("an unknown job: %v; want NOT_FOUND", err)
		}
		if _, err := denied.Cancel(op, "seven"); portal.ErrorCode(err) != portal.EINVALID {
			t.Errorf("an id that is no number: %v; want INVALID", err)
		}
		none := app.New(app.Deps{Store: db}).Jobs
		if _, _, err := none.List(op, app.JobQuery{Limit: 1}); portal.ErrorCode(err) != portal.EUNAVAILABLE {
			t.Errorf("a service without a queue: %v; want UNAVAILABLE", err)
		}

		events, _, err := db.AuditEvents(ctx, audit.Filter{}, "", 20)
		if err != nil {
			t.Fatal(err)
		}
		type row struct{ actor, action, target, outcome, code, arg string }
		var got []row
		for _, e := range events {
			got = append(got, row{e.Actor, e.Action, e.Target, e.Outcome, e.ErrorCode, fmt.Sprint(e.Arguments["id"])})
		}
		want := []row{ // newest first; reads are not audited
			{"cli:ops", "cancelJob", "seven", audit.OutcomeError, portal.EINVALID, "seven"},
			{"cli:ops", "cancelJob", "99999", audit.OutcomeError, portal.ENOTFOUND, "99999"},
			{"cli:ops", "cancelJob", first, audit.OutcomeOK, "", first},
			{"cli:ops", "cancelJob", first, audit.OutcomeOK, "", first},
			{"user:default/jane", "cancelJob", first, audit.OutcomeDenied, portal.EFORBIDDEN, first},
			{"user:default/jane", "cancelJob", first, audit.OutcomeDenied, portal.EFORBIDDEN, first},
		}
		if len(got) != len(want) {
			t.Fatalf("audit log %+v; want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("event %d: %+v; want %+v", i, got[i], want[i])
			}
		}
	})
}
