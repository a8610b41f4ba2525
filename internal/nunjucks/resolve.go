package nunjucks

import "fmt"

// Static scope. Nunjucks compiles templates to JavaScript, and some names
// become JavaScript variables of the compiled function instead of entries
// of its runtime frames: macros, loop variables and positional macro
// parameters. A reference compiled while such a binding is in scope reads
// the variable, even when the statement that would set it never ran (then
// it is undefined, never a context value of the same name). The variables
// live as long as the compiled function's invocation: a loop body entered
// twice sees what the previous entry left.
//
// The resolver reproduces that compilation in the order Nunjucks' compiler
// walks the tree, giving each binding a slot in the frame of its function
// (the root, a block, a macro or a caller) and each reference the slot
// visible at its position. It copies the tree as it goes, because a loop
// with several targets is compiled twice (once for arrays, once for
// records) and the two copies see different slots.

// funcPlan is one compiled function: the root, a block, a macro or a
// caller. Each invocation allocates nslots slots.
type funcPlan struct{ nslots int }

// slotRef names a slot; fn is nil when a name has no static binding.
type slotRef struct {
	fn *funcPlan
	i  int
}

// region is the static scope at one point: the function whose slots new
// bindings take, and the names bound so far.
type region struct {
	fn    *funcPlan
	names map[string]slotRef
}

// child copies the region for a nested scope; r pays for the copy.
func (g *region) child(r *resolver) *region {
	r.work += len(g.names)
	names := make(map[string]slotRef, len(g.names))
	for k, v := range g.names {
		names[k] = v
	}
	return &region{fn: g.fn, names: names}
}

func (g *region) newSlot() slotRef {
	s := slotRef{g.fn, g.fn.nslots}
	g.fn.nslots++
	return s
}

func (g *region) bind(n *nameExpr) *nameExpr {
	c := *n
	c.slot = g.newSlot()
	g.names[n.name] = c.slot
	return &c
}

// resolver counts the nodes it copies against the step limit: nested
// multi-target loops double the tree at each level.
type resolver struct {
	work, maxWork int
}

// limitError unwinds the resolver when the copy grows too large.
type limitError struct{ err error }

func (r *resolver) resolveRoot(body []stmt, fn *funcPlan) (out []stmt, err error) {
	defer func() {
		if v := recover(); v != nil {
			le, ok := v.(limitError)
			if !ok {
				panic(v)
			}
			err = le.err
		}
	}()
	return r.stmts(body, &region{fn: fn, names: map[string]slotRef{}}), nil
}

func (r *resolver) count(n node) {
	r.work++
	if r.work > r.maxWork {
		panic(limitError{&posError{pos: n.position(), msg: fmt.Sprintf("template expands to more than %d nodes", r.maxWork), err: ErrLimit}})
	}
}

func (r *resolver) stmts(list []stmt, g *region) []stmt {
	if list == nil {
		return nil
	}
	out := make([]stmt, len(list))
	for i, s := range list {
		out[i] = r.stmt(s, g)
	}
	return out
}

func (r *resolver) stmt(s stmt, g *region) stmt {
	r.count(s)
	switch s := s.(type) {
	case *textStmt:
		return s
	case *outputStmt:
		return &outputStmt{s.at, r.expr(s.x, g)}
	case *ifStmt:
		return &ifStmt{s.at, r.expr(s.cond, g), r.stmts(s.then, g), r.stmts(s.els, g)}
	case *forStmt:
		return r.forStmt(s, g)
	case *setStmt:
		c := &setStmt{at: s.at}
		if s.value != nil {
			c.value = r.expr(s.value, g)
		}
		c.body = r.stmts(s.body, g)
		for _, t := range s.targets {
			c.targets = append(c.targets, r.name(t, g))
		}
		return c
	case *macroStmt:
		c := &macroStmt{at: s.at}
		c.slot = g.newSlot()
		g.names[s.def.name] = c.slot
		c.def = r.callable(s.def, nil)
		return c
	case *callStmt:
		c := &callStmt{at: s.at, callee: r.expr(s.callee, g), args: r.args(s.args, g)}
		c.caller = r.callable(s.caller, g.names)
		return c
	case *blockStmt:
		fn := &funcPlan{}
		return &blockStmt{s.at, s.name, r.stmts(s.body, &region{fn: fn, names: map[string]slotRef{}}), fn}
	case *switchStmt:
		c := &switchStmt{at: s.at, x: r.expr(s.x, g), hasDef: s.hasDef}
		for _, cc := range s.cases {
			c.cases = append(c.cases, caseClause{r.expr(cc.cond, g), r.stmts(cc.body, g)})
		}
		c.def = r.stmts(s.def, g)
		return c
	}
	panic(fmt.Sprintf("nunjucks: unknown statement %T", s))
}

// forStmt binds loop targets as Nunjucks' compileFor does. A single target
// gets one body. Several targets get an array body binding every target,
// and a record body that inherits those bindings, rebinds the first two
// (key and value), and is also where else compiles.
func (r *resolver) forStmt(s *forStmt, g *region) stmt {
	c := &forStmt{at: s.at, iter: r.expr(s.iter, g)}
	c.lenSlot = g.newSlot()
	arr := g.child(r)
	for _, t := range s.targets {
		c.targets = append(c.targets, arr.bind(t))
	}
	c.body = r.stmts(s.body, arr)
	if len(s.targets) == 1 {
		c.els = r.stmts(s.els, arr)
		return c
	}
	rec := arr.child(r)
	for _, t := range s.targets[:2] {
		c.recTargets = append(c.recTargets, rec.bind(t))
	}
	c.recBody = r.stmts(s.body, rec)
	c.els = r.stmts(s.els, rec)
	return c
}

// callable resolves a macro (a new function that inherits no bindings) or
// a caller (a closure that inherits those at its call block). Positional
// parameters get slots, a repeated one sharing its first slot; defaulted
// parameters stay runtime names.
func (r *resolver) callable(d *macroDef, inherited map[string]slotRef) *macroDef {
	c := &macroDef{name: d.name, isCaller: d.isCaller, fn: &funcPlan{}}
	g := &region{fn: c.fn, names: map[string]slotRef{}}
	for k, v := range inherited {
		g.names[k] = v
	}
	own := map[string]slotRef{}
	for _, f := range d.formals {
		r.count(f)
		if s, ok := own[f.name]; ok {
			n := *f
			n.slot = s
			c.formals = append(c.formals, &n)
			continue
		}
		n := g.bind(f)
		own[f.name] = n.slot
		c.formals = append(c.formals, n)
	}
	for _, kw := range d.defaults {
		c.defaults = append(c.defaults, kwDefault{kw.name, r.expr(kw.x, g)})
	}
	c.body = r.stmts(d.body, g)
	return c
}

// name resolves a reference or assignment target to its visible slot.
func (r *resolver) name(n *nameExpr, g *region) *nameExpr {
	c := *n
	c.slot = g.names[n.name]
	return &c
}

func (r *resolver) args(a argList, g *region) argList {
	var c argList
	for _, x := range a.pos {
		c.pos = append(c.pos, r.expr(x, g))
	}
	for _, kw := range a.kw {
		c.kw = append(c.kw, kwArg{kw.name, r.expr(kw.x, g)})
	}
	return c
}

func (r *resolver) exprs(list []expr, g *region) []expr {
	out := make([]expr, len(list))
	for i, x := range list {
		out[i] = r.expr(x, g)
	}
	return out
}

func (r *resolver) expr(x expr, g *region) expr {
	if x == nil {
		return nil
	}
	r.count(x)
	switch x := x.(type) {
	case *literal, *regexExpr:
		return x
	case *nameExpr:
		return r.name(x, g)
	case *arrayExpr:
		return &arrayExpr{x.at, r.exprs(x.items, g)}
	case *groupExpr:
		return &groupExpr{x.at, r.exprs(x.items, g)}
	case *dictExpr:
		return &dictExpr{x.at, x.keys, r.exprs(x.vals, g)}
	case *lookupExpr:
		return &lookupExpr{x.at, r.expr(x.target, g), r.expr(x.key, g)}
	case *sliceExpr:
		return &sliceExpr{x.at, r.expr(x.target, g), r.expr(x.start, g), r.expr(x.stop, g), r.expr(x.step, g)}
	case *condExpr:
		return &condExpr{x.at, r.expr(x.cond, g), r.expr(x.then, g), r.expr(x.els, g)}
	case *binaryExpr:
		return &binaryExpr{x.at, x.op, r.expr(x.l, g), r.expr(x.r, g)}
	case *unaryExpr:
		return &unaryExpr{x.at, x.op, r.expr(x.x, g)}
	case *compareExpr:
		c := &compareExpr{x.at, r.expr(x.first, g), nil}
		for _, o := range x.ops {
			c.ops = append(c.ops, compareOp{o.op, r.expr(o.x, g)})
		}
		return c
	case *testExpr:
		c := &testExpr{x.at, r.expr(x.x, g), x.name, nil}
		if x.args != nil {
			a := r.args(*x.args, g)
			c.args = &a
		}
		return c
	case *filterExpr:
		return &filterExpr{x.at, x.name, r.expr(x.input, g), r.args(x.args, g)}
	case *callExpr:
		return &callExpr{x.at, r.expr(x.callee, g), r.args(x.args, g)}
	case *captureExpr:
		return &captureExpr{x.at, r.stmts(x.body, g)}
	}
	panic(fmt.Sprintf("nunjucks: unknown expression %T", x))
}
