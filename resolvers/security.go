package resolvers

import (
	"context"
	"time"

	"github.com/greenroomhq/greenroom/graph/model"
	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/gqltype"
	"github.com/greenroomhq/greenroom/internal/portal"
)

var principalKinds = map[portal.PrincipalKind]model.PrincipalKind{
	portal.PrincipalUser:      model.PrincipalKindUser,
	portal.PrincipalService:   model.PrincipalKindService,
	portal.PrincipalAnonymous: model.PrincipalKindAnonymous,
}

// auditPosition is where a page of audit events stands: the id of its last
// event, since ids sort by time.
type auditPosition struct {
	ID string `json:"i"`
}

func auditEvents(ctx context.Context, acc Access, filter *model.AuditEventFilter, first *int, after *string) (*model.AuditEventConnection, error) {
	limit, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	var f audit.Filter
	if filter != nil {
		f = audit.Filter{Actors: filter.Actors, Actions: filter.Actions, Outcomes: filter.Outcomes, Targets: filter.Targets}
		if f.Since, err = timeArg("since", filter.Since); err != nil {
			return nil, err
		}
		if f.Until, err = timeArg("until", filter.Until); err != nil {
			return nil, err
		}
	}
	digest := gqltype.QueryDigest("auditEvents", f)
	var pos auditPosition
	if after != nil {
		if pos, err = gqltype.DecodeCursor[auditPosition](*after, digest); err != nil {
			return nil, err
		}
	}
	events, more, err := acc.AuditEvents(ctx, f, pos.ID, limit)
	if err != nil {
		return nil, err
	}
	conn := &model.AuditEventConnection{Edges: make([]*model.AuditEventEdge, len(events))}
	cursors := make([]string, len(events))
	for i := range events {
		cursors[i] = gqltype.EncodeCursor(auditPosition{events[i].ID}, digest)
		conn.Edges[i] = &model.AuditEventEdge{Cursor: cursors[i], Node: &events[i]}
	}
	conn.PageInfo = gqltype.NewPageInfo(cursors, more, after != nil)
	return conn, nil
}

// timeArg parses an RFC 3339 argument. Returns EINVALID when it is not one.
func timeArg(name string, s *string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return nil, portal.Errorf(portal.EINVALID, "%s must be an RFC 3339 time such as 2026-11-25T08:00:00Z, got %q", name, *s)
	}
	return &t, nil
}
