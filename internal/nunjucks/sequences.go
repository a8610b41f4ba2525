package nunjucks

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Built-in filters over sequences and records: how Nunjucks' filters walk
// arrays, strings and array-like records (a length property and numeric
// keys), each in its own way.

// sequence returns the items of an array or the code units of a string.
func (r *run) sequence(v value) ([]value, bool) {
	switch x := v.(type) {
	case *array:
		r.step(len(x.items))
		return append([]value(nil), x.items...), true
	case string, *safeString:
		s, _ := isString(x)
		r.step(len(s))
		units := split16(s)
		out := make([]value, len(units))
		for i, u := range units {
			out[i] = u
		}
		return out, true
	}
	return nil, false
}

// recordItems reads an array-like record's entries 0..ceil(length)-1.
func (r *run) recordItems(x *record) []value {
	n := r.toNumber(x.get("length"))
	if math.IsNaN(n) || n <= 0 {
		return nil
	}
	if n > float64(r.lim.MaxSteps-r.steps) {
		r.limit("array-like record length %s is over the step limit", formatNumber(n))
	}
	count := int(math.Ceil(n))
	r.step(count)
	out := make([]value, count)
	for i := range out {
		out[i] = x.get(strconv.Itoa(i))
	}
	return out
}

// recordItemsStrict is recordItems for the filters that treat a record as
// an array through Array.prototype methods, which refuse an invalid
// numeric length.
func (r *run) recordItemsStrict(x *record) []value {
	if n, ok := x.get("length").(float64); ok && !math.IsNaN(n) && (n != math.Trunc(n) || n < 0 || n > 1<<32-1) {
		r.fail("invalid array length %s", formatNumber(n))
	}
	return r.recordItems(x)
}

func filterBatch(r *run, in value, args []value) value {
	if in == nil || in == null {
		r.fail("batch needs a sequence")
	}
	width := math.Trunc(r.toNumber(arg(args, 0)))
	if math.IsNaN(width) || width <= 0 || width > 1<<53 {
		r.fail("batch size must be a positive integer")
	}
	var items []value
	if x, ok := in.(*record); ok {
		items = r.recordItems(x)
	} else if items, ok = r.sequence(in); !ok {
		return newArray(nil)
	}
	fill := arg(args, 1)
	w := len(items)
	if width < float64(len(items)) {
		w = int(width)
	}
	var out []value
	for i := 0; i < len(items); i += w {
		end := min(i+w, len(items))
		row := append([]value(nil), items[i:end]...)
		if end == len(items) && truthy(fill) {
			for float64(len(row)) < width {
				r.step(1)
				row = append(row, fill)
			}
		}
		out = append(out, newArray(row))
	}
	return newArray(out)
}

// filterDictsort sorts a record's entries by key or value, upper-casing
// strings unless case-sensitive, with Nunjucks' comparator (greater, equal,
// else -1).
func filterDictsort(r *run, in value, args []value) value {
	rec, ok := in.(*record)
	if !ok {
		r.fail("dictsort needs a record, not %s", kindName(in))
	}
	caseSensitive := truthy(arg(args, 0))
	byValue := false
	switch by := arg(args, 1); by {
	case nil, "key":
	case "value":
		byValue = true
	default:
		r.fail("dictsort can only sort by key or value")
	}
	norm := func(v value) value {
		if s, ok := isString(v); ok && !caseSensitive {
			return upperJS(s)
		}
		return v
	}
	pairs := make([]value, len(rec.keys))
	for i, k := range rec.keys {
		pairs[i] = newArray([]value{k, rec.vals[i]})
	}
	key := func(v value) value {
		it := v.(*array).items
		if byValue {
			return norm(it[1])
		}
		return norm(it[0])
	}
	r.sortValues(pairs, func(a, b value) int {
		x, y := key(a), key(b)
		if r.greater(x, y) {
			return 1
		}
		if strictEqual(x, y) {
			return 0
		}
		return -1
	})
	return newArray(pairs)
}

// edge is the first and last filters.
func (r *run) edge(in value, last bool) value {
	switch x := in.(type) {
	case nil, nullType:
		r.fail("first and last need a sequence")
	case *array:
		if len(x.items) == 0 {
			return nil
		}
		if last {
			return x.items[len(x.items)-1]
		}
		return x.items[0]
	case string, *safeString:
		s, _ := isString(x)
		n := len16(s)
		if n == 0 {
			return nil
		}
		if last {
			return slice16(s, n-1, n)
		}
		return slice16(s, 0, 1)
	case *record:
		if !last {
			return x.get("0")
		}
		return x.get(r.propertyKey(r.toNumber(x.get("length")) - 1))
	}
	return nil
}

// attrPath is the attribute argument of sort and groupby: none when falsy,
// a dotted path when a string, else one key.
func (r *run) attrPath(v value) []string {
	if !truthy(v) {
		return nil
	}
	if s, ok := v.(string); ok {
		return strings.Split(s, ".")
	}
	return []string{r.propertyKey(v)}
}

func (r *run) getPath(v value, path []string) value {
	for _, k := range path {
		if v == nil || v == null {
			r.fail("cannot read %q of %s", k, kindName(v))
		}
		if !hasMember(v, k) {
			return nil
		}
		v = r.member(v, k)
	}
	return v
}

// getAttr reads one direct attribute, failing on null and undefined.
func (r *run) getAttr(v value, k string) value {
	if v == nil || v == null {
		r.fail("cannot read %q of %s", k, kindName(v))
	}
	return r.member(v, k)
}

func filterGroupby(r *run, in value, args []value) value {
	if in == nil || in == null {
		r.fail("groupby needs a sequence")
	}
	var items []value
	if x, ok := in.(*record); ok {
		items = r.recordItems(x)
	} else if items, ok = r.sequence(in); !ok {
		return newRecord(nil)
	}
	path := r.attrPath(arg(args, 0))
	var keys []string
	groups := map[string][]value{}
	for _, it := range items {
		k := r.propertyKey(r.getPath(it, path))
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], it)
	}
	entries := make([]entry, len(keys))
	for i, k := range keys {
		entries[i] = entry{k, newArray(groups[k])}
	}
	return newRecord(entries)
}

// filterJoin joins an array's items, or with an attribute the attribute of
// each item of an array, string or array-like record.
func filterJoin(r *run, in value, args []value) value {
	sep := ""
	if truthy(arg(args, 0)) {
		sep = r.toString(args[0])
	}
	var items []value
	if attr := arg(args, 1); truthy(attr) {
		items = r.project(in, r.propertyKey(attr))
	} else {
		a, ok := in.(*array)
		if !ok {
			r.fail("join needs an array, not %s", kindName(in))
		}
		items = a.items
	}
	var b strings.Builder
	for i, it := range items {
		r.step(1)
		if i > 0 {
			b.WriteString(sep)
		}
		if it != nil && it != null {
			b.WriteString(r.toString(it))
		}
		r.checkLen(b.Len())
	}
	r.chargeString(b.Len())
	return b.String()
}

// project maps items to one direct attribute, as join and sum do.
func (r *run) project(in value, attr string) []value {
	var items []value
	switch x := in.(type) {
	case *array:
		items = x.items
	case string:
		items, _ = r.sequence(x)
	case *record:
		items = r.recordItemsStrict(x)
	case *safeString:
		if x.s != "" {
			r.getAttr(nil, attr)
		}
		return nil
	default:
		return nil
	}
	out := make([]value, len(items))
	for i, it := range items {
		r.step(1)
		out[i] = r.getAttr(it, attr)
	}
	return out
}

func filterLength(r *run, in value, _ []value) value {
	switch x := in.(type) {
	case *array:
		return float64(len(x.items))
	case *record:
		return float64(len(x.keys))
	case string:
		return float64(len16(x))
	case *safeString:
		return float64(len16(x.s))
	case nil, nullType:
		return 0.0
	case bool:
		if !x {
			return 0.0
		}
	}
	return nil
}

func filterList(r *run, in value, _ []value) value {
	switch x := in.(type) {
	case *array:
		return x
	case string, *safeString:
		items, _ := r.sequence(x)
		return newArray(items)
	case *record:
		out := make([]value, len(x.keys))
		for i, k := range x.keys {
			r.step(1)
			out[i] = newRecord([]entry{{"key", k}, {"value", x.vals[i]}})
		}
		return newArray(out)
	}
	r.fail("list needs an array, string or record, not %s", kindName(in))
	return nil
}

func filterRandom(r *run, in value, _ []value) value {
	switch x := in.(type) {
	case nil, nullType:
		r.fail("random needs a sequence")
	case *record:
		n := r.toNumber(x.get("length"))
		if n > 0 && n <= 1<<53 && n == math.Trunc(n) {
			return x.get(strconv.FormatInt(rand.Int64N(int64(n)), 10))
		}
		return x.get(r.propertyKey(math.Floor(rand.Float64() * n)))
	}
	items, ok := r.sequence(in)
	if !ok || len(items) == 0 {
		return nil
	}
	return items[rand.IntN(len(items))]
}

// selectValues is select and reject: items passing (or failing) a test,
// truthy by default.
func (r *run) selectValues(in value, args []value, want bool) value {
	name := "truthy"
	if t := arg(args, 0); t != nil {
		name = r.toString(t)
	}
	if _, ok := builtinTests[name]; !ok {
		r.fail("unknown test %q", name)
	}
	var items []value
	switch x := in.(type) {
	case nil, nullType:
		r.fail("select and reject need a sequence")
	case *record:
		items = r.presentItems(x)
	default:
		var ok bool
		if items, ok = r.sequence(in); !ok {
			return newArray(nil)
		}
	}
	var targs []value
	if len(args) > 1 {
		targs = args[1:]
	}
	d := r.lookupTest(name, len(targs))
	var out []value
	for _, it := range items {
		r.step(1)
		if r.applyTest(d, it, targs) == want {
			out = append(out, it)
		}
	}
	return newArray(out)
}

// presentItems reads the numeric entries an array-like record has, below
// its length, as Array.prototype.filter does.
func (r *run) presentItems(x *record) []value {
	n := r.toNumber(x.get("length"))
	if math.IsNaN(n) || n <= 0 {
		return nil
	}
	n = min(math.Floor(n), 1<<53-1)
	var out []value
	if n <= float64(len(x.keys)) {
		for i := 0; float64(i) < n; i++ {
			r.step(1)
			if v, ok := x.lookup(strconv.Itoa(i)); ok {
				out = append(out, v)
			}
		}
		return out
	}
	// A huge length with few keys: visit the keys instead of every index.
	for _, k := range x.keys {
		r.step(1)
		if isArrayIndex(k) {
			if i, _ := strconv.ParseFloat(k, 64); i < n {
				out = append(out, x.get(k))
			}
		}
	}
	return out
}

// selectAttr is selectattr and rejectattr: items whose direct attribute is
// truthy (or not). Further arguments are ignored, as in Nunjucks.
func (r *run) selectAttr(in value, args []value, want bool) value {
	a, ok := in.(*array)
	if !ok {
		r.fail("selectattr and rejectattr need an array, not %s", kindName(in))
	}
	attr := r.propertyKey(arg(args, 0))
	var out []value
	for _, it := range a.items {
		r.step(1)
		if truthy(r.getAttr(it, attr)) == want {
			out = append(out, it)
		}
	}
	return newArray(out)
}

func filterReverse(r *run, in value, _ []value) value {
	switch x := in.(type) {
	case string, *safeString:
		s, _ := isString(x)
		u := units16(s)
		r.step(len(u))
		for i, j := 0, len(u)-1; i < j; i, j = i+1, j-1 {
			u[i], u[j] = u[j], u[i]
		}
		return copySafe(in, fromUnits16(u))
	case *array:
		r.step(len(x.items))
		out := make([]value, len(x.items))
		for i, it := range x.items {
			out[len(out)-1-i] = it
		}
		return newArray(out)
	case *record:
		items := r.recordItemsStrict(x)
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
		return newArray(items)
	}
	return newArray(nil)
}

// filterSlice cuts a sequence into count parts, the first ones one longer;
// with a fill value, the shorter parts get it appended.
func filterSlice(r *run, in value, args []value) value {
	items, ok := r.sequence(in)
	if !ok {
		r.fail("slice needs an array or string, not %s", kindName(in))
	}
	count := math.Trunc(r.toNumber(arg(args, 0)))
	if math.IsNaN(count) || count <= 0 || count > 1<<53 {
		r.fail("slice count must be a positive integer")
	}
	if count > float64(r.lim.MaxSteps) {
		r.limit("slice count %s is over the step limit", formatNumber(count))
	}
	n := int(count)
	r.step(n)
	base, extra := len(items)/n, len(items)%n
	fill := arg(args, 1)
	text, isText := isString(in)
	var units []uint16
	if isText {
		units = units16(text)
	}
	out := make([]value, 0, n)
	off := 0
	for i := 0; i < n; i++ {
		l := base
		if i < extra {
			l++
		}
		if isText {
			if truthy(fill) && i >= extra {
				r.fail("slice cannot append a fill value to a string")
			}
			out = append(out, fromUnits16(units[off:off+l]))
		} else {
			part := append([]value(nil), items[off:off+l]...)
			if truthy(fill) && i >= extra {
				part = append(part, fill)
			}
			out = append(out, newArray(part))
		}
		off += l
	}
	return newArray(out)
}

func filterSort(r *run, in value, args []value) value {
	var items []value
	switch x := in.(type) {
	case *record:
		items = r.recordItemsStrict(x)
	default:
		var ok bool
		if items, ok = r.sequence(in); !ok {
			return newArray(nil)
		}
	}
	reverse := truthy(arg(args, 0))
	caseSensitive := truthy(arg(args, 1))
	path := r.attrPath(arg(args, 2))
	r.sortValues(items, func(a, b value) int {
		x, y := r.getPath(a, path), r.getPath(b, path)
		if !caseSensitive {
			sx, okx := isString(x)
			sy, oky := isString(y)
			if okx && oky {
				x, y = lowerJS(sx), lowerJS(sy)
			}
		}
		o := r.order(x, y)
		if reverse {
			o = -o
		}
		if o == 1 || o == -1 {
			return o
		}
		return 0
	})
	return newArray(items)
}

// sortValues sorts as Array.prototype.sort does in V8: undefined items go
// last without being compared, and the rest are sorted stably. Short
// arrays use V8's binary insertion sort exactly, so that even inconsistent
// comparisons (NaN, mixed kinds) order items as Nunjucks does.
func (r *run) sortValues(items []value, cmp func(a, b value) int) {
	n := len(items)
	r.step(n * (1 + bitLen(n)))
	defined := items[:0:0]
	undefined := 0
	for _, it := range items {
		if it == nil {
			undefined++
		} else {
			defined = append(defined, it)
		}
	}
	if len(defined) < 64 {
		binaryInsertionSort(defined, cmp)
	} else {
		sort.SliceStable(defined, func(i, j int) bool { return cmp(defined[i], defined[j]) < 0 })
	}
	copy(items, defined)
	for i := len(defined); i < n; i++ {
		items[i] = nil
	}
}

func bitLen(n int) int {
	b := 0
	for ; n > 0; n >>= 1 {
		b++
	}
	return b
}

// binaryInsertionSort is V8's TimSort on fewer than 64 items: take the
// leading run (reversing it if strictly descending), then insert the rest.
func binaryInsertionSort(a []value, cmp func(a, b value) int) {
	if len(a) < 2 {
		return
	}
	run := 2
	if cmp(a[1], a[0]) < 0 {
		for run < len(a) && cmp(a[run], a[run-1]) < 0 {
			run++
		}
		for i, j := 0, run-1; i < j; i, j = i+1, j-1 {
			a[i], a[j] = a[j], a[i]
		}
	} else {
		for run < len(a) && cmp(a[run], a[run-1]) >= 0 {
			run++
		}
	}
	for start := run; start < len(a); start++ {
		pivot := a[start]
		lo, hi := 0, start
		for lo < hi {
			mid := lo + (hi-lo)/2
			if cmp(pivot, a[mid]) < 0 {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		copy(a[lo+1:start+1], a[lo:start])
		a[lo] = pivot
	}
}

// filterSum adds items (or one direct attribute of each) to start, with
// JavaScript's +, so strings concatenate.
func filterSum(r *run, in value, args []value) value {
	var items []value
	if attr := arg(args, 0); truthy(attr) {
		items = r.project(in, r.propertyKey(attr))
	} else {
		a, ok := in.(*array)
		if !ok {
			r.fail("sum needs an array, not %s", kindName(in))
		}
		items = a.items
	}
	total := value(0.0)
	for _, it := range items {
		r.step(1)
		total = r.add(total, it)
	}
	start := arg(args, 1)
	if start == nil {
		start = 0.0
	}
	return r.add(start, total)
}
