package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// AppendDocument appends the entity ref as Backstage's REST API returns it:
// its stored document data, as it is, with rels (the relations it is the
// source of, in their order) appended as "relations": [{type, targetRef}].
// No part of it is decoded: the REST API's lists and GraphQL's
// Entity.document write whole entities at the speed of copying bytes.
func AppendDocument(dst []byte, ref string, data []byte, rels []RelationRow) ([]byte, error) {
	head, err := documentHead(ref, data)
	if err != nil {
		return dst, err
	}
	return appendRelations(append(dst, head...), head, rels), nil
}

// DocumentParts returns the document AppendDocument appends in two parts:
// head, the stored document up to its closing brace (a slice of data), and
// tail, its relations and the brace. Writing them one after the other
// spares copying the document, the bulk of the bytes, into a buffer of
// its own first.
func DocumentParts(ref string, data []byte, rels []RelationRow) (head, tail []byte, err error) {
	if head, err = documentHead(ref, data); err != nil {
		return nil, nil, err
	}
	// One allocation: relations take some 60 bytes each.
	return head, appendRelations(make([]byte, 0, len(rels)*64+16), head, rels), nil
}

// documentHead returns the stored document up to its closing brace.
func documentHead(ref string, data []byte) ([]byte, error) {
	doc := bytes.TrimRight(data, " \t\r\n")
	if len(doc) < 2 || doc[len(doc)-1] != '}' {
		return nil, fmt.Errorf("catalog: stored entity %s is not a JSON object", ref)
	}
	return doc[:len(doc)-1], nil
}

// appendRelations appends what follows a document's head: its relations
// and the closing brace.
func appendRelations(dst, head []byte, rels []RelationRow) []byte {
	if len(bytes.TrimSpace(head[1:])) > 0 {
		dst = append(dst, ',')
	}
	dst = append(dst, `"relations":[`...)
	for i, r := range rels {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"type":`...)
		dst = appendJSONString(dst, r.Type)
		dst = append(dst, `,"targetRef":`...)
		dst = appendJSONString(dst, r.Target)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// appendJSONString appends s as a JSON string: as it is when nothing in it
// needs escaping, as refs and relation types never do.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c > 0x7e {
			data, _ := json.Marshal(s) // a string always marshals
			return append(dst, data...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
