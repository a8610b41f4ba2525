package nunjucks

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"unicode/utf8"
)

// Syntax selects the variable delimiters. Tags ({% %}) and comments
// ({# #}) are the same in both.
type Syntax int

const (
	// BackstageSyntax writes variables as ${{ expr }}, as Backstage's
	// scaffolder templates do. It is the zero value.
	BackstageSyntax Syntax = iota
	// NunjucksSyntax writes variables as {{ expr }}, Nunjucks' default and
	// Backstage's cookiecutterCompat mode.
	NunjucksSyntax
)

// Filter is a filter registered by the application. It receives the filter
// input and the call's arguments as plain values (see [Template.Value] for
// their Go types; null and undefined are both nil) and returns a plain
// value. An error stops the render.
type Filter func(input any, args []any, kwargs map[string]any) (any, error)

// Function is a global function registered by the application, called
// from templates like a macro. It sees and returns plain values as a
// [Filter] does.
type Function func(args []any, kwargs map[string]any) (any, error)

// Options configure [Parse]. The zero value is Backstage's default.
type Options struct {
	Syntax Syntax
	// TrimBlocks removes the first newline after a block tag;
	// LstripBlocks removes the whitespace before a block tag that starts a
	// line. Both are Nunjucks' options of the same names.
	TrimBlocks, LstripBlocks bool
	// Cookiecutter adds what Backstage's cookiecutterCompat mode adds to
	// the language: the jsonify filter (JSON.stringify, an alias of dump)
	// and the names True, False and None.
	Cookiecutter bool
	// Filters adds filters; one named like a built-in filter replaces it.
	Filters map[string]Filter
	// Globals adds global functions; one named like a built-in global
	// (range, cycler, joiner) replaces it. Template and context variables
	// of the same name hide them.
	Globals map[string]Function
	Limits  Limits
}

// Limits bound the resources one template may use, so that hostile source
// cannot exhaust the server. Zero fields take the defaults below.
type Limits struct {
	// MaxSourceBytes bounds the template source (default 1 MiB).
	MaxSourceBytes int
	// MaxOutputBytes bounds the text a render writes, counting every
	// output and capture, and the length of any string it builds
	// (default 10 MiB).
	MaxOutputBytes int
	// MaxSteps bounds the work of a render: one step per node evaluated,
	// loop iteration, element produced (range, slices, filters), and per
	// 64 bytes of string built. Parse spends the same budget on its static
	// scope analysis, which copies loop bodies. Default 1,000,000, as
	// Nunjitsu's work limit that Backstage runs with.
	MaxSteps int
	// MaxDepth bounds nesting: of tags and expressions in the source, of
	// macro and caller calls at run time, and of the values a render
	// converts, prints or serializes (default 200).
	MaxDepth int
}

// Default limits.
const (
	DefaultMaxSourceBytes = 1 << 20
	DefaultMaxOutputBytes = 10 << 20
	DefaultMaxSteps       = 1_000_000
	DefaultMaxDepth       = 200
)

func (l Limits) withDefaults() Limits {
	if l.MaxSourceBytes <= 0 {
		l.MaxSourceBytes = DefaultMaxSourceBytes
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if l.MaxSteps <= 0 {
		l.MaxSteps = DefaultMaxSteps
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// ErrLimit is wrapped by every error caused by exceeding a [Limits] bound.
var ErrLimit = errors.New("limit exceeded")

// Error is a parse or render error at a position of the template source.
type Error struct {
	Line, Col int // 1-based; Col counts characters
	Msg       string
	// Err is ErrLimit for limit errors, the error a registered Filter or
	// Function returned, or nil.
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("template %d:%d: %s", e.Line, e.Col, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// posError is an error located by byte offset, turned into an *Error once
// the source is at hand.
type posError struct {
	pos int
	msg string
	err error
}

func (e *posError) Error() string { return e.msg }

func (e *posError) at(src string) *Error {
	pos := min(max(e.pos, 0), len(src))
	line := 1 + strings.Count(src[:pos], "\n")
	col := 1 + utf8.RuneCountInString(src[strings.LastIndexByte(src[:pos], '\n')+1:pos])
	return &Error{Line: line, Col: col, Msg: e.msg, Err: e.err}
}

// Template is a parsed template. It is immutable and safe for concurrent
// renders.
type Template struct {
	src    string
	opts   Options
	limits Limits
	root   []stmt
	rootFn *funcPlan
}

// Parse parses and checks a complete template. Syntax the subset does not
// have, unknown tags and the template-loading tags (include, import, from,
// extends) are errors, reported with their line and column.
func Parse(src string, opts *Options) (*Template, error) {
	var o Options
	if opts != nil {
		o = *opts
		// The template keeps its own registries: later changes to the
		// caller's maps must not race with renders.
		o.Filters, o.Globals = maps.Clone(o.Filters), maps.Clone(o.Globals)
	}
	lim := o.Limits.withDefaults()
	if len(src) > lim.MaxSourceBytes {
		return nil, &Error{Line: 1, Col: 1, Msg: fmt.Sprintf("source is %d bytes, over the limit of %d", len(src), lim.MaxSourceBytes), Err: ErrLimit}
	}
	t := &Template{src: src, opts: o, limits: lim}
	if err := t.parse(); err != nil {
		var pe *posError
		if errors.As(err, &pe) {
			return nil, pe.at(src)
		}
		return nil, err
	}
	return t, nil
}

func (t *Template) parse() (err error) {
	defer func() {
		// A panic here is a bug; as a last resort it becomes an error rather
		// than taking the server down.
		if v := recover(); v != nil {
			err = &Error{Line: 1, Col: 1, Msg: fmt.Sprint("internal error: ", v)}
		}
	}()
	toks, err := scan(t.src, t.opts)
	if err != nil {
		return err
	}
	p := &parser{src: t.src, toks: toks, maxDepth: t.limits.MaxDepth, cookiecutter: t.opts.Cookiecutter}
	body, err := p.parseTemplate()
	if err != nil {
		return err
	}
	res := &resolver{maxWork: t.limits.MaxSteps}
	t.rootFn = &funcPlan{}
	t.root, err = res.resolveRoot(body, t.rootFn)
	return err
}

// SingleExpression reports whether the template is exactly one ${{ expr }}
// with no text around it (comments aside): the shape whose value Backstage
// keeps as is rather than as text. [Template.Value] returns that value.
func (t *Template) SingleExpression() bool {
	if len(t.root) != 1 {
		return false
	}
	_, ok := t.root[0].(*outputStmt)
	return ok
}

// OnlyTags reports whether the template is a single top-level tag
// construct ({% if %}…{% endif %}, {% for %}…, {% set %}…) with no text or
// output outside it. It is the other half of Backstage's
// isSingleTemplateString (a template with exactly one top-level node, that
// node not being text): the scaffolder parses the rendering of such a
// template as JSON when it can.
func (t *Template) OnlyTags() bool {
	if len(t.root) != 1 {
		return false
	}
	switch t.root[0].(type) {
	case *outputStmt, *textStmt:
		return false
	}
	return true
}

// Render renders the template with data as its context. Data holds plain
// values: map[string]any, []any, string, bool, nil, float64 or any Go
// integer or float type, json.Number, and also []string, []map[string]any
// and map[string]string. The keys of a Go map have no order; records made
// from them enumerate their array-index keys ascending, then the others
// sorted.
func (t *Template) Render(data map[string]any) (string, error) {
	r := t.newRun()
	var out string
	err := r.guard(func() {
		ctx := r.fromGoRecord(data)
		out = validUTF8(r.renderRoot(ctx))
	})
	return out, err
}

// Value evaluates a [Template.SingleExpression] template and returns its
// value as plain Go values: map[string]any, []any, string, float64, bool
// and nil. Undefined returns defined == false; undefined inside arrays
// becomes nil and inside records is left out, as JSON.stringify does. Safe
// strings and regular expressions become strings. For any other template,
// Value returns the rendered text.
func (t *Template) Value(data map[string]any) (v any, defined bool, err error) {
	r := t.newRun()
	err = r.guard(func() {
		ctx := r.fromGoRecord(data)
		if !t.SingleExpression() {
			v, defined = validUTF8(r.renderRoot(ctx)), true
			return
		}
		res := r.valueRoot(ctx)
		if res == nil {
			return
		}
		r.chargeOutput(len(r.render(res)))
		v, defined = r.toGo(res, 0), true
	})
	if err != nil {
		return nil, false, err
	}
	return v, defined, nil
}
