package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/jobs"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/server"
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

// MustServeJobs serves the API under the policy over a job queue that is
// never started, holding n waiting jobs, and returns their ids.
func MustServeJobs(t *testing.T, db *store.DB, policyYAML string, n int) (*httptest.Server, []string) {
	t.Helper()
	drv, err := db.JobDriver()
	if err != nil {
		t.Fatal(err)
	}
	ws := jobs.NewWorkers()
	jobs.Add(ws, jobs.Kind{}, func(context.Context, *river.Job[sweepArgs]) error { return nil })
	q, err := jobs.New(drv, ws, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range n {
		res, err := q.Insert(context.Background(), sweepArgs{Meta: jobs.Meta{As: jobs.System}, Name: fmt.Sprint("sweep-", i), Token: "s3cret"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, fmt.Sprint(res.Job.ID))
	}
	srv := httptest.NewServer(server.New(options(t, app.Deps{Store: db, Queue: q}, policyYAML)))
	t.Cleanup(srv.Close)
	return srv, ids
}

const (
	jobsQuery = `query($states: [JobState!], $first: Int, $after: String) {
		jobs(states: $states, first: $first, after: $after) {
			edges { cursor node { id kind queue state attempt maxAttempts createdAt scheduledAt attemptedAt finishedAt args lastError { message } } }
			pageInfo { hasNextPage hasPreviousPage endCursor }
		}
	}`
	cancelJobMutation = `mutation($id: ID!) { cancelJob(id: $id) { id state finishedAt } }`
)

type jobNode struct {
	ID, Kind, Queue, State string
	Attempt, MaxAttempts   int
	CreatedAt, ScheduledAt string
	AttemptedAt            *string
	FinishedAt             *string
	Args                   map[string]any
	LastError              *struct{ Message string }
}

type jobPage struct {
	Edges []struct {
		Cursor string
		Node   jobNode
	}
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		EndCursor                    *string
	}
}

func (p jobPage) ids() []string {
	var out []string
	for _, e := range p.Edges {
		out = append(out, e.Node.ID)
	}
	return out
}

func MustJobs(t *testing.T, srv *httptest.Server, vars map[string]any) jobPage {
	t.Helper()
	var got struct{ Jobs jobPage }
	MustQuery(t, srv, jobsQuery, vars, &got)
	return got.Jobs
}

// TestAPI_Jobs lists jobs a page at a time and cancels one through the
// API, and checks the permissions, errors and audit events of both.
func TestAPI_Jobs(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv, ids := MustServeJobs(t, db, allowAll, 3)

		p := MustJobs(t, srv, map[string]any{"first": 2})
		if got := p.ids(); fmt.Sprint(got) != fmt.Sprint(ids[:2]) || !p.PageInfo.HasNextPage || p.PageInfo.HasPreviousPage {
			t.Fatalf("first page %v, %+v; want %v and a next page", got, p.PageInfo, ids[:2])
		}
		n := p.Edges[0].Node
		if n.Kind != "sweep" || n.State != "AVAILABLE" || n.Queue != "default" || n.Attempt != 0 || n.MaxAttempts != 25 ||
			n.CreatedAt == "" || n.ScheduledAt == "" || n.AttemptedAt != nil || n.FinishedAt != nil || n.LastError != nil {
			t.Errorf("job %+v; want a sweep job waiting", n)
		}
		if n.Args["name"] != "sweep-0" || n.Args["token"] != audit.Redacted {
			t.Errorf("args %v; want the name, and the token redacted", n.Args)
		}
		next := MustJobs(t, srv, map[string]any{"first": 2, "after": *p.PageInfo.EndCursor})
		if got := next.ids(); fmt.Sprint(got) != fmt.Sprint(ids[2:]) || next.PageInfo.HasNextPage || !next.PageInfo.HasPreviousPage {
			t.Errorf("second page %v, %+v; want %v and no next page", got, next.PageInfo, ids[2:])
		}
		if code, _ := MustFail(t, srv, jobsQuery, map[string]any{"states": []string{"CANCELLED"}, "after": *p.PageInfo.EndCursor}); code != portal.EINVALID {
			t.Errorf("a cursor of other states: code %q; want INVALID", code)
		}
		wantCode(t, srv, "GRAPHQL_VALIDATION_FAILED", jobsQuery, map[string]any{"states": []string{"FINISHED"}}) // the enum's
		wantCode(t, srv, portal.EINVALID, jobsQuery, map[string]any{"first": 1001})

		var c struct{ CancelJob jobNode }
		MustQuery(t, srv, cancelJobMutation, map[string]any{"id": ids[1]}, &c)
		if c.CancelJob.ID != ids[1] || c.CancelJob.State != "CANCELLED" || c.CancelJob.FinishedAt == nil {
			t.Errorf("cancelJob returned %+v; want job %s cancelled", c.CancelJob, ids[1])
		}
		cancelled := MustJobs(t, srv, map[string]any{"states": []string{"CANCELLED"}})
		if got := cancelled.ids(); fmt.Sprint(got) != fmt.Sprint(ids[1:2]) {
			t.Errorf("cancelled jobs %v; want %v", got, ids[1:2])
		}
		if got := MustJobs(t, srv, nil).ids(); fmt.Sprint(got) != fmt.Sprint([]string{ids[0], ids[1], ids[2]}) {
			t.Errorf("jobs by default %v; want all three, the cancelled one too", got)
		}
		wantCode(t, srv, portal.ENOTFOUND, cancelJobMutation, map[string]any{"id": "99999"})
		wantCode(t, srv, portal.EINVALID, cancelJobMutation, map[string]any{"id": "seven"})

		// Another server over the same jobs, whose policy lets callers
		// read jobs and nothing else.
		reader, _ := MustServeJobs(t, db, "rules:\n  - name: read-jobs\n    allow: [jobs.job.read]\n    to: [anyone]\n", 0)
		if got := MustJobs(t, reader, nil).ids(); len(got) != 3 {
			t.Errorf("a reader lists %v; want the three jobs", got)
		}
		if code, msg := MustFail(t, reader, cancelJobMutation, map[string]any{"id": ids[0]}); code != portal.EFORBIDDEN || !strings.Contains(msg, "jobs.job.cancel") {
			t.Errorf("a reader cancels: %s %q; want FORBIDDEN naming jobs.job.cancel", code, msg)
		}
		nobody, _ := MustServeJobs(t, db, "rules:\n  - name: nothing\n    deny: [\"*\"]\n    to: [anyone]\n", 0)
		if code, msg := MustFail(t, nobody, jobsQuery, nil); code != portal.EFORBIDDEN || !strings.Contains(msg, "jobs.job.read") {
			t.Errorf("listing without jobs.job.read: %s %q; want FORBIDDEN naming it", code, msg)
		}
		// A server without a queue has no jobs to show.
		none := httptest.NewServer(server.New(serverOptions(t, db, nil, allowAll)))
		defer none.Close()
		wantCode(t, none, portal.EUNAVAILABLE, jobsQuery, nil)

		events, _, err := db.AuditEvents(context.Background(), audit.Filter{Actions: []string{"cancelJob"}}, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range events {
			got = append(got, fmt.Sprintf("%s %s(%s) %s %s", e.ActorKind, e.Action, e.Target, e.Outcome, e.ErrorCode))
		}
		want := []string{ // newest first
			"anonymous cancelJob(" + ids[0] + ") denied FORBIDDEN",
			"anonymous cancelJob(seven) error INVALID",
			"anonymous cancelJob(99999) error NOT_FOUND",
			"anonymous cancelJob(" + ids[1] + ") ok ",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("audit events\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
