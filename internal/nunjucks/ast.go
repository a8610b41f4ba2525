package nunjucks

// The syntax tree. The parser builds it; the resolver (resolve.go) then
// copies it, filling in the static slots, and the copy is what runs. Every
// node records the byte offset of its source for error positions.

// node is any syntax node.
type node interface{ position() int }

type expr = node
type stmt = node

type at struct{ pos int }

func (a at) position() int { return a.pos }

// Expressions.
type (
	literal struct {
		at
		v value // nil, null, bool, float64 or string
	}
	regexExpr struct {
		at
		lit *regexLit
	}
	// nameExpr is a variable reference or binding target. slot is set
	// when the name is bound statically (see resolve.go).
	nameExpr struct {
		at
		name string
		slot slotRef
	}
	arrayExpr struct {
		at
		items []expr
	}
	// groupExpr is a parenthesized, comma-separated list; its value is the
	// last one.
	groupExpr struct {
		at
		items []expr
	}
	dictExpr struct {
		at
		keys []string
		vals []expr
	}
	lookupExpr struct {
		at
		target, key expr
	}
	sliceExpr struct {
		at
		target, start, stop, step expr
	}
	condExpr struct {
		at
		cond, then, els expr // els may be nil
	}
	binaryExpr struct {
		at
		op   binOp
		l, r expr
	}
	unaryExpr struct {
		at
		op unOp
		x  expr
	}
	compareExpr struct {
		at
		first expr
		ops   []compareOp
	}
	// testExpr is "x is name(args)". The name is fixed when parsing, as
	// Nunjucks derives it from the syntax of the right-hand side.
	testExpr struct {
		at
		x    expr
		name string
		args *argList // nil when the test has no argument list
	}
	filterExpr struct {
		at
		name  string
		input expr
		args  argList
	}
	callExpr struct {
		at
		callee expr
		args   argList
	}
	// captureExpr is the body of a filter block, rendered to a string.
	captureExpr struct {
		at
		body []stmt
	}
)

type binOp uint8

const (
	opOr binOp = iota
	opAnd
	opIn
	opAdd
	opConcat
	opSub
	opMul
	opDiv
	opMod
	opPow
)

type unOp uint8

const (
	opNot unOp = iota
	opNeg
	opPos
	opFloor
)

type compareOp struct {
	op string // == === != !== < <= > >=
	x  expr
}

// argList is a call's arguments; keywords are evaluated after positionals.
type argList struct {
	pos []expr
	kw  []kwArg
}

type kwArg struct {
	name string
	x    expr
}

// Statements.
type (
	textStmt struct {
		at
		s string
	}
	outputStmt struct {
		at
		x expr
	}
	ifStmt struct {
		at
		cond      expr
		then, els []stmt
	}
	// forStmt is a loop. With several targets Nunjucks compiles the body
	// twice, once for arrays and once for records, and the two copies bind
	// names to different slots; the resolver makes the same two copies.
	forStmt struct {
		at
		targets []*nameExpr
		iter    expr
		body    []stmt
		els     []stmt
		// Set by the resolver: the slot keeping the last length (see
		// run.execFor), and for several targets the record branch.
		lenSlot    slotRef
		recTargets []*nameExpr
		recBody    []stmt
	}
	// setStmt assigns value, or the rendered body when value is nil.
	setStmt struct {
		at
		targets []*nameExpr
		value   expr
		body    []stmt
	}
	macroStmt struct {
		at
		def  *macroDef
		slot slotRef
	}
	// callStmt is a call block: callee is called with caller bound to the
	// block body.
	callStmt struct {
		at
		callee expr
		args   argList
		caller *macroDef
	}
	blockStmt struct {
		at
		name string
		body []stmt
		fn   *funcPlan
	}
	switchStmt struct {
		at
		x      expr
		cases  []caseClause
		def    []stmt
		hasDef bool
	}
)

// macroDef is a macro or a call block's caller body.
type macroDef struct {
	name     string
	formals  []*nameExpr // positional parameters
	defaults []kwDefault // parameters with a default, after the positional ones
	body     []stmt
	isCaller bool
	fn       *funcPlan
}

type kwDefault struct {
	name *nameExpr
	x    expr
}

type caseClause struct {
	cond expr
	body []stmt
}
