package restapi

import (
	"bytes"
	"encoding/json"
	"strings"
)

// appendPruned appends the JSON object doc pruned to the subtrees that
// fields name (backstage-spec.md §2.8), or reports false if doc is not an
// object. Each field is a dotted path resolved as Backstage's
// getPathArrayAndValue does: a segment that is not a key of the object at
// hand is joined to the next one, so
// metadata.annotations.backstage.io/techdocs-ref names one annotation; a
// field that names nothing adds nothing, not even the objects on its way.
//
// Values are copied as the bytes they are, keys as they are written, in
// the document's order, and only the objects a field reaches into are
// split into members: decoding into maps and marshalling again made a page
// of 500 entities pruned to kind and name twice as slow as the same page
// whole (9.6 ms against 4.4 ms at 10k on SQLite).
func appendPruned(dst, doc []byte, fields []string) ([]byte, bool) {
	ms, ok := splitObject(doc)
	if !ok {
		return dst, false
	}
	return appendMembers(dst, ms, fields), true
}

// appendMembers appends the object made of the members of ms that paths
// reach.
func appendMembers(dst []byte, ms []member, paths []string) []byte {
	// whole[i] is set when a path names member i itself; inner[i] holds the
	// rest of the paths that go through it.
	whole := make([]bool, len(ms))
	inner := make([][]string, len(ms))
	for _, p := range paths {
		i, rest := resolve(ms, p)
		switch {
		case i < 0:
		case rest == "":
			whole[i] = true
		default:
			inner[i] = append(inner[i], rest)
		}
	}
	dst = append(dst, '{')
	empty := len(dst)
	for i, m := range ms {
		if !whole[i] && inner[i] == nil {
			continue
		}
		mark := len(dst)
		if mark > empty {
			dst = append(dst, ',')
		}
		dst = append(dst, m.rawKey...)
		dst = append(dst, ':')
		if whole[i] {
			dst = append(dst, m.value...)
			continue
		}
		kids, ok := splitObject(m.value)
		if !ok {
			dst = dst[:mark] // a path through a value that is not an object
			continue
		}
		before := len(dst)
		dst = appendMembers(dst, kids, inner[i])
		if len(dst) == before+2 { // {}: nothing below was reached
			dst = dst[:mark]
		}
	}
	return append(dst, '}')
}

// resolve finds the member that path starts with, joining segments that
// are not keys to the next one, and returns its index and the rest of the
// path after it, or -1 when no member is named.
func resolve(ms []member, path string) (int, string) {
	end := 0
	for {
		dot := strings.IndexByte(path[end:], '.')
		if dot < 0 {
			return find(ms, path), ""
		}
		end += dot
		if i := find(ms, path[:end]); i >= 0 {
			return i, path[end+1:]
		}
		end++
	}
}

func find(ms []member, key string) int {
	for i := range ms {
		if ms[i].key == key {
			return i
		}
	}
	return -1
}

// member is one member of a JSON object: its key decoded, its key as
// written (with quotes) and its value's bytes.
type member struct {
	key    string
	rawKey []byte
	value  []byte
}

// splitObject splits a JSON object into its members, skipping over the
// values without decoding them, or reports false if doc is not a
// well-formed object.
func splitObject(doc []byte) ([]member, bool) {
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return nil, false
	}
	var ms []member
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		return ms, true
	}
	for i < len(doc) {
		keyEnd, ok := skipString(doc, i)
		if !ok {
			return nil, false
		}
		rawKey := doc[i:keyEnd]
		key := string(rawKey[1 : len(rawKey)-1])
		if bytes.IndexByte(rawKey, '\\') >= 0 && json.Unmarshal(rawKey, &key) != nil {
			return nil, false
		}
		i = skipSpace(doc, keyEnd)
		if i >= len(doc) || doc[i] != ':' {
			return nil, false
		}
		start := skipSpace(doc, i+1)
		end, ok := skipValue(doc, start)
		if !ok {
			return nil, false
		}
		ms = append(ms, member{key: key, rawKey: rawKey, value: doc[start:end]})
		i = skipSpace(doc, end)
		if i >= len(doc) {
			break
		}
		switch doc[i] {
		case '}':
			return ms, true
		case ',':
			i = skipSpace(doc, i+1)
		default:
			return nil, false
		}
	}
	return nil, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at i.
func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return i, false
}

// skipValue returns the index just past the value starting at i. Only
// strings and brackets are followed: the stored documents are valid JSON,
// written by the store, so scalars need not be checked, only delimited.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return i, false
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return i, false
	default:
		start := i
		for i < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[i])) {
			i++
		}
		return i, i > start
	}
}
