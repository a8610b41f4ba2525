package restapi

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// appendEntity appends the entity as Backstage serves it: the stored
// document, as stored, with its relations (ordered by type then target)
// appended as {type, targetRef}. Only with fields is it decoded, to prune
// it to them.
func appendEntity(dst []byte, rec *catalog.Record, rels []catalog.RelationRow, fields []string) ([]byte, error) {
	if len(fields) > 0 {
		data, err := pruned(rec, rels, fields)
		if err != nil {
			return dst, err
		}
		return append(dst, data...), nil
	}
	return catalog.AppendDocument(dst, rec.Ref, rec.Data, rels)
}

// relation is a relation as Backstage lists it in an entity.
type relation struct {
	Type      string `json:"type"`
	TargetRef string `json:"targetRef"`
}

// pruned returns the entity with only the subtrees that fields name
// (backstage-spec.md §2.8): each a dotted path, whose segments are matched
// greedily against keys that hold dots, so that
// metadata.annotations.backstage.io/techdocs-ref names one annotation.
func pruned(rec *catalog.Record, rels []catalog.RelationRow, fields []string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(rec.Data, &doc); err != nil {
		return nil, fmt.Errorf("restapi: decode stored entity %s: %w", rec.Ref, err)
	}
	rs := make([]any, len(rels))
	for i, r := range rels {
		rs[i] = relation{Type: r.Type, TargetRef: r.Target}
	}
	doc["relations"] = rs
	out := map[string]any{}
	for _, f := range fields {
		copyPath(doc, out, strings.Split(f, "."))
	}
	return json.Marshal(out)
}

// copyPath copies the value at parts from from into to, making the objects
// on its way.
func copyPath(from, to map[string]any, parts []string) {
	for end := len(parts); end > 0; end-- {
		key := strings.Join(parts[:end], ".")
		v, ok := from[key]
		if !ok {
			continue
		}
		if end == len(parts) {
			to[key] = v
			return
		}
		sub, ok := v.(map[string]any)
		if !ok {
			return
		}
		next, ok := to[key].(map[string]any)
		if !ok {
			if _, whole := to[key]; whole {
				return // an earlier field copied the whole subtree
			}
			next = map[string]any{}
			to[key] = next
		}
		copyPath(sub, next, parts[end:])
		return
	}
}
