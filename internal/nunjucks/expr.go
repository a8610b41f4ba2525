package nunjucks

import (
	"fmt"
	"strings"
)

// Expression syntax. The grammar follows the grouping that Nunjucks 3.2.4
// observably produces, which is not conventional precedence: power is
// left-associative and binds tighter than unary minus's operand filters,
// floor division wraps its whole left sequence, "not" distributes into the
// left operand of arithmetic and comparisons, and the right side of "is"
// is syntax from which the test name is read, not an expression.

type etokKind uint8

const (
	etEOF etokKind = iota
	etName
	etNumber
	etString
	etRegex
	etOp
)

type etok struct {
	kind etokKind
	val  string
	pos  int
	re   *regexLit
}

// tokenize splits src[lo:hi] into expression tokens.
func tokenize(src string, lo, hi int) ([]etok, error) {
	toks := make([]etok, 0, (hi-lo)/2+2)
	i := lo
	for i < hi {
		if n := codeSpaceAt(src, i); n > 0 && i+n <= hi {
			i += n
			continue
		}
		c := src[i]
		if j := identEnd(src[:hi], i); j > i {
			if j == i+1 && c == 'r' && j < hi && src[j] == '/' {
				end, source, flags, err := scanRegex(src[:hi], i)
				if err != nil {
					return nil, err
				}
				lit, err := newRegexLit(source, flags)
				if err != nil {
					return nil, &posError{pos: i, msg: "invalid regular expression: " + err.Error()}
				}
				toks = append(toks, etok{kind: etRegex, pos: i, re: lit})
				i = end
				continue
			}
			toks = append(toks, etok{kind: etName, val: src[i:j], pos: i})
			i = j
			continue
		}
		if c >= '0' && c <= '9' {
			j := i
			for j < hi && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			if j < hi && src[j] == '.' {
				j++
				for j < hi && src[j] >= '0' && src[j] <= '9' {
					j++
				}
			}
			if j < hi && isIdentStart(src[j]) {
				return nil, &posError{pos: i, msg: "invalid number"}
			}
			toks = append(toks, etok{kind: etNumber, val: src[i:j], pos: i})
			i = j
			continue
		}
		if c == '.' && i+1 < hi && src[i+1] >= '0' && src[i+1] <= '9' {
			return nil, &posError{pos: i, msg: "invalid number"}
		}
		if c == '"' || c == '\'' {
			s, end, err := readString(src, i, hi)
			if err != nil {
				return nil, err
			}
			toks = append(toks, etok{kind: etString, val: s, pos: i})
			i = end
			continue
		}
		op := ""
		for _, cand := range []string{"===", "!==", "**", "//", "==", "!=", "<=", ">="} {
			if strings.HasPrefix(src[i:hi], cand) {
				op = cand
				break
			}
		}
		if op == "" {
			if strings.IndexByte("()[]{}.,:|~+-*/%<>=", c) < 0 {
				r, _ := decodeWTF8(src[i:])
				return nil, &posError{pos: i, msg: fmt.Sprintf("unexpected character %q", r)}
			}
			op = src[i : i+1]
		}
		toks = append(toks, etok{kind: etOp, val: op, pos: i})
		i += len(op)
	}
	return append(toks, etok{kind: etEOF, pos: hi}), nil
}

// readString reads a string literal. As in Nunjucks, only \n, \t and \r
// are escapes; a backslash before anything else stands for that character.
func readString(src string, i, hi int) (string, int, error) {
	q := src[i]
	var b strings.Builder
	for j := i + 1; j < hi; j++ {
		c := src[j]
		switch {
		case c == q:
			return b.String(), j + 1, nil
		case c == '\\' && j+1 < hi:
			j++
			switch src[j] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(src[j])
			}
		case c == '\\':
			j++
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, &posError{pos: i, msg: "unterminated string"}
}

// exprParser parses one tag's expression tokens.
type exprParser struct {
	toks []etok
	i    int
	p    *parser // for the shared nesting depth
}

// syntaxError unwinds the expression parser; parseExpr recovers it.
type syntaxError struct{ err error }

func (e *exprParser) fail(pos int, format string, args ...any) {
	panic(syntaxError{&posError{pos: pos, msg: fmt.Sprintf(format, args...)}})
}

func (e *exprParser) peek(n int) etok {
	return e.toks[min(e.i+n, len(e.toks)-1)]
}

func (e *exprParser) isOp(v string) bool {
	t := e.peek(0)
	return t.kind == etOp && t.val == v
}

func (e *exprParser) accept(v string) bool {
	if e.isOp(v) {
		e.i++
		return true
	}
	return false
}

func (e *exprParser) acceptName(v string) bool {
	if t := e.peek(0); t.kind == etName && t.val == v {
		e.i++
		return true
	}
	return false
}

func (e *exprParser) expect(v string) {
	if !e.accept(v) {
		e.fail(e.peek(0).pos, "expected %q, found %s", v, describe(e.peek(0)))
	}
}

func (e *exprParser) expectName() etok {
	t := e.peek(0)
	if t.kind != etName {
		e.fail(t.pos, "expected a name, found %s", describe(t))
	}
	e.i++
	return t
}

func (e *exprParser) expectEOF() {
	if t := e.peek(0); t.kind != etEOF {
		e.fail(t.pos, "unexpected %s", describe(t))
	}
}

func describe(t etok) string {
	switch t.kind {
	case etEOF:
		return "end of expression"
	case etRegex:
		return "regular expression"
	case etString:
		return "string"
	}
	return fmt.Sprintf("%q", t.val)
}

// nest counts one level of nesting against the depth limit; the returned
// func undoes it.
func (e *exprParser) nest(pos int) func() {
	e.p.depth++
	if e.p.depth > e.p.maxDepth {
		panic(syntaxError{&posError{pos: pos, msg: fmt.Sprintf("nesting deeper than %d", e.p.maxDepth), err: ErrLimit}})
	}
	return func() { e.p.depth-- }
}

// chain counts each step of a left-associative chain as a level, since
// each one nests the tree further; done undoes them all.
type chain struct {
	e *exprParser
	n int
}

func (c *chain) link(pos int) {
	c.e.nest(pos)
	c.n++
}

func (c *chain) done() { c.e.p.depth -= c.n }

var literalNames = map[string]bool{"true": true, "false": true, "null": true, "none": true}

func (e *exprParser) parseInlineIf() expr {
	body := e.parseOr()
	if !e.acceptName("if") {
		return body
	}
	defer e.nest(body.position())()
	cond := e.parseOr()
	var els expr
	if e.acceptName("else") {
		els = e.parseOr()
	}
	return &condExpr{at{body.position()}, cond, body, els}
}

func (e *exprParser) parseOr() expr {
	left := e.parseAnd()
	c := chain{e: e}
	defer c.done()
	for e.acceptName("or") {
		c.link(left.position())
		left = &binaryExpr{at{left.position()}, opOr, left, e.parseAnd()}
	}
	return left
}

func (e *exprParser) parseAnd() expr {
	left := e.parseNot()
	c := chain{e: e}
	defer c.done()
	for e.acceptName("and") {
		c.link(left.position())
		left = &binaryExpr{at{left.position()}, opAnd, left, e.parseNot()}
	}
	return left
}

func (e *exprParser) parseNot() expr {
	t := e.peek(0)
	if e.acceptName("not") {
		defer e.nest(t.pos)()
		return lowerNot(e.parseNot(), t.pos)
	}
	return e.parseMembership()
}

// lowerNot applies "not" as Nunjucks compiles it: into the left operand of
// arithmetic and of comparisons, so "not 1 + 1" is (not 1) + 1.
func lowerNot(x expr, pos int) expr {
	switch x := x.(type) {
	case *binaryExpr:
		switch x.op {
		case opAdd, opConcat, opSub, opMul, opDiv, opMod:
			return &binaryExpr{at{pos}, x.op, lowerNot(x.l, pos), x.r}
		}
	case *compareExpr:
		return &compareExpr{at{pos}, lowerNot(x.first, pos), x.ops}
	}
	return &unaryExpr{at{pos}, opNot, x}
}

func (e *exprParser) parseMembership() expr {
	left := e.parseTest()
	c := chain{e: e}
	defer c.done()
	for {
		negate := false
		if t, u := e.peek(0), e.peek(1); t.kind == etName && t.val == "not" && u.kind == etName && u.val == "in" {
			e.i += 2
			negate = true
		} else if !e.acceptName("in") {
			return left
		}
		c.link(left.position())
		left = &binaryExpr{at{left.position()}, opIn, left, e.parseTest()}
		if negate {
			left = &unaryExpr{at{left.position()}, opNot, left}
		}
	}
}

func (e *exprParser) parseTest() expr {
	left := e.parseEquality()
	if !e.acceptName("is") {
		return left
	}
	defer e.nest(left.position())()
	negate := e.acceptName("not")
	rhs := e.parseEquality()
	t := &testExpr{at: at{rhs.position()}, x: left}
	switch r := rhs.(type) {
	case *callExpr:
		t.name, t.args = staticTestName(r.callee), &r.args
	case *filterExpr:
		args := argList{pos: append([]expr{r.input}, r.args.pos...), kw: r.args.kw}
		t.name, t.args = r.name, &args
	default:
		t.name = staticTestName(rhs)
	}
	if negate {
		return &unaryExpr{at{left.position()}, opNot, t}
	}
	return t
}

// staticTestName is the test a right-hand side of "is" names: its spelling
// for a name or literal, and "undefined" for any other syntax, as Nunjucks
// reads the name field of whatever node it finds there.
func staticTestName(x expr) string {
	switch x := x.(type) {
	case *nameExpr:
		return x.name
	case *literal:
		return primitiveString(x.v)
	case *regexExpr:
		return x.lit.String()
	}
	return "undefined"
}

func (e *exprParser) parseEquality() expr {
	left := e.parseRelational()
	var ops []compareOp
	c := chain{e: e}
	defer c.done()
	for t := e.peek(0); t.kind == etOp && (t.val == "==" || t.val == "===" || t.val == "!=" || t.val == "!=="); t = e.peek(0) {
		e.i++
		c.link(t.pos)
		ops = append(ops, compareOp{t.val, e.parseRelational()})
	}
	if ops == nil {
		return left
	}
	return &compareExpr{at{left.position()}, left, ops}
}

func (e *exprParser) parseRelational() expr {
	left := e.parseAdditive()
	var ops []compareOp
	c := chain{e: e}
	defer c.done()
	for t := e.peek(0); t.kind == etOp && (t.val == "<" || t.val == "<=" || t.val == ">" || t.val == ">="); t = e.peek(0) {
		e.i++
		c.link(t.pos)
		ops = append(ops, compareOp{t.val, e.parseAdditive()})
	}
	if ops == nil {
		return left
	}
	return &compareExpr{at{left.position()}, left, ops}
}

func (e *exprParser) parseAdditive() expr {
	left := e.parseMultiply()
	c := chain{e: e}
	defer c.done()
	for {
		var op binOp
		switch {
		case e.accept("+"):
			op = opAdd
		case e.accept("-"):
			op = opSub
		case e.accept("~"):
			op = opConcat
		default:
			return left
		}
		c.link(left.position())
		left = &binaryExpr{at{left.position()}, op, left, e.parseMultiply()}
	}
}

// mulSeq is a flat run of *, / and % operands that Nunjucks nests left to
// right once the whole run is known; floor division instead closes the run
// so far and wraps it.
type mulSeq struct {
	first expr
	ops   []mulOp
}

type mulOp struct {
	op binOp
	r  expr
}

func (e *exprParser) parseMultiply() expr {
	c := chain{e: e}
	defer c.done()
	return e.materialize(e.parseMulSeq(&c))
}

func (e *exprParser) materialize(s mulSeq) expr {
	left := s.first
	for _, o := range s.ops {
		left = &binaryExpr{at{left.position()}, o.op, left, o.r}
	}
	return left
}

func (e *exprParser) parseMulSeq(c *chain) mulSeq {
	s := e.parseDivSeq(c)
	for e.accept("*") {
		c.link(s.first.position())
		r := e.parseDivSeq(c)
		s.ops = append(append(s.ops, mulOp{opMul, r.first}), r.ops...)
	}
	return s
}

func (e *exprParser) parseDivSeq(c *chain) mulSeq {
	s := e.parseFloorSeq(c)
	for e.accept("/") {
		c.link(s.first.position())
		r := e.parseFloorSeq(c)
		s.ops = append(append(s.ops, mulOp{opDiv, r.first}), r.ops...)
	}
	return s
}

func (e *exprParser) parseFloorSeq(c *chain) mulSeq {
	s := e.parseModSeq(c)
	for e.accept("//") {
		c.link(s.first.position())
		r := e.parseModSeq(c)
		s.ops = append(append(s.ops, mulOp{opDiv, r.first}), r.ops...)
		x := e.materialize(s)
		s = mulSeq{first: &unaryExpr{at{x.position()}, opFloor, x}}
	}
	return s
}

func (e *exprParser) parseModSeq(c *chain) mulSeq {
	s := mulSeq{first: e.parsePower()}
	for e.accept("%") {
		c.link(s.first.position())
		s.ops = append(s.ops, mulOp{opMod, e.parsePower()})
	}
	return s
}

func (e *exprParser) parsePower() expr {
	left := e.parseFilter()
	c := chain{e: e}
	defer c.done()
	for e.accept("**") {
		c.link(left.position())
		left = &binaryExpr{at{left.position()}, opPow, left, e.parseFilter()}
	}
	return left
}

func (e *exprParser) parseFilter() expr {
	x := e.parseUnary()
	c := chain{e: e}
	defer c.done()
	for e.accept("|") {
		c.link(x.position())
		x = e.parseFilterCall(x)
	}
	return x
}

// parseFilterCall parses "name(args)" applied to input.
func (e *exprParser) parseFilterCall(input expr) expr {
	t := e.expectName()
	name := t.val
	for e.accept(".") {
		name += "." + e.expectName().val
	}
	f := &filterExpr{at: at{t.pos}, name: name, input: input}
	if e.accept("(") {
		defer e.nest(t.pos)()
		f.args = e.parseArgs(")")
	}
	return f
}

func (e *exprParser) parseUnary() expr {
	t := e.peek(0)
	var op unOp
	switch {
	case e.accept("-"):
		op = opNeg
	case e.accept("+"):
		op = opPos
	default:
		return e.parsePostfix()
	}
	defer e.nest(t.pos)()
	x := e.parseUnary()
	if u, ok := x.(*unaryExpr); ok && u.op == op {
		e.fail(x.position(), "repeated unary %s needs parentheses", t.val)
	}
	return &unaryExpr{at{t.pos}, op, x}
}

func (e *exprParser) parsePostfix() expr {
	x := e.parsePrimary()
	c := chain{e: e}
	defer c.done()
	for {
		t := e.peek(0)
		switch {
		case e.accept("."):
			c.link(t.pos)
			k := e.expectName()
			x = &lookupExpr{at{k.pos}, x, &literal{at{k.pos}, k.val}}
		case e.accept("["):
			c.link(t.pos)
			x = e.parseSubscript(x, t.pos)
			e.expect("]")
		case e.accept("("):
			c.link(t.pos)
			x = &callExpr{at{x.position()}, x, e.parseArgs(")")}
		default:
			return x
		}
	}
}

func (e *exprParser) parseSubscript(target expr, pos int) expr {
	var start expr
	if !e.isOp(":") && !e.isOp("]") {
		start = e.parseInlineIf()
	}
	if !e.accept(":") {
		if start == nil {
			e.fail(pos, "expected a subscript")
		}
		return &lookupExpr{at{start.position()}, target, start}
	}
	s := &sliceExpr{at: at{pos}, target: target, start: &literal{at{pos}, null}, stop: &literal{at{pos}, null}, step: &literal{at{pos}, 1.0}}
	if start != nil {
		s.start = start
	}
	if !e.isOp(":") && !e.isOp("]") {
		s.stop = e.parseInlineIf()
	}
	if e.accept(":") && !e.isOp("]") {
		s.step = e.parseInlineIf()
	}
	return s
}

func (e *exprParser) parsePrimary() expr {
	t := e.peek(0)
	switch t.kind {
	case etNumber:
		e.i++
		return &literal{at{t.pos}, parseDecimal(t.val)}
	case etString:
		e.i++
		return &literal{at{t.pos}, t.val}
	case etRegex:
		e.i++
		return &regexExpr{at{t.pos}, t.re}
	case etName:
		e.i++
		switch t.val {
		case "true":
			return &literal{at{t.pos}, true}
		case "false":
			return &literal{at{t.pos}, false}
		case "none", "null":
			return &literal{at{t.pos}, null}
		}
		return &nameExpr{at: at{t.pos}, name: t.val}
	}
	defer e.nest(t.pos)()
	switch {
	case e.accept("("):
		items := e.parseList(")")
		if len(items) == 0 {
			e.fail(t.pos, "empty parentheses")
		}
		return &groupExpr{at{t.pos}, items}
	case e.accept("["):
		return &arrayExpr{at{t.pos}, e.parseList("]")}
	case e.accept("{"):
		return e.parseDict(t.pos)
	}
	e.fail(t.pos, "unexpected %s", describe(t))
	return nil
}

func (e *exprParser) parseDict(pos int) expr {
	d := &dictExpr{at: at{pos}}
	if e.accept("}") {
		return d
	}
	for {
		t := e.peek(0)
		switch {
		case t.kind == etName && !literalNames[t.val], t.kind == etString:
			e.i++
		default:
			e.fail(t.pos, "dictionary keys must be names or strings")
		}
		e.expect(":")
		d.keys = append(d.keys, t.val)
		d.vals = append(d.vals, e.parseInlineIf())
		if !e.accept(",") {
			break
		}
	}
	e.expect("}")
	return d
}

func (e *exprParser) parseList(end string) []expr {
	var items []expr
	if e.accept(end) {
		return items
	}
	for {
		items = append(items, e.parseInlineIf())
		if !e.accept(",") {
			break
		}
	}
	e.expect(end)
	return items
}

// parseArgs parses call arguments up to end: positional ones and name=value
// keywords, in any order.
func (e *exprParser) parseArgs(end string) argList {
	var a argList
	if e.accept(end) {
		return a
	}
	for {
		if t, u := e.peek(0), e.peek(1); t.kind == etName && u.kind == etOp && u.val == "=" {
			e.i += 2
			a.kw = append(a.kw, kwArg{t.val, e.parseInlineIf()})
		} else {
			a.pos = append(a.pos, e.parseInlineIf())
		}
		if !e.accept(",") {
			break
		}
	}
	e.expect(end)
	return a
}
