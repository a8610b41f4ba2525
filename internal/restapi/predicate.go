package restapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// Bounds of a predicate query: its nesting, and how many expressions it
// may hold, so that a hostile body costs bounded SQL.
const (
	maxPredicateDepth = 32
	maxPredicateNodes = 1000
)

// parsePredicate reads the query of a POST body, Backstage's predicate
// language (backstage-spec.md §2.9): {"$all": [...]}, {"$any": [...]},
// {"$not": p}, or an object of field expressions, AND-ed, each a
// primitive (equal), {"$exists": bool}, {"$in": [primitives]},
// {"$hasPrefix": string} or {"$contains": primitive} (an array field
// holding it), and on the key relations {"$contains": {"type": t,
// "targetRef": ref or {"$in": [refs]}}}. Keys and values compare
// case-insensitively. An empty $all matches every entity, an empty $any
// none. An absent or null query selects every entity.
func parsePredicate(raw json.RawMessage) (catalog.EntityFilter, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return catalog.EntityFilter{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return catalog.EntityFilter{}, invalid("Invalid filter predicate: %s", bodyError(err))
	}
	p := &predicateParser{}
	return p.predicate(v, 0)
}

type predicateParser struct{ nodes int }

// never matches no entity: NOT of the filter that matches all.
var never = catalog.EntityFilter{Not: &catalog.EntityFilter{}}

func (p *predicateParser) predicate(v any, depth int) (catalog.EntityFilter, error) {
	p.nodes++
	if depth > maxPredicateDepth {
		return catalog.EntityFilter{}, invalid("Invalid filter predicate: nested deeper than %d levels", maxPredicateDepth)
	}
	if p.nodes > maxPredicateNodes {
		return catalog.EntityFilter{}, invalid("Invalid filter predicate: more than %d expressions", maxPredicateNodes)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		if _, prim := primitive(v); prim {
			return catalog.EntityFilter{}, invalid("Invalid filter predicate: top-level primitive values are not supported. Wrap the value in a field expression, e.g. { \"kind\": %s }", jsonText(v))
		}
		return catalog.EntityFilter{}, invalid("Invalid filter predicate: expected an object, got %s", jsonText(v))
	}
	if sub, ok := obj["$not"]; ok {
		if len(obj) != 1 {
			return catalog.EntityFilter{}, invalid("Invalid filter predicate: $not must be alone in its object")
		}
		f, err := p.predicate(sub, depth+1)
		if err != nil {
			return f, err
		}
		return catalog.EntityFilter{Not: &f}, nil
	}
	for _, op := range []string{"$all", "$any"} {
		sub, ok := obj[op]
		if !ok {
			continue
		}
		list, isList := sub.([]any)
		if !isList || len(obj) != 1 {
			return catalog.EntityFilter{}, invalid("Invalid filter predicate: %s must be alone in its object and hold an array", op)
		}
		fs := make([]catalog.EntityFilter, len(list))
		for i, item := range list {
			f, err := p.predicate(item, depth+1)
			if err != nil {
				return f, err
			}
			fs[i] = f
		}
		switch {
		case op == "$all":
			return catalog.EntityFilter{And: fs}, nil
		case len(fs) == 0:
			return never, nil
		}
		return catalog.EntityFilter{Or: fs}, nil
	}
	var f catalog.EntityFilter
	for _, key := range slices.Sorted(maps.Keys(obj)) { // the same SQL for the same query
		value := obj[key]
		if strings.HasPrefix(key, "$") {
			return catalog.EntityFilter{}, invalid("Invalid filter predicate: unknown operator %s", key)
		}
		if strings.TrimSpace(key) == "" || strings.Contains(key, "[") {
			return catalog.EntityFilter{}, invalid("Invalid filter predicate: %q is not a field", key)
		}
		e, err := p.field(key, value)
		if err != nil {
			return e, err
		}
		f.And = append(f.And, e)
	}
	return f, nil
}

// field reads one field expression.
func (p *predicateParser) field(key string, v any) (catalog.EntityFilter, error) {
	p.nodes++
	bad := func() (catalog.EntityFilter, error) {
		return catalog.EntityFilter{}, invalid("Invalid filter predicate value for field %q: expected a primitive value, $exists, $in, $hasPrefix or $contains, but got %s", key, jsonText(v))
	}
	equal := func(values ...string) catalog.EntityFilter {
		return catalog.EntityFilter{Fields: []catalog.FieldFilter{{Key: key, Values: values}}}
	}
	if s, ok := primitive(v); ok {
		return equal(s), nil
	}
	obj, ok := v.(map[string]any)
	if !ok || len(obj) != 1 {
		return bad()
	}
	for op, arg := range obj {
		switch op {
		case "$exists":
			b, ok := arg.(bool)
			if !ok {
				return bad()
			}
			if b {
				return equal(), nil
			}
			exists := equal()
			return catalog.EntityFilter{Not: &exists}, nil
		case "$in":
			values, ok := primitives(arg)
			if !ok {
				return bad()
			}
			if len(values) == 0 {
				return never, nil
			}
			p.nodes += len(values)
			return equal(values...), nil
		case "$hasPrefix":
			s, ok := arg.(string)
			if !ok {
				return bad()
			}
			return catalog.EntityFilter{Fields: []catalog.FieldFilter{{Key: key, Values: []string{s}, Match: catalog.MatchPrefix}}}, nil
		case "$contains":
			if s, ok := primitive(arg); ok {
				return equal(s), nil
			}
			if strings.EqualFold(key, "relations") {
				return p.relation(arg)
			}
		}
	}
	return bad()
}

// relation reads {"type": t, "targetRef": ref | {"$in": [refs]}}, the
// $contains of the key relations.
func (p *predicateParser) relation(v any) (catalog.EntityFilter, error) {
	bad := catalog.EntityFilter{}
	obj, ok := v.(map[string]any)
	typ, typOK := obj["type"].(string)
	if !ok || !typOK || strings.TrimSpace(typ) == "" || len(obj) > 2 {
		return bad, invalid(`Invalid filter predicate: $contains on relations takes {"type": "<type>", "targetRef": "<ref>" or {"$in": [...]}}, got %s`, jsonText(v))
	}
	ff := catalog.FieldFilter{Key: "relations." + typ}
	if target, ok := obj["targetRef"]; ok {
		switch t := target.(type) {
		case string:
			ff.Values = []string{t}
		case map[string]any:
			values, ok := primitives(t["$in"])
			if !ok || len(t) != 1 {
				return bad, invalid(`Invalid filter predicate: targetRef takes a string or {"$in": [...]}, got %s`, jsonText(target))
			}
			if len(values) == 0 {
				return never, nil
			}
			p.nodes += len(values)
			ff.Values = values
		default:
			return bad, invalid(`Invalid filter predicate: targetRef takes a string or {"$in": [...]}, got %s`, jsonText(target))
		}
	} else if len(obj) != 1 {
		return bad, invalid(`Invalid filter predicate: $contains on relations takes {"type": "<type>", "targetRef": "<ref>" or {"$in": [...]}}, got %s`, jsonText(v))
	}
	return catalog.EntityFilter{Fields: []catalog.FieldFilter{ff}}, nil
}

// primitive returns a string, number or boolean as the text Backstage
// compares (JavaScript's String(v)).
func primitive(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return fmt.Sprint(x), true
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String(), true
		}
		return jsNumber(f), true
	}
	return "", false
}

func primitives(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(list))
	for i, item := range list {
		if out[i], ok = primitive(item); !ok {
			return nil, false
		}
	}
	return out, true
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 200 {
		return "a value"
	}
	return string(b)
}

// jsNumber writes f as JavaScript's String(f) does: plain decimals from
// 1e-7 up to 1e21, exponent notation outside.
func jsNumber(f float64) string {
	if a := math.Abs(f); a != 0 && (a >= 1e21 || a < 1e-6) {
		s := strconv.FormatFloat(f, 'e', -1, 64) // 1.5e-07
		mant, exp, _ := strings.Cut(s, "e")
		sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
		return mant + "e" + sign + digits
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
