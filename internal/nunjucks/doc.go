// Package nunjucks renders the Nunjucks template subset that Backstage's
// scaffolder uses, as Nunjitsu defines it: a sandboxed reimplementation of
// Nunjucks 3.2.4 for inline template strings. The scaffolder is its only
// user; no Go library implements this language faithfully.
//
// # The language
//
// Variables are written ${{ expr }} ([BackstageSyntax], the default) or
// {{ expr }} ([NunjucksSyntax]); tags {% %} and comments {# #} are the same
// in both. The subset has literals (numbers, strings, arrays, records,
// r/…/flags regular expressions), lookups and Jinja slices [a:b:c],
// arithmetic, comparisons, in, is tests, and/or/not, Python-style
// conditionals, filters; and the tags if/elif/elseif/else, for/else,
// set (also as a block), macro, call, filter, block (standalone),
// switch/case/default, raw and verbatim, with whitespace control ({%- -%})
// and the trimBlocks and lstripBlocks options. The built-in filters, tests
// and the range, cycler and joiner globals are Nunjucks', and applications
// add filters and global functions through [Options].
//
// Output matches what Nunjucks renders, JavaScript semantics included:
// undefined versus null, NaN and Infinity, number formatting, UTF-16 string
// lengths and indices, object key order, SafeString identity, and the
// scoping of Nunjucks' compiled code (static bindings of macros, loop
// variables and parameters, runtime frames, and the frame a caller extends).
// Two corpora check it: the Nunjitsu compatibility corpus in
// testdata/compat (adapted from Nunjucks' own tests) and everyday, value
// and random templates in testdata/oracle; both hold real Nunjucks 3.2.4
// output.
//
// Where Nunjitsu deliberately departs from Nunjucks, this package follows
// Nunjitsu: a safe string is its text for length, indexing, iteration,
// sorting and dump (Nunjucks sees the SafeString object); tests take
// exactly their number of arguments; callables cannot be printed, converted
// or passed to filters; macros cannot be declared in set or filter blocks;
// a raw region needs a plain {% endraw %} on one line; a single loop
// variable cannot be named loop; "#}" outside a comment is an error.
//
// Other differences: Go maps have no key order, so records built from
// them enumerate their keys sorted (array indices first, numerically);
// regular expressions run on Go's RE2, so patterns RE2 cannot run
// (lookaround, backreferences) are parse errors; and ** is correctly
// rounded, where V8's pow can be an ulp off (Nunjucks prints 10 ** -5 as
// 0.000009999999999999999).
//
// # Closed and bounded
//
// Templates are untrusted input. The interpreter is closed: no include,
// import, extends or from (they are parse errors), no loaders, no file or
// network access, no reflection into Go values, and nothing callable but
// macros, the built-in filters, tests and globals, and the filters and
// functions the application registers. Context data is copied into the
// interpreter's own values; only plain JSON-like Go types are accepted.
//
// Every render is bounded by [Limits]: source size (1 MiB by default),
// output and string size (10 MiB), work (1,000,000 steps, counting nodes
// evaluated, loop iterations, elements produced and string bytes built, so
// that range(10 ** 9), "x"|center(10 ** 9) or a string doubled in a loop stop
// early), and nesting of syntax, macro calls and values (200). Exceeding a
// limit is an error wrapping [ErrLimit]; no input makes the interpreter
// panic or grow without bound.
//
// Out of scope: template inheritance and loading, async rendering, custom
// tags or tests, autoescaping (output is raw text, as in Backstage), and
// Nunjucks' error messages.
//
// It imports only the standard library and golang.org/x/text, for
// JavaScript's full Unicode case mapping.
package nunjucks
