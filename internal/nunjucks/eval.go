package nunjucks

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// run is the state of one render. Errors unwind the evaluator with a
// panic carrying a *posError, which run.guard recovers at the API boundary
// (as text/template does); any other panic is a bug, also recovered there
// so that a template can never take the server down.
type run struct {
	t       *Template
	lim     Limits
	steps   int
	out     int
	calls   int
	pos     int // the node being evaluated, for error positions
	exports *scope
	globals map[string]*callable // one handle per global name and render
}

func (t *Template) newRun() *run {
	return &run{t: t, lim: t.limits, globals: map[string]*callable{}}
}

func (r *run) guard(f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if pe, ok := v.(*posError); ok {
				err = pe.at(r.t.src)
				return
			}
			err = (&posError{pos: r.pos, msg: fmt.Sprint("internal error: ", v)}).at(r.t.src)
		}
	}()
	f()
	return nil
}

func (r *run) fail(format string, args ...any) {
	panic(&posError{pos: r.pos, msg: fmt.Sprintf(format, args...)})
}

func (r *run) limit(format string, args ...any) {
	panic(&posError{pos: r.pos, msg: fmt.Sprintf(format, args...), err: ErrLimit})
}

// step spends n units of the work budget.
func (r *run) step(n int) {
	r.steps += n
	if r.steps > r.lim.MaxSteps {
		r.limit("render takes more than %d steps", r.lim.MaxSteps)
	}
}

// chargeString accounts for building a string of n bytes.
func (r *run) chargeString(n int) {
	r.checkLen(n)
	r.step(n >> 6)
}

// chargeText accounts for reading strings whole (comparing, searching,
// transforming): a long context string must not make each operation on it
// cost one step.
func (r *run) chargeText(vs ...value) {
	n := 0
	for _, v := range vs {
		if s, ok := isString(v); ok {
			n += len(s)
		}
	}
	r.step(n >> 6)
}

// checkLen bounds a string being built, whose cost is charged once done.
func (r *run) checkLen(n int) {
	if n > r.lim.MaxOutputBytes {
		r.limit("string longer than %d bytes", r.lim.MaxOutputBytes)
	}
}

func (r *run) chargeOutput(n int) {
	r.out += n
	if r.out > r.lim.MaxOutputBytes {
		r.limit("output longer than %d bytes", r.lim.MaxOutputBytes)
	}
}

func (r *run) checkValueDepth(depth int) {
	if depth > r.lim.MaxDepth {
		r.limit("value nesting deeper than %d", r.lim.MaxDepth)
	}
}

func (r *run) write(w *strings.Builder, s string) {
	r.chargeOutput(len(s))
	w.WriteString(s)
}

// scope is a runtime frame of variables, as Nunjucks' Frame. Frames skip
// undefined values when looking a name up, as Nunjucks' do. The two
// outermost scopes stand for Nunjucks' context instead: the names the
// template exports (top-level sets and macros) over the context data,
// where presence counts, not the value.
type scope struct {
	parent   *scope
	isolate  bool    // assignments do not search the parents
	ctxLevel bool    // the exports or the context, not a frame
	data     *record // the context data, for the outermost scope
	vars     map[string]value
}

func (s *scope) child(isolate bool) *scope { return &scope{parent: s, isolate: isolate} }

func (s *scope) own(name string) (value, bool) {
	if s.data != nil {
		return s.data.lookup(name)
	}
	v, ok := s.vars[name]
	return v, ok
}

func (s *scope) get(name string) (value, bool) {
	for f := s; f != nil; f = f.parent {
		if v, ok := f.own(name); ok && (v != nil || f.ctxLevel) {
			return v, true
		}
	}
	return nil, false
}

// set defines name in this very frame.
func (s *scope) set(name string, v value) {
	if s.vars == nil {
		s.vars = map[string]value{}
	}
	s.vars[name] = v
}

// assign is {% set %}, Nunjucks' frame.set with resolveUp: it writes to the
// nearest frame where the name has a value, searching the parents unless
// this frame is isolated (their own isolation does not stop the search),
// and otherwise defines the name here.
func (s *scope) assign(name string, v value) {
	for f := s; f != nil && !f.ctxLevel; f = f.parent {
		if x, ok := f.own(name); ok && x != nil {
			f.set(name, v)
			return
		}
		if f == s && s.isolate {
			break
		}
	}
	s.set(name, v)
}

// frameCell is the variable holding the current frame in one compiled
// function (the root or a block). Macros defined in that function and call
// blocks in it share the variable, which is why a caller's frame extends
// whatever frame is current when it is called: the macro's.
type frameCell struct{ cur *scope }

// lexFrame holds the slots of one invocation of a compiled function (see
// resolve.go). A caller's frame continues its call block's frame.
type lexFrame struct {
	fn     *funcPlan
	vals   []value
	parent *lexFrame
}

func newLexFrame(fn *funcPlan, parent *lexFrame) *lexFrame {
	return &lexFrame{fn: fn, vals: make([]value, fn.nslots), parent: parent}
}

func (l *lexFrame) find(s slotRef) *lexFrame {
	for f := l; f != nil; f = f.parent {
		if f.fn == s.fn {
			return f
		}
	}
	panic("nunjucks: slot outside its frame")
}

func (l *lexFrame) get(s slotRef) value    { return l.find(s).vals[s.i] }
func (l *lexFrame) set(s slotRef, v value) { l.find(s).vals[s.i] = v }

// ctx is what a statement knows of the function it runs in: its slots,
// its frame variable, and whether macros and assignments there are
// exported to the template's top-level names (they are in the root; macros
// also in blocks and macros, outside loops and callers).
type ctx struct {
	lex          *lexFrame
	cell         *frameCell
	exportMacros bool
	exportSets   bool
}

func (r *run) rootScope(data *record) (*scope, ctx) {
	context := &scope{data: data, ctxLevel: true}
	r.exports = &scope{parent: context, ctxLevel: true}
	root := &scope{parent: r.exports}
	return root, ctx{newLexFrame(r.t.rootFn, nil), &frameCell{root}, true, true}
}

func (r *run) renderRoot(data *record) string {
	sc, cx := r.rootScope(data)
	var w strings.Builder
	r.exec(r.t.root, sc, cx, &w)
	return w.String()
}

func (r *run) valueRoot(data *record) value {
	sc, cx := r.rootScope(data)
	out := r.t.root[0].(*outputStmt)
	r.pos = out.pos
	return r.eval(out.x, sc, cx)
}

func (r *run) exec(list []stmt, sc *scope, cx ctx, w *strings.Builder) {
	for _, s := range list {
		r.step(1)
		r.pos = s.position()
		switch s := s.(type) {
		case *textStmt:
			r.write(w, s.s)
		case *outputStmt:
			v := r.eval(s.x, sc, cx)
			r.pos = s.pos
			r.write(w, r.render(v))
		case *ifStmt:
			if truthy(r.eval(s.cond, sc, cx)) {
				r.exec(s.then, sc, cx, w)
			} else {
				r.exec(s.els, sc, cx, w)
			}
		case *forStmt:
			r.execFor(s, sc, cx, w)
		case *setStmt:
			var v value
			if s.value != nil {
				v = r.eval(s.value, sc, cx)
			} else {
				v = r.capture(s.body, sc, cx)
			}
			for _, t := range s.targets {
				sc.assign(t.name, v)
				if t.slot.fn != nil {
					cx.lex.set(t.slot, v)
				}
				if cx.exportSets {
					r.exports.set(t.name, v)
				}
			}
		case *macroStmt:
			c := &callable{&callTarget{kind: kMacro, def: s.def, cell: cx.cell}}
			cx.lex.set(s.slot, c)
			if cx.exportMacros {
				r.exports.set(s.def.name, c)
			} else {
				sc.set(s.def.name, c)
			}
		case *callStmt:
			r.execCall(s, sc, cx, w)
		case *blockStmt:
			bs := sc.child(true)
			r.exec(s.body, bs, ctx{newLexFrame(s.fn, nil), &frameCell{bs}, true, false}, w)
		case *switchStmt:
			r.execSwitch(s, sc, cx, w)
		default:
			panic(fmt.Sprintf("nunjucks: unknown statement %T", s))
		}
	}
}

func (r *run) capture(body []stmt, sc *scope, cx ctx) string {
	var w strings.Builder
	r.exec(body, sc, cx, &w)
	return w.String()
}

// execSwitch compares with ===; a matching case with an empty body falls
// through to the next case's body, and past the last case to default.
func (r *run) execSwitch(s *switchStmt, sc *scope, cx ctx, w *strings.Builder) {
	x := r.eval(s.x, sc, cx)
	matched := false
	for _, c := range s.cases {
		if !matched {
			y := r.eval(c.cond, sc, cx)
			r.chargeText(x, y)
			if !strictEqual(x, y) {
				continue
			}
		}
		matched = true
		if len(c.body) > 0 {
			r.exec(c.body, sc, cx, w)
			return
		}
	}
	r.exec(s.def, sc, cx, w)
}

// execFor runs a loop as Nunjucks' compiled code does. Arrays and safe
// strings take the array branch; records, strings and anything else the
// record branch, which with one target walks a record's numeric keys up to
// its length and with several walks its [key, value] entries. The length
// is kept in a slot that outlives the loop: when the value is falsy, else
// tests the length left by the previous run of the same loop.
func (r *run) execFor(s *forStmt, sc *scope, cx ctx, w *strings.Builder) {
	v := r.eval(s.iter, sc, cx)
	multi := len(s.targets) > 1
	var length value
	var more func(i int) bool
	var item func(i int) value
	arrayBranch := false
	switch x := v.(type) {
	case *array:
		arrayBranch = true
		length = float64(len(x.items))
		more = func(i int) bool { return i < len(x.items) }
		item = func(i int) value { return x.items[i] }
	case *safeString:
		arrayBranch = true
		r.step(len(x.s))
		units := split16(x.s)
		length = float64(len(units))
		more = func(i int) bool { return i < len(units) }
		item = func(i int) value { return units[i] }
	case *record:
		if multi {
			length = float64(len(x.keys))
			more = func(i int) bool { return i < len(x.keys) }
			item = func(i int) value { return newArray([]value{x.keys[i], x.vals[i]}) }
		} else {
			length = x.get("length")
			n := r.toNumber(length)
			more = func(i int) bool { return float64(i) < n }
			item = func(i int) value { return x.get(strconv.Itoa(i)) }
		}
	case string:
		r.step(len(x))
		units := split16(x)
		length = float64(len(units))
		more = func(i int) bool { return i < len(units) }
		if multi {
			item = func(i int) value { return newArray([]value{strconv.Itoa(i), units[i]}) }
		} else {
			item = func(i int) value { return units[i] }
		}
	default:
		if multi {
			length = 0.0
		}
		more = func(int) bool { return false }
	}
	if truthy(v) {
		cx.lex.set(s.lenSlot, length)
	} else {
		length = cx.lex.get(s.lenSlot)
	}
	loop := sc.child(false)
	cx.cell.cur = loop
	defer func() { cx.cell.cur = sc }()
	body, inner := s.body, ctx{cx.lex, cx.cell, false, false}
	if multi && !arrayBranch {
		body = s.recBody
	}
	for i := 0; more(i); i++ {
		r.step(1)
		r.pos = s.pos
		x := item(i)
		switch {
		case !multi:
			loop.set(s.targets[0].name, x)
			cx.lex.set(s.targets[0].slot, x)
		case arrayBranch:
			for j, t := range s.targets {
				cx.lex.set(t.slot, r.destructure(x, j))
			}
		default:
			for j, t := range s.recTargets {
				y := r.destructure(x, j)
				loop.set(t.name, y)
				cx.lex.set(t.slot, y)
			}
		}
		n := r.toNumber(length)
		loop.set("loop", newRecord([]entry{
			{"index", float64(i + 1)},
			{"index0", float64(i)},
			{"revindex", n - float64(i)},
			{"revindex0", n - float64(i) - 1},
			{"first", i == 0},
			{"last", float64(i) == n-1},
			{"length", length},
		}))
		r.exec(body, loop, inner, w)
	}
	if !truthy(length) {
		r.exec(s.els, loop, inner, w)
	}
}

// destructure reads target j of a loop entry.
func (r *run) destructure(v value, j int) value {
	switch x := v.(type) {
	case nil, nullType:
		r.fail("cannot unpack %s into loop variables", kindName(v))
	case *array:
		if j < len(x.items) {
			return x.items[j]
		}
	case *record:
		return x.get(strconv.Itoa(j))
	case string:
		if j < len16(x) {
			return slice16(x, j, j+1)
		}
	}
	return nil
}

// execCall runs a call block: the macro gets a caller keyword argument, a
// closure over the block's scope and slots.
func (r *run) execCall(s *callStmt, sc *scope, cx ctx, w *strings.Builder) {
	target := r.eval(s.callee, sc, cx)
	c, ok := target.(*callable)
	if !ok || c.t.kind != kMacro {
		r.pos = s.pos
		r.fail("call block target is %s, not a macro", kindName(target))
	}
	pos, kw := r.evalArgs(s.args, sc, cx)
	kw = kw.with("caller", &callable{&callTarget{kind: kCaller, def: s.caller, cell: cx.cell, lex: cx.lex}})
	r.pos = s.pos
	r.write(w, r.render(r.invokeMacro(c.t, pos, kw)))
}

// kwargs are keyword arguments in source order.
type kwargs []entry

func (k kwargs) get(name string) (value, bool) {
	for _, e := range k {
		if e.k == name {
			return e.v, true
		}
	}
	return nil, false
}

// with returns k with name set, replacing an earlier value in place.
func (k kwargs) with(name string, v value) kwargs {
	out := append(kwargs(nil), k...)
	for i := range out {
		if out[i].k == name {
			out[i].v = v
			return out
		}
	}
	return append(out, entry{name, v})
}

func (k kwargs) without(name string) kwargs {
	out := k[:0:0]
	for _, e := range k {
		if e.k != name {
			out = append(out, e)
		}
	}
	return out
}

func (r *run) evalArgs(a argList, sc *scope, cx ctx) ([]value, kwargs) {
	pos := make([]value, len(a.pos))
	for i, x := range a.pos {
		pos[i] = r.eval(x, sc, cx)
	}
	var kw kwargs
	for _, k := range a.kw {
		kw = kw.with(k.name, r.eval(k.x, sc, cx))
	}
	return pos, kw
}

// normalizeArgs binds call arguments to parameters as Nunjucks' makeMacro
// does: missing positional parameters are taken (and removed) from the
// keywords, and surplus positional arguments become keywords for the
// defaulted parameters in order. Presence, not nullishness, decides.
func normalizeArgs(names, defaults []string, pos []value, kw kwargs) ([]value, kwargs) {
	switch {
	case len(pos) > len(names):
		for i, v := range pos[len(names):] {
			if i < len(defaults) {
				kw = kw.with(defaults[i], v)
			}
		}
		pos = pos[:len(names)]
	case len(pos) < len(names):
		pos = append([]value(nil), pos...)
		for _, n := range names[len(pos):] {
			v, _ := kw.get(n)
			pos = append(pos, v)
			kw = kw.without(n)
		}
	}
	return pos, kw
}

// invokeMacro calls a macro or caller and returns its output as a safe
// string. A macro runs in a fresh frame over the top-level names; a caller
// in a frame over the current frame of its function (see frameCell).
func (r *run) invokeMacro(t *callTarget, pos []value, kw kwargs) value {
	r.calls++
	defer func() { r.calls-- }()
	if r.calls > r.lim.MaxDepth {
		r.limit("macro calls nested deeper than %d", r.lim.MaxDepth)
	}
	d := t.def
	saved := t.cell.cur
	defer func() { t.cell.cur = saved }()
	var local *scope
	var cx ctx
	if t.kind == kCaller {
		local = saved.child(true)
		cx = ctx{newLexFrame(d.fn, t.lex), t.cell, false, false}
	} else {
		local = r.exports.child(true)
		cx = ctx{newLexFrame(d.fn, nil), t.cell, true, false}
	}
	t.cell.cur = local
	names := make([]string, len(d.formals))
	declaresCaller := false
	for i, f := range d.formals {
		names[i] = f.name
		declaresCaller = declaresCaller || f.name == "caller"
	}
	defaults := make([]string, len(d.defaults))
	for i, kd := range d.defaults {
		defaults[i] = kd.name.name
		declaresCaller = declaresCaller || kd.name.name == "caller"
	}
	pos, kw = normalizeArgs(names, defaults, pos, kw)
	for i, f := range d.formals {
		local.set(f.name, pos[i])
		cx.lex.set(f.slot, pos[i])
	}
	for _, kd := range d.defaults {
		v, ok := kw.get(kd.name.name)
		if !ok {
			v = r.eval(kd.x, local, cx)
		}
		local.set(kd.name.name, v)
	}
	if c, ok := kw.get("caller"); ok && !declaresCaller {
		local.set("caller", c)
	}
	return &safeString{r.capture(d.body, local, cx)}
}

func (r *run) eval(x expr, sc *scope, cx ctx) value {
	r.step(1)
	switch x := x.(type) {
	case *literal:
		return x.v
	case *regexExpr:
		return &regexValue{x.lit}
	case *nameExpr:
		return r.lookupName(x, sc, cx)
	case *arrayExpr:
		items := make([]value, len(x.items))
		for i, it := range x.items {
			items[i] = r.eval(it, sc, cx)
		}
		return newArray(items)
	case *groupExpr:
		var v value
		for i, it := range x.items {
			v = r.eval(it, sc, cx)
			if i < len(x.items)-1 && containsCallable(v) {
				r.pos = it.position()
				r.fail("callable values cannot be discarded")
			}
		}
		return v
	case *dictExpr:
		entries := make([]entry, len(x.keys))
		for i, k := range x.keys {
			entries[i] = entry{k, r.eval(x.vals[i], sc, cx)}
		}
		return newRecord(entries)
	case *lookupExpr:
		target := r.eval(x.target, sc, cx)
		var key value
		if l, ok := x.key.(*literal); ok {
			key = l.v
		} else {
			key = r.eval(x.key, sc, cx)
		}
		r.pos = x.pos
		k := r.propertyKey(key)
		if c, ok := target.(*callable); ok {
			return r.builtinMember(c.t, k)
		}
		return aliasCallable(r.member(target, k))
	case *sliceExpr:
		return r.evalSlice(x, sc, cx)
	case *condExpr:
		if truthy(r.eval(x.cond, sc, cx)) {
			return r.eval(x.then, sc, cx)
		}
		if x.els == nil {
			return nil
		}
		return r.eval(x.els, sc, cx)
	case *binaryExpr:
		return r.evalBinary(x, sc, cx)
	case *unaryExpr:
		v := r.eval(x.x, sc, cx)
		r.pos = x.pos
		switch x.op {
		case opNot:
			return !truthy(v)
		case opNeg:
			return -r.toNumber(v)
		case opPos:
			return r.toNumber(v)
		default:
			return math.Floor(r.toNumber(v))
		}
	case *compareExpr:
		left := r.eval(x.first, sc, cx)
		var res bool
		for _, o := range x.ops {
			right := r.eval(o.x, sc, cx)
			r.pos = x.pos
			res = r.compare(left, o.op, right)
			left = res
		}
		return res
	case *testExpr:
		return r.evalTest(x, sc, cx)
	case *filterExpr:
		return r.evalFilter(x, sc, cx)
	case *callExpr:
		return r.evalCall(x, sc, cx)
	case *captureExpr:
		return r.capture(x.body, sc, cx)
	}
	panic(fmt.Sprintf("nunjucks: unknown expression %T", x))
}

// lookupName resolves a name: its static slot if it has one, else the
// runtime frames up to the context, then the registered and built-in
// globals.
func (r *run) lookupName(x *nameExpr, sc *scope, cx ctx) value {
	if x.slot.fn != nil {
		return cx.lex.get(x.slot)
	}
	if v, ok := sc.get(x.name); ok {
		return v
	}
	if r.t.opts.Cookiecutter {
		switch x.name {
		case "True":
			return true
		case "False":
			return false
		case "None":
			return null
		}
	}
	if c, ok := r.globals[x.name]; ok {
		return c
	}
	var t *callTarget
	if fn, ok := r.t.opts.Globals[x.name]; ok {
		t = &callTarget{kind: kUser, name: x.name, fn: fn}
	} else if builtinGlobals[x.name] {
		t = &callTarget{kind: kGlobal, name: x.name}
	} else {
		return nil
	}
	c := &callable{t}
	r.globals[x.name] = c
	return c
}

func (r *run) compare(a value, op string, b value) bool {
	r.chargeText(a, b)
	switch op {
	case "==":
		return r.looseEqual(a, b)
	case "===":
		return strictEqual(a, b)
	case "!=":
		return !r.looseEqual(a, b)
	case "!==":
		return !strictEqual(a, b)
	case "<":
		return r.less(a, b)
	case "<=":
		return r.lessEq(a, b)
	case ">":
		return r.greater(a, b)
	}
	return r.greaterEq(a, b)
}

func (r *run) evalBinary(x *binaryExpr, sc *scope, cx ctx) value {
	left := r.eval(x.l, sc, cx)
	switch x.op {
	case opOr:
		if truthy(left) {
			return left
		}
		return r.eval(x.r, sc, cx)
	case opAnd:
		if !truthy(left) {
			return left
		}
		return r.eval(x.r, sc, cx)
	}
	right := r.eval(x.r, sc, cx)
	r.pos = x.pos
	switch x.op {
	case opIn:
		return r.contains(right, left)
	case opAdd:
		return r.add(left, right)
	case opConcat:
		a, b := r.toString(left), r.toString(right)
		r.chargeString(len(a) + len(b))
		return concat(a, b)
	}
	a, b := r.toNumber(left), r.toNumber(right)
	switch x.op {
	case opSub:
		return a - b
	case opMul:
		return a * b
	case opDiv:
		return a / b
	case opMod:
		return math.Mod(a, b)
	}
	return r.pow(a, b)
}

// pow is ** with its cost: the extended-precision computation takes as long
// as a hundred ordinary steps.
func (r *run) pow(a, b float64) float64 {
	r.step(100)
	return powJS(a, b)
}

// contains is the in operator: substring of a string, own field (length,
// val) of a safe string, === element of an array, own key of a record.
func (r *run) contains(container, needle value) bool {
	r.chargeText(container, needle)
	switch c := container.(type) {
	case string:
		return strings.Contains(c, r.toString(needle))
	case *safeString:
		k := r.propertyKey(needle)
		return k == "length" || k == "val"
	case *array:
		r.step(len(c.items))
		for _, it := range c.items {
			if strictEqual(it, needle) {
				return true
			}
		}
		return false
	case *record:
		return c.has(r.propertyKey(needle))
	}
	r.fail("the in operator needs an array, record or string, not %s", kindName(container))
	return false
}

// evalSlice is Jinja's x[start:stop:step] as Nunjucks' compatibility code
// runs it: plain lookups from start by step, with negative bounds counted
// from the length once, and values that stay as they are (a string start
// makes string indices).
func (r *run) evalSlice(x *sliceExpr, sc *scope, cx ctx) value {
	target := r.eval(x.target, sc, cx)
	if _, ok := target.(*callable); ok {
		r.fail("callable values cannot be sliced")
	}
	if !truthy(target) {
		target = newArray(nil)
	}
	length := r.member(target, "length")
	start := r.eval(x.start, sc, cx)
	stop := r.eval(x.stop, sc, cx)
	step := r.eval(x.step, sc, cx)
	r.pos = x.pos
	if n := r.toNumber(step); n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		r.fail("slice step must be a finite number other than zero")
	}
	stepOrder := r.order(step, 0.0)
	if start == null {
		if stepOrder == -1 {
			start = r.toNumber(length) - 1
		} else {
			start = 0.0
		}
	}
	if stop == null {
		if stepOrder == -1 {
			stop = -1.0
		} else {
			stop = length
		}
	} else if r.less(stop, 0.0) {
		stop = r.add(stop, length)
	}
	if r.less(start, 0.0) {
		start = r.add(start, length)
	}
	var out []value
	for i := start; ; i = r.add(i, step) {
		if r.less(i, 0.0) || r.greater(i, length) {
			break
		}
		if (stepOrder == 1 && r.greaterEq(i, stop)) || (stepOrder == -1 && r.lessEq(i, stop)) {
			break
		}
		r.step(1)
		v := r.member(target, r.propertyKey(i))
		if containsCallable(v) {
			r.fail("callable values cannot be sliced")
		}
		out = append(out, v)
	}
	return newArray(out)
}

func (r *run) evalCall(x *callExpr, sc *scope, cx ctx) value {
	target := r.eval(x.callee, sc, cx)
	r.pos = x.pos
	c, ok := target.(*callable)
	if !ok {
		if name := calleeName(x.callee); name != "" {
			r.fail("%s is %s and cannot be called", name, kindName(target))
		}
		r.fail("%s cannot be called", kindName(target))
	}
	switch c.t.kind {
	case kMacro, kCaller:
		pos, kw := r.evalArgs(x.args, sc, cx)
		r.pos = x.pos
		return r.invokeMacro(c.t, pos, kw)
	case kUser:
		pos, kw := r.evalArgs(x.args, sc, cx)
		r.pos = x.pos
		in := make([]any, len(pos))
		for i, v := range pos {
			in[i] = r.toGo(v, 0)
		}
		out, err := c.t.fn(in, r.kwToGo(kw))
		if err != nil {
			panic(&posError{pos: x.pos, msg: fmt.Sprintf("%s: %v", c.t.name, err), err: err})
		}
		return r.fromGo(out, 0, true)
	}
	r.checkBuiltinArgs(c.t, x.args)
	pos, _ := r.evalArgs(x.args, sc, cx)
	r.pos = x.pos
	for _, v := range pos {
		if containsCallable(v) {
			r.fail("callable values cannot be passed to %s", c.t.name)
		}
	}
	return r.invokeBuiltin(c.t, pos)
}

// calleeName spells a callee for error messages, when it is a name path.
func calleeName(x expr) string {
	switch x := x.(type) {
	case *nameExpr:
		return x.name
	case *lookupExpr:
		if l, ok := x.key.(*literal); ok {
			if k, ok := l.v.(string); ok {
				if p := calleeName(x.target); p != "" {
					return p + "." + k
				}
			}
		}
	}
	return ""
}

func (r *run) kwToGo(kw kwargs) map[string]any {
	if len(kw) == 0 {
		return nil
	}
	m := make(map[string]any, len(kw))
	for _, e := range kw {
		m[e.k] = r.toGo(e.v, 0)
	}
	return m
}
