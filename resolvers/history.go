package resolvers

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/greenroomhq/greenroom/graph/model"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/gqltype"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// History is what resolvers read of entities' histories; the service
// applies the read policy (see internal/access).
type History interface {
	// EntityHistory returns the versions of an entity (canonical ref),
	// newest first, numbered below before (0: the newest), at most
	// limit. Returns ENOTFOUND for an entity the caller may not read.
	EntityHistory(ctx context.Context, ref string, before int64, limit int) ([]catalog.Version, error)
	// EntityAsOf returns the version in force at t. Returns ENOTFOUND when
	// there was none, or the entity was deleted then.
	EntityAsOf(ctx context.Context, ref string, t time.Time) (*catalog.Version, error)
}

// entityHistory answers CatalogEntity.history.
func entityHistory(ctx context.Context, r *Resolver, obj gqltype.Node, first *int, after *string) (*model.EntityVersionConnection, error) {
	return historyPage(ctx, r, obj.Record().Ref, first, after)
}

// historyPage reads a page of an entity's versions, and one more: the
// version before the page's last, which its changes are counted from, and
// which says whether another page follows.
func historyPage(ctx context.Context, r *Resolver, ref string, first *int, after *string) (*model.EntityVersionConnection, error) {
	if first == nil {
		n := 20
		first = &n
	}
	limit, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	var before int64
	if after != nil && *after != "" {
		if before, err = strconv.ParseInt(strings.TrimSpace(*after), 10, 64); err != nil || before == 0 {
			return nil, portal.Errorf(portal.EINVALID, "%q is not a cursor of a version", *after)
		}
	}
	versions, err := r.History.EntityHistory(ctx, ref, before, limit+1)
	if err != nil {
		return nil, err
	}
	page := versions[:min(limit, len(versions))]
	out := &model.EntityVersionConnection{Edges: make([]*model.EntityVersionEdge, len(page))}
	cursors := make([]string, len(page))
	for i := range page {
		var prev []byte
		if i+1 < len(versions) {
			prev = versions[i+1].Data
		}
		cursors[i] = strconv.FormatInt(page[i].Seq, 10)
		out.Edges[i] = &model.EntityVersionEdge{Cursor: cursors[i], Node: versionOf(&page[i], prev)}
	}
	out.PageInfo = gqltype.NewPageInfo(cursors, len(versions) > limit, before != 0)
	return out, nil
}

// versionOf is a version as the schema shows it, its changes counted from
// prev, the version before it (nil for none).
func versionOf(v *catalog.Version, prev []byte) *model.EntityVersion {
	out := &model.EntityVersion{
		Operation: model.CatalogChangeOperation(v.Op), At: v.At.UTC().Format(time.RFC3339Nano),
		Actor: optional(v.Actor), Etag: optional(v.Etag), LocationID: optional(v.LocationID),
		Changes: []*model.FieldChange{},
	}
	if v.Data != nil {
		out.Raw = json.RawMessage(v.Data)
	}
	for _, c := range catalog.Diff(prev, v.Data) {
		out.Changes = append(out.Changes, &model.FieldChange{Path: c.Path, Before: c.Before, After: c.After})
	}
	return out
}

// entityAsOf answers entity(ref, asOf): the entity as its history has it
// at t, or nil when it did not exist then.
func entityAsOf(ctx context.Context, r *Resolver, ref string, t time.Time) (gqltype.Node, error) {
	v, err := r.History.EntityAsOf(ctx, ref, t)
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rec, err := v.Record()
	if err != nil || rec == nil {
		return nil, err
	}
	return gqltype.Wrap(rec), nil
}
