package restapi

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// parseFilter reads Backstage's filter parameters (backstage-spec.md §2.8):
// each parameter is a set of conditions, and the sets are OR-ed; the
// comma-separated conditions of a set are AND-ed, those on the same key
// OR-ed. A condition is key (the field exists) or key=value, split at the
// first =, both sides trimmed. No parameter selects every entity.
func parseFilter(params []string) (catalog.EntityFilter, error) {
	var sets []catalog.EntityFilter
	for _, p := range params {
		var set catalog.EntityFilter
		index := map[string]int{} // key, lower-cased → its FieldFilter
		for _, cond := range strings.Split(p, ",") {
			key, value, hasValue := strings.Cut(cond, "=")
			key, value = strings.TrimSpace(key), strings.TrimSpace(value)
			if key == "" {
				if strings.TrimSpace(cond) == "" {
					continue
				}
				return catalog.EntityFilter{}, invalid("Invalid filter, %q is not a valid statement (expected a string on the form a=b or a= or a)", cond)
			}
			i, seen := index[strings.ToLower(key)]
			if !seen {
				i = len(set.Fields)
				index[strings.ToLower(key)] = i
				set.Fields = append(set.Fields, catalog.FieldFilter{Key: key})
			}
			if hasValue {
				set.Fields[i].Values = append(set.Fields[i].Values, value)
			}
		}
		if len(set.Fields) > 0 {
			sets = append(sets, set)
		}
	}
	switch len(sets) {
	case 0:
		return catalog.EntityFilter{}, nil
	case 1:
		return sets[0], nil
	}
	return catalog.EntityFilter{Or: sets}, nil
}

// commaList reads repeated parameters that each hold a comma-separated
// list, trimmed, empty items dropped.
func commaList(params []string) []string {
	var out []string
	for _, p := range params {
		for _, item := range strings.Split(p, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// parseFields reads the fields parameters: the paths each entity is pruned
// to, none for the whole entity.
func parseFields(params []string) ([]string, error) {
	fields := commaList(params)
	for _, f := range fields {
		if strings.Contains(f, "[") {
			return nil, invalid("Array type fields are not supported")
		}
	}
	return fields, nil
}

// intParam reads a parameter that must be a whole number in [min, max]
// when present; def is its value when absent.
func intParam(q url.Values, name string, def, min, max int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, invalid("Invalid %s, %q is not a whole number from %d to %d", name, s, min, max)
	}
	return n, nil
}

// encodeCursor and decodeCursor write and read a cursor: base64 of JSON,
// as Backstage's cursors are. A cursor only carries the caller's own
// request onward: the read policy is applied afresh to every page.
func encodeCursor(v any) string {
	data, _ := json.Marshal(v) // cursors are plain structs
	return base64.StdEncoding.EncodeToString(data)
}

func decodeCursor(s string, v any) error {
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if data, err = base64.URLEncoding.DecodeString(s); err != nil {
			return invalid("Malformed cursor: not base64")
		}
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("Malformed cursor: not a cursor of this server")
	}
	return nil
}
