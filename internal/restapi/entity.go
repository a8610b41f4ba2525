package restapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
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
// The document is decoded only as deep as the fields reach, and the values
// they name are copied as the bytes they are: decoding it whole into maps
// made a page of 500 entities pruned to kind and name slower than the
// same page whole.
func pruned(rec *catalog.Record, rels []catalog.RelationRow, fields []string) ([]byte, error) {
	doc := &rawNode{raw: rec.Data}
	if doc.members() == nil {
		return nil, fmt.Errorf("restapi: stored entity %s is not a JSON object", rec.Ref)
	}
	if slices.ContainsFunc(fields, func(f string) bool { return f == "relations" || strings.HasPrefix(f, "relations.") }) {
		rs := make([]relation, len(rels))
		for i, r := range rels {
			rs[i] = relation{Type: r.Type, TargetRef: r.Target}
		}
		data, err := json.Marshal(rs)
		if err != nil {
			return nil, err
		}
		doc.kids["relations"] = &rawNode{raw: data}
	}
	out := map[string]any{}
	for _, f := range fields {
		copyPath(doc, out, strings.Split(f, "."))
	}
	return json.Marshal(out)
}

// rawNode is a JSON value, decoded into its members only when a field
// reaches into it.
type rawNode struct {
	raw  json.RawMessage
	kids map[string]*rawNode
}

// members returns the members of an object, or nil for any other value.
func (n *rawNode) members() map[string]*rawNode {
	if n.kids == nil && bytes.HasPrefix(bytes.TrimLeft(n.raw, " \t\r\n"), []byte("{")) {
		var m map[string]json.RawMessage
		if json.Unmarshal(n.raw, &m) != nil {
			return nil
		}
		n.kids = make(map[string]*rawNode, len(m))
		for k, v := range m {
			n.kids[k] = &rawNode{raw: v}
		}
	}
	return n.kids
}

// copyPath copies the value at parts from from into to, making the objects
// on its way.
func copyPath(from *rawNode, to map[string]any, parts []string) {
	kids := from.members()
	for end := len(parts); end > 0; end-- {
		key := strings.Join(parts[:end], ".")
		v, ok := kids[key]
		if !ok {
			continue
		}
		if end == len(parts) {
			to[key] = v.raw
			return
		}
		if v.members() == nil {
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
		copyPath(v, next, parts[end:])
		return
	}
}
