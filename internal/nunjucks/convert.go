package nunjucks

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Conversions across the boundary: Go data into template values, template
// values back into plain Go values, and JSON.stringify for dump.

// fromGoRecord converts the render context. Its size is the caller's
// business: unlike a filter's result, it does not spend the step budget.
func (r *run) fromGoRecord(data map[string]any) *record {
	rec, _ := r.fromGo(data, 0, false).(*record)
	if rec == nil {
		rec = newRecord(nil)
	}
	return rec
}

// fromGo converts plain Go data, spending a step per value when charge is
// set. Only the listed types are accepted: there is no reflection into
// arbitrary Go values.
func (r *run) fromGo(v any, depth int, charge bool) value {
	r.checkValueDepth(depth)
	if charge {
		r.step(1)
	}
	switch x := v.(type) {
	case nil:
		return null
	case bool:
		return x
	case string:
		return x
	case float64:
		return x
	case float32:
		return float64(x)
	case int:
		return float64(x)
	case int8:
		return float64(x)
	case int16:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case uint:
		return float64(x)
	case uint8:
		return float64(x)
	case uint16:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	case json.Number:
		return stringToNumber(string(x))
	case []any:
		items := make([]value, len(x))
		for i, it := range x {
			items[i] = r.fromGo(it, depth+1, charge)
		}
		return newArray(items)
	case []string:
		items := make([]value, len(x))
		for i, it := range x {
			items[i] = it
		}
		if charge {
			r.step(len(x))
		}
		return newArray(items)
	case []map[string]any:
		items := make([]value, len(x))
		for i, it := range x {
			items[i] = r.fromGo(it, depth+1, charge)
		}
		return newArray(items)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		entries := make([]entry, len(keys))
		for i, k := range keys {
			entries[i] = entry{k, r.fromGo(x[k], depth+1, charge)}
		}
		return newRecord(entries)
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		entries := make([]entry, len(keys))
		for i, k := range keys {
			entries[i] = entry{k, x[k]}
		}
		if charge {
			r.step(len(x))
		}
		return newRecord(entries)
	}
	r.fail("unsupported Go value of type %T", v)
	return nil
}

// toGo converts a template value to plain Go data: undefined and null
// become nil (undefined record entries are left out, as JSON.stringify
// does), safe strings and regular expressions strings. Callables cannot
// leave the interpreter.
func (r *run) toGo(v value, depth int) any {
	r.checkValueDepth(depth)
	r.step(1)
	switch x := v.(type) {
	case nil, nullType:
		return nil
	case bool:
		return x
	case float64:
		return x
	case string:
		return validUTF8(x)
	case *safeString:
		return validUTF8(x.s)
	case *regexValue:
		return x.lit.String()
	case *array:
		out := make([]any, len(x.items))
		for i, it := range x.items {
			out[i] = r.toGo(it, depth+1)
		}
		return out
	case *record:
		out := make(map[string]any, len(x.keys))
		for i, k := range x.keys {
			if it := x.vals[i]; it != nil {
				out[validUTF8(k)] = r.toGo(it, depth+1)
			}
		}
		return out
	}
	r.fail("callable values cannot be passed out of the template")
	return nil
}

// stringify is JSON.stringify(v, null, indent); ok is false when the
// result is undefined (for undefined itself).
func (r *run) stringify(v value, indent string) (string, bool) {
	if v == nil {
		return "", false
	}
	var b strings.Builder
	r.writeJSON(&b, v, indent, "", 0)
	r.chargeString(b.Len())
	return b.String(), true
}

func (r *run) writeJSON(b *strings.Builder, v value, indent, prefix string, depth int) {
	r.checkValueDepth(depth)
	r.step(1)
	r.checkLen(b.Len())
	switch x := v.(type) {
	case nil, nullType:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteString("null")
		} else {
			b.WriteString(formatNumber(x))
		}
	case string:
		writeJSONString(b, x)
	case *safeString:
		writeJSONString(b, x.s)
	case *regexValue:
		b.WriteString("{}")
	case *array:
		if len(x.items) == 0 {
			b.WriteString("[]")
			return
		}
		inner := prefix + indent
		b.WriteByte('[')
		for i, it := range x.items {
			if i > 0 {
				b.WriteByte(',')
			}
			if indent != "" {
				b.WriteString("\n" + inner)
			}
			r.writeJSON(b, it, indent, inner, depth+1)
		}
		if indent != "" {
			b.WriteString("\n" + prefix)
		}
		b.WriteByte(']')
	case *record:
		inner := prefix + indent
		b.WriteByte('{')
		n := 0
		for i, k := range x.keys {
			it := x.vals[i]
			if it == nil {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			if indent != "" {
				b.WriteString("\n" + inner)
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			if indent != "" {
				b.WriteByte(' ')
			}
			r.writeJSON(b, it, indent, inner, depth+1)
		}
		if n > 0 && indent != "" {
			b.WriteString("\n" + prefix)
		}
		b.WriteByte('}')
	default:
		r.fail("callable values cannot be serialized")
	}
}

// writeJSONString quotes s as JSON.stringify does: only quotes, backslashes
// and control characters are escaped, and lone surrogates as \uXXXX.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c, n := decodeWTF8(s[i:])
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || (c >= 0xD800 && c < 0xE000):
			b.WriteString(`\u`)
			h := strconv.FormatInt(int64(c), 16)
			b.WriteString(strings.Repeat("0", 4-len(h)) + h)
		case c == utf8.RuneError && n == 1:
			b.WriteString(`\ufffd`)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	b.WriteByte('"')
}
