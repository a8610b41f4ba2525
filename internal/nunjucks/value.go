package nunjucks

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// value is a template value. The closed set of kinds mirrors JavaScript's:
//
//	nil          undefined
//	null         null
//	bool         boolean
//	float64      number
//	string       string (WTF-8, see jsstring.go)
//	*safeString  a SafeString, the result of safe, escape and macros
//	*array       an array
//	*record      a plain object
//	*regexValue  a regular expression literal
//	*callable    a macro, caller, built-in or registered function
//
// Pointer kinds have identity, which === and sameas compare. Nothing else
// (no Go value of another type) is ever stored in a value.
type value = any

// nullType is the type of null.
type nullType struct{}

var null value = nullType{}

// safeString marks text that escape will not escape again. Its identity
// matters: filters return the same wrapper when they change nothing.
type safeString struct{ s string }

// array is an immutable JavaScript array.
type array struct {
	items []value
	// hasCallable records whether a callable is inside, so that the check
	// made before every coercion does not walk the value.
	hasCallable bool
}

// record is an immutable plain object. Keys enumerate as JavaScript's do:
// canonical array indices ascending, then the other keys in insertion order.
// Small records (most are) are searched linearly; larger ones get an index.
type record struct {
	keys        []string
	vals        []value
	idx         map[string]int
	hasCallable bool
}

// regexValue is an r/.../ literal; each evaluation makes a new one.
type regexValue struct{ lit *regexLit }

func newArray(items []value) *array {
	a := &array{items: items}
	for _, v := range items {
		if containsCallable(v) {
			a.hasCallable = true
			break
		}
	}
	return a
}

// entry is a key and value for building records.
type entry struct {
	k string
	v value
}

// newRecord builds a record; a repeated key keeps its first position and
// its last value, as in a JavaScript object literal.
func newRecord(entries []entry) *record {
	r := &record{keys: make([]string, 0, len(entries)), vals: make([]value, 0, len(entries))}
	indexed := false
	for _, e := range entries {
		if i := r.find(e.k); i >= 0 {
			r.vals[i] = e.v
			continue
		}
		r.keys = append(r.keys, e.k)
		r.vals = append(r.vals, e.v)
		if r.idx != nil {
			r.idx[e.k] = len(r.keys) - 1
		} else if len(r.keys) > smallRecord {
			r.buildIndex()
		}
		indexed = indexed || isArrayIndex(e.k)
	}
	for _, v := range r.vals {
		if containsCallable(v) {
			r.hasCallable = true
			break
		}
	}
	if indexed {
		order := make([]int, len(r.keys))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(i, j int) bool {
			a, b := r.keys[order[i]], r.keys[order[j]]
			ai, bi := isArrayIndex(a), isArrayIndex(b)
			if ai && bi {
				return len(a) < len(b) || (len(a) == len(b) && a < b)
			}
			return ai && !bi
		})
		keys, vals := make([]string, len(order)), make([]value, len(order))
		for i, o := range order {
			keys[i], vals[i] = r.keys[o], r.vals[o]
		}
		r.keys, r.vals = keys, vals
		if r.idx != nil {
			r.buildIndex()
		}
	}
	return r
}

// smallRecord is the size up to which records are searched linearly.
const smallRecord = 8

func (r *record) buildIndex() {
	r.idx = make(map[string]int, len(r.keys))
	for i, k := range r.keys {
		r.idx[k] = i
	}
}

// find returns the position of key k, or -1.
func (r *record) find(k string) int {
	if r.idx != nil {
		if i, ok := r.idx[k]; ok {
			return i
		}
		return -1
	}
	for i, key := range r.keys {
		if key == k {
			return i
		}
	}
	return -1
}

func (r *record) lookup(k string) (value, bool) {
	if i := r.find(k); i >= 0 {
		return r.vals[i], true
	}
	return nil, false
}

func (r *record) get(k string) value {
	v, _ := r.lookup(k)
	return v
}

func (r *record) has(k string) bool { return r.find(k) >= 0 }

// isArrayIndex reports whether k is a canonical array index, 0..2^32-2.
func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return false
	}
	n := uint64(0)
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return false
		}
		n = n*10 + uint64(k[i]-'0')
	}
	return n < 1<<32-1
}

// indexOf resolves a property key to an index below n, or -1.
func indexOf(k string, n int) int {
	if !isArrayIndex(k) {
		return -1
	}
	i, err := strconv.Atoi(k)
	if err != nil || i >= n {
		return -1
	}
	return i
}

func containsCallable(v value) bool {
	switch v := v.(type) {
	case *callable:
		return true
	case *array:
		return v.hasCallable
	case *record:
		return v.hasCallable
	}
	return false
}

// truthy is JavaScript truthiness; every safe string is truthy, even an
// empty one, because it is an object.
func truthy(v value) bool {
	switch v := v.(type) {
	case nil, nullType:
		return false
	case bool:
		return v
	case float64:
		return v != 0 && !math.IsNaN(v)
	case string:
		return v != ""
	}
	return true
}

// isString reports whether v is a string or safe string, and its text.
func isString(v value) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case *safeString:
		return v.s, true
	}
	return "", false
}

// kindName names a value's kind for error messages.
func kindName(v value) string {
	switch v.(type) {
	case nil:
		return "undefined"
	case nullType:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case *safeString:
		return "safe string"
	case *array:
		return "array"
	case *record:
		return "record"
	case *regexValue:
		return "regular expression"
	}
	return "callable"
}

// toPrimitive converts a value as JavaScript's ToPrimitive would for these
// kinds: arrays join their items with commas, records read
// "[object Object]". Callables cannot be converted.
func (r *run) toPrimitive(v value) value {
	switch v := v.(type) {
	case *safeString:
		return v.s
	case *array:
		return r.joinItems(v, ",", 0)
	case *record:
		return "[object Object]"
	case *regexValue:
		return v.lit.String()
	case *callable:
		r.fail("callable values cannot be converted")
	}
	return v
}

// joinItems is Array.prototype.join: null and undefined items are empty.
func (r *run) joinItems(a *array, sep string, depth int) string {
	if a.hasCallable {
		r.fail("callable values cannot be converted")
	}
	r.checkValueDepth(depth)
	var b strings.Builder
	for i, it := range a.items {
		r.step(1)
		if i > 0 {
			b.WriteString(sep)
		}
		switch it := it.(type) {
		case nil, nullType:
		case *array:
			b.WriteString(r.joinItems(it, ",", depth+1))
		default:
			b.WriteString(r.toString(it))
		}
		r.checkLen(b.Len())
	}
	r.chargeString(b.Len())
	return b.String()
}

// toNumber is JavaScript's ToNumber.
func (r *run) toNumber(v value) float64 {
	switch p := r.toPrimitive(v).(type) {
	case nil:
		return math.NaN()
	case nullType:
		return 0
	case bool:
		if p {
			return 1
		}
		return 0
	case float64:
		return p
	case string:
		return stringToNumber(p)
	}
	return math.NaN()
}

// toString is JavaScript's ToString.
func (r *run) toString(v value) string {
	return primitiveString(r.toPrimitive(v))
}

func primitiveString(p value) string {
	switch p := p.(type) {
	case nil:
		return "undefined"
	case nullType:
		return "null"
	case bool:
		if p {
			return "true"
		}
		return "false"
	case float64:
		return formatNumber(p)
	case string:
		return p
	}
	return ""
}

// render converts a value for output: null and undefined print nothing.
func (r *run) render(v value) string {
	switch v := v.(type) {
	case nil, nullType:
		return ""
	case string:
		return v
	case *safeString:
		return v.s
	case *array:
		return r.joinItems(v, ",", 0)
	}
	return r.toString(v)
}

// strictEqual is ===. Every kind is comparable with Go's ==, which already
// gives NaN !== NaN, 0 === -0 and identity for pointers.
func strictEqual(a, b value) bool { return a == b }

func isPrimitive(v value) bool {
	switch v.(type) {
	case nil, nullType, bool, float64, string:
		return true
	}
	return false
}

// looseEqual is JavaScript's ==.
func (r *run) looseEqual(a, b value) bool {
	if a == b {
		return true
	}
	pa, pb := isPrimitive(a), isPrimitive(b)
	if !pa && !pb {
		return false
	}
	if !pa {
		a = r.toPrimitive(a)
	}
	if !pb {
		b = r.toPrimitive(b)
	}
	return primitiveLooseEqual(a, b)
}

func primitiveLooseEqual(a, b value) bool {
	if a == b {
		return true
	}
	an := a == nil || a == null
	bn := b == nil || b == null
	if an || bn {
		return an && bn
	}
	switch x := a.(type) {
	case bool:
		return primitiveLooseEqual(boolNumber(x), b)
	case float64:
		switch y := b.(type) {
		case bool:
			return x == boolNumber(y)
		case string:
			return x == stringToNumber(y)
		}
	case string:
		switch y := b.(type) {
		case bool:
			return stringToNumber(x) == boolNumber(y)
		case float64:
			return stringToNumber(x) == y
		}
	}
	return false
}

func boolNumber(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// order compares as JavaScript's relational operators do: two strings by
// code units, anything else as numbers. It returns -1, 0, 1, or 2 when the
// values are unordered (a NaN is involved), so that < <= > >= are all false.
func (r *run) order(a, b value) int {
	if x, ok := a.(float64); ok {
		if y, ok := b.(float64); ok {
			return compareNumbers(x, y)
		}
	}
	pa, pb := r.toPrimitive(a), r.toPrimitive(b)
	if sa, ok := pa.(string); ok {
		if sb, ok := pb.(string); ok {
			return compare16(sa, sb)
		}
	}
	return compareNumbers(r.toNumber(pa), r.toNumber(pb))
}

func compareNumbers(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	case x == y:
		return 0
	}
	return 2
}

func (r *run) less(a, b value) bool      { return r.order(a, b) == -1 }
func (r *run) lessEq(a, b value) bool    { o := r.order(a, b); return o == -1 || o == 0 }
func (r *run) greater(a, b value) bool   { return r.order(a, b) == 1 }
func (r *run) greaterEq(a, b value) bool { o := r.order(a, b); return o == 1 || o == 0 }

// add is JavaScript's binary +.
func (r *run) add(a, b value) value {
	if x, ok := a.(float64); ok {
		if y, ok := b.(float64); ok {
			return x + y
		}
	}
	pa, pb := r.toPrimitive(a), r.toPrimitive(b)
	_, sa := pa.(string)
	_, sb := pb.(string)
	if sa || sb {
		x, y := primitiveString(pa), primitiveString(pb)
		r.chargeString(len(x) + len(y))
		return concat(x, y)
	}
	return r.toNumber(pa) + r.toNumber(pb)
}

// propertyKey converts a value used as a property name.
func (r *run) propertyKey(v value) string { return r.toString(v) }

// member reads an own property of a value: record entries, the indices and
// length of arrays and strings, and a safe string's val and length.
// Everything else has no properties.
func (r *run) member(target value, key string) value {
	switch t := target.(type) {
	case *record:
		return t.get(key)
	case *array:
		if key == "length" {
			return float64(len(t.items))
		}
		if i := indexOf(key, len(t.items)); i >= 0 {
			return t.items[i]
		}
	case string:
		return stringMember(t, key)
	case *safeString:
		if key == "val" {
			return t.s
		}
		return stringMember(t.s, key)
	}
	return nil
}

func stringMember(s, key string) value {
	n := len16(s)
	if key == "length" {
		return float64(n)
	}
	if i := indexOf(key, n); i >= 0 {
		return slice16(s, i, i+1)
	}
	return nil
}

// hasMember reports whether member would find an own property.
func hasMember(target value, key string) bool {
	switch t := target.(type) {
	case *record:
		return t.has(key)
	case *array:
		return key == "length" || indexOf(key, len(t.items)) >= 0
	case string:
		return key == "length" || indexOf(key, len16(t)) >= 0
	case *safeString:
		return key == "val" || key == "length" || indexOf(key, len16(t.s)) >= 0
	}
	return false
}

// aliasCallable gives a callable read out of an array or record a fresh
// identity, as Nunjucks' member lookup binds a new function each time.
func aliasCallable(v value) value {
	if c, ok := v.(*callable); ok {
		return &callable{t: c.t}
	}
	return v
}
