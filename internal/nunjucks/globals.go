package nunjucks

// Callables and the built-in globals range, cycler and joiner.

type callKind uint8

const (
	kMacro        callKind = iota
	kCaller                // a call block's body
	kGlobal                // range, cycler or joiner
	kCycler                // a cycler(...) result
	kCyclerMethod          // its next or reset
	kJoiner                // a joiner(...) result
	kUser                  // a registered Function
)

// callTarget is what a callable calls. Several callables may share one
// target: a callable read out of an array or record is a fresh alias, so
// that, as in Nunjucks, record.fn !== record.fn.
type callTarget struct {
	kind callKind
	name string // global name, or next/reset

	def  *macroDef  // macros and callers
	cell *frameCell // the frame variable of the defining function
	lex  *lexFrame  // callers: the call block's slots

	values []value // cyclers
	index  int
	owner  *callTarget // cycler methods

	sep  value // joiners
	used bool

	fn Function // registered functions
}

// callable is a template-visible handle on a callTarget.
type callable struct{ t *callTarget }

var builtinGlobals = map[string]bool{"range": true, "cycler": true, "joiner": true}

// checkBuiltinArgs validates the argument syntax of a built-in call before
// anything is evaluated.
func (r *run) checkBuiltinArgs(t *callTarget, a argList) {
	if len(a.kw) > 0 {
		r.fail("%s does not accept keyword arguments", t.name)
	}
	switch {
	case t.kind == kGlobal && t.name == "range" && len(a.pos) > 3:
		r.fail("range accepts at most 3 arguments")
	case t.kind == kGlobal && t.name == "joiner" && len(a.pos) > 1:
		r.fail("joiner accepts at most 1 argument")
	case (t.kind == kJoiner || t.kind == kCyclerMethod) && len(a.pos) > 0:
		r.fail("%s takes no arguments", t.name)
	case t.kind == kCycler:
		r.fail("a cycler is not callable; call its next method")
	}
}

func (r *run) invokeBuiltin(t *callTarget, args []value) value {
	switch t.kind {
	case kGlobal:
		switch t.name {
		case "range":
			return r.rangeGlobal(args)
		case "cycler":
			return &callable{&callTarget{kind: kCycler, name: "cycler", values: append([]value(nil), args...), index: -1}}
		}
		sep := value(",")
		if len(args) > 0 && truthy(args[0]) {
			sep = args[0]
		}
		return &callable{&callTarget{kind: kJoiner, name: "joiner", sep: sep}}
	case kJoiner:
		if !t.used {
			t.used = true
			return ""
		}
		return t.sep
	case kCyclerMethod:
		c := t.owner
		if t.name == "reset" {
			c.index = -1
			return nil
		}
		if len(c.values) == 0 {
			c.index = 0
			return nil
		}
		c.index = (c.index + 1) % len(c.values)
		return c.values[c.index]
	}
	r.fail("%s is not callable", t.name)
	return nil
}

// builtinMember reads a property of a callable: a cycler's current, next
// and reset. Other callables have no properties.
func (r *run) builtinMember(t *callTarget, key string) value {
	if t.kind != kCycler {
		return nil
	}
	switch key {
	case "current":
		if t.index < 0 {
			return null
		}
		if t.index < len(t.values) {
			return aliasCallable(t.values[t.index])
		}
		return nil
	case "next", "reset":
		return &callable{&callTarget{kind: kCyclerMethod, name: key, owner: t}}
	}
	return nil
}

// rangeGlobal is range([start,] stop[, step]). It keeps its arguments'
// types, comparing and adding as JavaScript does, so range("1", 4) is
// ["1"]: "1" + 1 is "11".
func (r *run) rangeGlobal(args []value) value {
	start, stop, step := arg(args, 0), arg(args, 1), arg(args, 2)
	if stop == nil {
		start, stop, step = 0.0, start, 1.0
	} else if !truthy(step) {
		step = 1.0
	}
	var out []value
	up := r.greater(step, 0.0)
	for v := start; ; v = r.add(v, step) {
		if up && !r.less(v, stop) || !up && !r.greater(v, stop) {
			break
		}
		r.step(1)
		out = append(out, v)
	}
	return newArray(out)
}

// arg is the i-th argument, or undefined.
func arg(args []value, i int) value {
	if i < len(args) {
		return args[i]
	}
	return nil
}
