package nunjucks

import "math"

// Built-in tests, for "x is name(args)" and the select and reject filters.

// testFunc applies a test to its input and exactly arity arguments.
type testFunc func(r *run, in value, args []value) bool

type testDef struct {
	arity int
	// carriesCallables marks the tests that may see callables (callable
	// and the identity tests); the others refuse them as any coercion does.
	carriesCallables bool
	fn               testFunc
}

func testIdentity(r *run, in value, args []value) bool { return in == args[0] }

// testOrder passes when the order of input and argument is one of want.
func testOrder(want ...int) testFunc {
	return func(r *run, in value, args []value) bool {
		o := r.order(in, args[0])
		for _, w := range want {
			if o == w {
				return true
			}
		}
		return false
	}
}

var builtinTests = map[string]testDef{
	"callable": {0, true, func(r *run, in value, _ []value) bool { _, ok := in.(*callable); return ok }},
	"defined":  {0, false, func(r *run, in value, _ []value) bool { return in != nil }},
	"divisibleby": {1, false, func(r *run, in value, args []value) bool {
		return math.Mod(r.toNumber(in), r.toNumber(args[0])) == 0
	}},
	"escaped":     {0, false, func(r *run, in value, _ []value) bool { _, ok := in.(*safeString); return ok }},
	"eq":          {1, true, testIdentity},
	"equalto":     {1, true, testIdentity},
	"sameas":      {1, true, testIdentity},
	"ne":          {1, true, func(r *run, in value, args []value) bool { return in != args[0] }},
	"even":        {0, false, func(r *run, in value, _ []value) bool { return math.Mod(r.toNumber(in), 2) == 0 }},
	"odd":         {0, false, func(r *run, in value, _ []value) bool { return math.Mod(r.toNumber(in), 2) == 1 }},
	"falsy":       {0, false, func(r *run, in value, _ []value) bool { return !truthy(in) }},
	"truthy":      {0, false, func(r *run, in value, _ []value) bool { return truthy(in) }},
	"ge":          {1, false, testOrder(0, 1)},
	"gt":          {1, false, testOrder(1)},
	"greaterthan": {1, false, testOrder(1)},
	"le":          {1, false, testOrder(-1, 0)},
	"lt":          {1, false, testOrder(-1)},
	"lessthan":    {1, false, testOrder(-1)},
	"iterable": {0, false, func(r *run, in value, _ []value) bool {
		switch in.(type) {
		case nil, nullType:
			r.fail("the iterable test needs a value")
		case string, *safeString, *array:
			return true
		}
		return false
	}},
	"mapping": {0, false, func(r *run, in value, _ []value) bool {
		switch in.(type) {
		case *record, *safeString, *regexValue:
			return true
		}
		return false
	}},
	"lower":     {0, false, func(r *run, in value, _ []value) bool { return r.caseTest(in, lowerJS) }},
	"upper":     {0, false, func(r *run, in value, _ []value) bool { return r.caseTest(in, upperJS) }},
	"null":      {0, false, func(r *run, in value, _ []value) bool { return in == null }},
	"number":    {0, false, func(r *run, in value, _ []value) bool { _, ok := in.(float64); return ok }},
	"string":    {0, false, func(r *run, in value, _ []value) bool { _, ok := in.(string); return ok }},
	"undefined": {0, false, func(r *run, in value, _ []value) bool { return in == nil }},
}

// caseTest is the lower and upper tests: whether case mapping leaves a
// string unchanged. A safe string is neither (Nunjucks tests its wrapper).
func (r *run) caseTest(in value, mapping func(string) string) bool {
	if _, ok := in.(*safeString); ok {
		return false
	}
	s := r.text(in)
	return mapping(s) == s
}

// lookupTest finds a test and checks the number of arguments.
func (r *run) lookupTest(name string, nargs int) testDef {
	d, ok := builtinTests[name]
	if !ok {
		r.fail("unknown test %q", name)
	}
	if nargs != d.arity {
		r.fail("test %s takes %d argument(s), not %d", name, d.arity, nargs)
	}
	return d
}

func (r *run) applyTest(d testDef, in value, args []value) bool {
	r.chargeText(append([]value{in}, args...)...)
	if !d.carriesCallables {
		if containsCallable(in) {
			r.fail("callable values cannot be tested")
		}
		for _, a := range args {
			if containsCallable(a) {
				r.fail("callable values cannot be tested")
			}
		}
	}
	return d.fn(r, in, args)
}

func (r *run) evalTest(x *testExpr, sc *scope, cx ctx) value {
	r.pos = x.pos
	n := 0
	if x.args != nil {
		if len(x.args.kw) > 0 {
			r.fail("test %s does not accept keyword arguments", x.name)
		}
		n = len(x.args.pos)
	}
	d := r.lookupTest(x.name, n)
	in := r.eval(x.x, sc, cx)
	var args []value
	if x.args != nil {
		args, _ = r.evalArgs(*x.args, sc, cx)
	}
	r.pos = x.pos
	return r.applyTest(d, in, args)
}
