package resolvers

import (
	"context"
	"strings"
	"time"

	"github.com/greenroomhq/greenroom/graph/model"
	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/gqltype"
)

// jobPosition is where a page of jobs stands: the id of its last job.
type jobPosition struct {
	ID int64 `json:"id"`
}

// jobs returns the page of jobs in states after the cursor after.
func jobs(ctx context.Context, svc Jobs, states []model.JobState, first *int, after *string) (*model.JobConnection, error) {
	limit, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	q := app.JobQuery{Limit: limit}
	for _, s := range states {
		q.States = append(q.States, app.JobState(strings.ToLower(string(s))))
	}
	digest := gqltype.QueryDigest("jobs", q.States)
	if after != nil {
		pos, err := gqltype.DecodeCursor[jobPosition](*after, digest)
		if err != nil {
			return nil, err
		}
		q.After = pos.ID
	}
	page, more, err := svc.List(ctx, q)
	if err != nil {
		return nil, err
	}
	conn := &model.JobConnection{Edges: make([]*model.JobEdge, len(page))}
	cursors := make([]string, len(page))
	for i := range page {
		cursors[i] = gqltype.EncodeCursor(jobPosition{page[i].ID}, digest)
		conn.Edges[i] = &model.JobEdge{Cursor: cursors[i], Node: &page[i]}
	}
	conn.PageInfo = gqltype.NewPageInfo(cursors, more, after != nil)
	return conn, nil
}

// rfc3339 writes a time as the API does, in UTC; nil stays null.
func rfc3339(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}
