package catalog

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// maxTextProblems bounds the problems one document's text reports, so that
// a document of a million bad strings makes a handful of errors.
const maxTextProblems = 10

// IsStorableText reports whether s can be part of an entity: valid UTF-8
// without the NUL character. PostgreSQL can store neither a NUL nor
// invalid UTF-8 in text or jsonb; SQLite could, but the catalog's rules
// are the same on both databases, and clients decoding JSON expect UTF-8.
func IsStorableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// textProblems reports every string of doc, keys included and at any
// depth, that is not [IsStorableText], at most maxTextProblems of them.
// Keys are visited in order, so that the same document reports the same
// problems.
func textProblems(doc map[string]any) []Problem {
	var problems []Problem
	var walk func(v any, path string)
	check := func(s, path, what string) {
		if len(problems) == maxTextProblems || IsStorableText(s) {
			return
		}
		reason := "holds a NUL character (\\u0000)"
		if !utf8.ValidString(s) {
			reason = "is not valid UTF-8"
		}
		problems = append(problems, Problem{Path: path,
			Message: fmt.Sprintf("The %s at %q %s, which the catalog does not store", what, path, reason)})
	}
	walk = func(v any, path string) {
		switch v := v.(type) {
		case string:
			check(v, path, "value")
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p := k
				if path != "" {
					p = path + "." + k
				}
				check(k, p, "key")
				walk(v[k], p)
			}
		case []any:
			for i, item := range v {
				walk(item, indexPath(path, i))
			}
		}
	}
	walk(doc, "")
	return problems
}
