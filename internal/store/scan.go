package store

import (
	"context"
	"fmt"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// ScanEntities returns, in ref order, up to limit of the entities f selects
// whose ref sorts after after ("" for the first), with their relations
// (outgoing, ordered by source, type and target): the whole of each entity,
// for an export that reads the catalog page by page. It reads past the
// read cache, in two statements, so that an export of the whole catalog
// neither evicts what the API's readers keep warm nor is held in memory.
func (db *DB) ScanEntities(ctx context.Context, f catalog.EntityFilter, after string, limit int) ([]*catalog.Record, []catalog.RelationRow, error) {
	cond, args := db.filterSQL(&f)
	recs, err := scanRecords(db.r.QueryContext(ctx, db.r.Rebind(`SELECT `+recordColumns+` FROM entities e
		WHERE e.ref > ? AND `+cond+` ORDER BY e.ref LIMIT ?`), append(append([]any{after}, args...), limit)...))
	if err != nil {
		return nil, nil, fmt.Errorf("store: scan entities: %w", formatError(err))
	}
	refs := make([]string, len(recs))
	for i, r := range recs {
		refs[i] = r.Ref
	}
	rels, err := db.relationsBy(ctx, "source_ref", refs, nil)
	if err != nil {
		return nil, nil, err
	}
	return recs, rels, nil
}
