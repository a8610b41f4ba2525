package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// AppendDocument appends the entity ref as Backstage's REST API returns it:
// its stored document data, as it is, with rels (the relations it is the
// source of, in their order) appended as "relations": [{type, targetRef}].
// No part of it is decoded: the REST API's lists and GraphQL's
// Entity.document write whole entities at the speed of copying bytes.
func AppendDocument(dst []byte, ref string, data []byte, rels []RelationRow) ([]byte, error) {
	doc := bytes.TrimRight(data, " \t\r\n")
	if len(doc) < 2 || doc[len(doc)-1] != '}' {
		return dst, fmt.Errorf("catalog: stored entity %s is not a JSON object", ref)
	}
	// One allocation for the whole: relations take some 60 bytes each.
	dst = slices.Grow(dst, len(doc)+len(rels)*64+16)
	dst = append(dst, doc[:len(doc)-1]...)
	if len(bytes.TrimSpace(doc[1:len(doc)-1])) > 0 {
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
	return append(dst, "]}"...), nil
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
