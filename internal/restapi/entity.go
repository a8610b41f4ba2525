package restapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// appendEntity appends the entity as Backstage serves it: the stored
// document, as stored, with its relations (ordered by type then target)
// appended as {type, targetRef}; with fields, pruned to them.
func appendEntity(dst []byte, rec *catalog.Record, rels []catalog.RelationRow, fields []string) ([]byte, error) {
	if len(fields) == 0 {
		return catalog.AppendDocument(dst, rec.Ref, rec.Data, rels)
	}
	doc := rec.Data
	if wantsRelations(fields) {
		var err error
		if doc, err = catalog.AppendDocument(nil, rec.Ref, rec.Data, rels); err != nil {
			return dst, err
		}
	}
	out, ok := appendPruned(dst, doc, fields)
	if !ok {
		return dst, fmt.Errorf("restapi: stored entity %s is not a JSON object", rec.Ref)
	}
	return out, nil
}

// wantsRelations reports whether fields reach the relations, which the
// stored document does not hold: without them a page need not read its
// relations at all.
func wantsRelations(fields []string) bool {
	return len(fields) == 0 || slices.ContainsFunc(fields, func(f string) bool {
		return f == "relations" || strings.HasPrefix(f, "relations.")
	})
}
