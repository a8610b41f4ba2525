package nunjucks

import (
	"fmt"
	"regexp"
)

// parser builds statements from the scanned tokens. Every error carries
// the offset of the offending tag or token.
type parser struct {
	src          string
	toks         []token
	i            int
	depth        int
	maxDepth     int
	cookiecutter bool
	blocks       map[string]bool
}

func (p *parser) failf(pos int, format string, args ...any) error {
	return &posError{pos: pos, msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parseTemplate() ([]stmt, error) {
	p.blocks = map[string]bool{}
	body, stop, err := p.parseBody()
	if err != nil {
		return nil, err
	}
	if stop != nil {
		name, _, _ := tagName(p.src, stop.lo, stop.hi)
		return nil, p.failf(stop.pos, "unexpected %s tag", name)
	}
	return body, nil
}

// closing tags and what they may be followed by, for parseBody.
var (
	bareClosers = map[string]bool{"else": true, "endif": true, "endfor": true, "endmacro": true, "endcall": true, "endfilter": true, "endset": true, "default": true, "endswitch": true}
	midTags     = map[string]bool{"elif": true, "elseif": true, "case": true}
)

// parseBody parses statements up to the next tag named in stops, which it
// consumes and returns (nil at the end of input).
func (p *parser) parseBody(stops ...string) ([]stmt, *token, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > p.maxDepth {
		pos := 0
		if p.i > 0 {
			pos = p.toks[p.i-1].pos
		}
		return nil, nil, &posError{pos: pos, msg: fmt.Sprintf("nesting deeper than %d", p.maxDepth), err: ErrLimit}
	}
	var body []stmt
	for p.i < len(p.toks) {
		t := &p.toks[p.i]
		p.i++
		switch t.kind {
		case tokText:
			body = append(body, &textStmt{at{t.pos}, t.text})
			continue
		case tokVar:
			x, err := p.expression(t.lo, t.hi)
			if err != nil {
				return nil, nil, err
			}
			body = append(body, &outputStmt{at{t.pos}, x})
			continue
		}
		name, rlo, rhi := tagName(p.src, t.lo, t.hi)
		for _, s := range stops {
			if s == name {
				if bareClosers[name] && rlo < rhi {
					return nil, nil, p.failf(t.pos, "%s tag takes no arguments", name)
				}
				return body, t, nil
			}
		}
		if bareClosers[name] || midTags[name] || name == "endblock" {
			return nil, nil, p.failf(t.pos, "unexpected %s tag", name)
		}
		s, err := p.parseStatement(name, t, rlo, rhi)
		if err != nil {
			return nil, nil, err
		}
		body = append(body, s)
	}
	return body, nil, nil
}

// parseUntil is parseBody that requires one of stops to be found.
func (p *parser) parseUntil(open *token, stops ...string) ([]stmt, *token, string, error) {
	body, stop, err := p.parseBody(stops...)
	if err != nil {
		return nil, nil, "", err
	}
	if stop == nil {
		name, _, _ := tagName(p.src, open.lo, open.hi)
		return nil, nil, "", p.failf(open.pos, "%s tag is missing its %s", name, stops[len(stops)-1])
	}
	name, _, _ := tagName(p.src, stop.lo, stop.hi)
	return body, stop, name, nil
}

func (p *parser) parseStatement(name string, t *token, lo, hi int) (stmt, error) {
	switch name {
	case "if":
		return p.parseIf(t, lo, hi)
	case "for":
		return p.parseFor(t, lo, hi)
	case "set":
		return p.parseSet(t, lo, hi)
	case "macro":
		return p.parseMacro(t, lo, hi)
	case "call":
		return p.parseCall(t, lo, hi)
	case "filter":
		return p.parseFilterBlock(t, lo, hi)
	case "block":
		return p.parseBlock(t, lo, hi)
	case "switch":
		return p.parseSwitch(t, lo, hi)
	case "include", "import", "from", "extends":
		return nil, p.failf(t.pos, "%s is not supported: templates cannot load other templates", name)
	case "":
		return nil, p.failf(t.pos, "empty block tag")
	}
	return nil, p.failf(t.pos, "unknown tag %q", name)
}

// withExpr runs a parse function over the tokens of src[lo:hi], turning
// its panics back into errors.
func (p *parser) withExpr(lo, hi int, f func(e *exprParser)) (err error) {
	toks, err := tokenize(p.src, lo, hi)
	if err != nil {
		return err
	}
	e := &exprParser{toks: toks, p: p}
	depth := p.depth
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(syntaxError)
			if !ok {
				panic(r)
			}
			p.depth = depth
			err = se.err
		}
	}()
	f(e)
	return nil
}

func (p *parser) expression(lo, hi int) (expr, error) {
	var x expr
	err := p.withExpr(lo, hi, func(e *exprParser) {
		x = e.parseInlineIf()
		e.expectEOF()
	})
	return x, err
}

// targets parses a comma-separated list of names, as for and set bind.
func (p *parser) targets(lo, hi int) ([]*nameExpr, error) {
	var names []*nameExpr
	err := p.withExpr(lo, hi, func(e *exprParser) {
		for {
			t := e.expectName()
			if literalNames[t.val] {
				e.fail(t.pos, "cannot assign to %s", t.val)
			}
			names = append(names, &nameExpr{at: at{t.pos}, name: t.val})
			if !e.accept(",") {
				break
			}
		}
		e.expectEOF()
	})
	return names, err
}

// signature parses macro or caller parameters in src[lo:hi] (without the
// parentheses): names, then name=default pairs.
func (p *parser) signature(name string, isCaller bool, lo, hi int) (*macroDef, error) {
	d := &macroDef{name: name, isCaller: isCaller}
	if trimCodeLeft(p.src, lo, hi) == hi {
		return d, nil
	}
	err := p.withExpr(lo, hi, func(e *exprParser) {
		e.toks[len(e.toks)-1] = etok{kind: etOp, val: ")", pos: hi}
		e.toks = append(e.toks, etok{kind: etEOF, pos: hi})
		args := e.parseArgs(")")
		e.expectEOF()
		for _, x := range args.pos {
			n, ok := x.(*nameExpr)
			if !ok {
				e.fail(x.position(), "parameters must be names")
			}
			d.formals = append(d.formals, n)
		}
		for _, kw := range args.kw {
			d.defaults = append(d.defaults, kwDefault{&nameExpr{at: at{kw.x.position()}, name: kw.name}, kw.x})
		}
	})
	return d, err
}

func (p *parser) parseIf(t *token, lo, hi int) (stmt, error) {
	cond, err := p.expression(lo, hi)
	if err != nil {
		return nil, err
	}
	s := &ifStmt{at: at{t.pos}, cond: cond}
	body, stop, name, err := p.parseUntil(t, "elif", "elseif", "else", "endif")
	if err != nil {
		return nil, err
	}
	s.then = body
	switch name {
	case "elif", "elseif":
		// Each elif nests the tree one level further.
		p.depth++
		defer func() { p.depth-- }()
		_, rlo, rhi := tagName(p.src, stop.lo, stop.hi)
		next, err := p.parseIf(stop, rlo, rhi)
		if err != nil {
			return nil, err
		}
		s.els = []stmt{next}
	case "else":
		if s.els, _, _, err = p.parseUntil(t, "endif"); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p *parser) parseFor(t *token, lo, hi int) (stmt, error) {
	in, err := findKeyword(p.src, lo, hi, "in")
	if err != nil {
		return nil, err
	}
	if in < 0 {
		return nil, p.failf(t.pos, "for tag needs an in")
	}
	targets, err := p.targets(lo, trimCodeRight(p.src, lo, in))
	if err != nil {
		return nil, err
	}
	if len(targets) == 1 && targets[0].name == "loop" {
		return nil, p.failf(targets[0].pos, "a single loop variable cannot be named loop")
	}
	iter, err := p.expression(in+2, hi)
	if err != nil {
		return nil, err
	}
	s := &forStmt{at: at{t.pos}, targets: targets, iter: iter}
	body, _, name, err := p.parseUntil(t, "else", "endfor")
	if err != nil {
		return nil, err
	}
	s.body = body
	if name == "else" {
		if s.els, _, _, err = p.parseUntil(t, "endfor"); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p *parser) parseSet(t *token, lo, hi int) (stmt, error) {
	eq, err := findTopLevel(p.src, lo, hi, '=')
	if err != nil {
		return nil, err
	}
	s := &setStmt{at: at{t.pos}}
	if eq >= 0 {
		if s.targets, err = p.targets(lo, trimCodeRight(p.src, lo, eq)); err != nil {
			return nil, err
		}
		s.value, err = p.expression(eq+1, hi)
		return s, err
	}
	if s.targets, err = p.targets(lo, hi); err != nil {
		return nil, err
	}
	if s.body, _, _, err = p.parseUntil(t, "endset"); err != nil {
		return nil, err
	}
	if containsMacro(s.body) {
		return nil, p.failf(t.pos, "macros cannot be declared inside a set block")
	}
	return s, nil
}

var macroHeader = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)(?:[ \t\n\r]|\x{a0})*\(`)

func (p *parser) parseMacro(t *token, lo, hi int) (stmt, error) {
	m := macroHeader.FindStringSubmatchIndex(p.src[lo:hi])
	if m == nil || hi == lo || p.src[hi-1] != ')' {
		return nil, p.failf(t.pos, "invalid macro signature")
	}
	def, err := p.signature(p.src[lo+m[2]:lo+m[3]], false, lo+m[1], hi-1)
	if err != nil {
		return nil, err
	}
	if def.body, _, _, err = p.parseUntil(t, "endmacro"); err != nil {
		return nil, err
	}
	return &macroStmt{at: at{t.pos}, def: def}, nil
}

func (p *parser) parseCall(t *token, lo, hi int) (stmt, error) {
	clo, chi := lo, lo // caller parameters
	if lo < hi && p.src[lo] == '(' {
		end, err := findMatching(p.src, lo, hi)
		if err != nil {
			return nil, err
		}
		if end < 0 {
			return nil, p.failf(t.pos, "invalid call block parameters")
		}
		clo, chi, lo = lo+1, end, trimCodeLeft(p.src, end+1, hi)
	}
	x, err := p.expression(lo, hi)
	if err != nil {
		return nil, err
	}
	call, ok := x.(*callExpr)
	if !ok {
		return nil, p.failf(t.pos, "call block needs a macro call")
	}
	if !staticCallee(call.callee) {
		return nil, p.failf(t.pos, "call block target must be a macro name")
	}
	caller, err := p.signature("caller", true, clo, chi)
	if err != nil {
		return nil, err
	}
	if caller.body, _, _, err = p.parseUntil(t, "endcall"); err != nil {
		return nil, err
	}
	return &callStmt{at: at{t.pos}, callee: call.callee, args: call.args, caller: caller}, nil
}

// staticCallee reports whether a call block target is a name or a chain of
// constant lookups on one.
func staticCallee(x expr) bool {
	switch x := x.(type) {
	case *nameExpr:
		return true
	case *lookupExpr:
		_, ok := x.key.(*literal)
		return ok && staticCallee(x.target)
	}
	return false
}

func (p *parser) parseFilterBlock(t *token, lo, hi int) (stmt, error) {
	body, _, _, err := p.parseUntil(t, "endfilter")
	if err != nil {
		return nil, err
	}
	if containsMacro(body) {
		return nil, p.failf(t.pos, "macros cannot be declared inside a filter block")
	}
	var f expr
	err = p.withExpr(lo, hi, func(e *exprParser) {
		f = e.parseFilterCall(&captureExpr{at{t.pos}, body})
		e.expectEOF()
	})
	if err != nil {
		return nil, err
	}
	return &outputStmt{at{t.pos}, f}, nil
}

func (p *parser) parseBlock(t *token, lo, hi int) (stmt, error) {
	x, err := p.expression(lo, hi)
	if err != nil {
		return nil, err
	}
	n, ok := x.(*nameExpr)
	if !ok {
		return nil, p.failf(t.pos, "block name must be a name")
	}
	if p.blocks[n.name] {
		return nil, p.failf(t.pos, "block %s is declared twice", n.name)
	}
	p.blocks[n.name] = true
	body, stop, _, err := p.parseUntil(t, "endblock")
	if err != nil {
		return nil, err
	}
	if _, rlo, rhi := tagName(p.src, stop.lo, stop.hi); rlo < rhi && p.src[rlo:rhi] != n.name {
		return nil, p.failf(stop.pos, "endblock name does not match block %s", n.name)
	}
	return &blockStmt{at: at{t.pos}, name: n.name, body: body}, nil
}

func (p *parser) parseSwitch(t *token, lo, hi int) (stmt, error) {
	x, err := p.expression(lo, hi)
	if err != nil {
		return nil, err
	}
	s := &switchStmt{at: at{t.pos}, x: x}
	lead, stop, name, err := p.parseUntil(t, "case", "default", "endswitch")
	if err != nil {
		return nil, err
	}
	// Nunjucks skips text before the first case; only whitespace is
	// accepted here so that stray content is not silently dropped.
	for _, l := range lead {
		if txt, ok := l.(*textStmt); !ok || trimJS(txt.s) != "" {
			return nil, p.failf(l.position(), "switch content must start with case or default")
		}
	}
	for name == "case" {
		_, rlo, rhi := tagName(p.src, stop.lo, stop.hi)
		cond, err := p.expression(rlo, rhi)
		if err != nil {
			return nil, err
		}
		var body []stmt
		if body, stop, name, err = p.parseUntil(t, "case", "default", "endswitch"); err != nil {
			return nil, err
		}
		s.cases = append(s.cases, caseClause{cond, body})
	}
	if name == "default" {
		s.hasDef = true
		if s.def, _, _, err = p.parseUntil(t, "endswitch"); err != nil {
			return nil, err
		}
	}
	if len(s.cases) == 0 && !s.hasDef {
		return nil, p.failf(t.pos, "switch needs a case or default")
	}
	return s, nil
}

// containsMacro reports whether a macro is declared anywhere in body.
func containsMacro(body []stmt) bool {
	for _, s := range body {
		switch s := s.(type) {
		case *macroStmt:
			return true
		case *ifStmt:
			if containsMacro(s.then) || containsMacro(s.els) {
				return true
			}
		case *forStmt:
			if containsMacro(s.body) || containsMacro(s.els) {
				return true
			}
		case *setStmt:
			if containsMacro(s.body) {
				return true
			}
		case *callStmt:
			if containsMacro(s.caller.body) {
				return true
			}
		case *blockStmt:
			if containsMacro(s.body) {
				return true
			}
		case *switchStmt:
			if containsMacro(s.def) {
				return true
			}
			for _, c := range s.cases {
				if containsMacro(c.body) {
					return true
				}
			}
		case *outputStmt:
			if f, ok := s.x.(*filterExpr); ok {
				if c, ok := f.input.(*captureExpr); ok && containsMacro(c.body) {
					return true
				}
			}
		}
	}
	return false
}
