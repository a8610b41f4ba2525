package nunjucks

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// Built-in filters. Each follows Nunjucks 3.2.4's implementation over the
// closed value kinds, including its coercions and the cases where it
// returns its input unchanged (which keeps a safe string's identity).

// filterFunc applies a filter to its input and positional arguments
// (keywords are already lowered, see lowerKeywords).
type filterFunc func(r *run, in value, args []value) value

var builtinFilters = map[string]filterFunc{
	"abs":         func(r *run, in value, _ []value) value { return math.Abs(r.toNumber(in)) },
	"batch":       filterBatch,
	"capitalize":  filterCapitalize,
	"center":      filterCenter,
	"default":     filterDefault,
	"d":           filterDefault,
	"dictsort":    filterDictsort,
	"dump":        filterDump,
	"escape":      filterEscape,
	"e":           filterEscape,
	"first":       func(r *run, in value, _ []value) value { return r.edge(in, false) },
	"last":        func(r *run, in value, _ []value) value { return r.edge(in, true) },
	"float":       filterFloat,
	"forceescape": func(r *run, in value, _ []value) value { return &safeString{escapeHTML(r.render(in))} },
	"groupby":     filterGroupby,
	"indent":      filterIndent,
	"int":         filterInt,
	"join":        filterJoin,
	"length":      filterLength,
	"list":        filterList,
	"lower":       func(r *run, in value, _ []value) value { return lowerJS(r.text(normalizeText(in))) },
	"upper":       func(r *run, in value, _ []value) value { return upperJS(r.text(normalizeText(in))) },
	"nl2br":       filterNl2br,
	"random":      filterRandom,
	"reject":      func(r *run, in value, args []value) value { return r.selectValues(in, args, false) },
	"select":      func(r *run, in value, args []value) value { return r.selectValues(in, args, true) },
	"rejectattr":  func(r *run, in value, args []value) value { return r.selectAttr(in, args, false) },
	"selectattr":  func(r *run, in value, args []value) value { return r.selectAttr(in, args, true) },
	"replace":     filterReplace,
	"reverse":     filterReverse,
	"round":       filterRound,
	"safe":        filterSafe,
	"slice":       filterSlice,
	"sort":        filterSort,
	"string":      filterString,
	"striptags":   filterStriptags,
	"sum":         filterSum,
	"title":       filterTitle,
	"trim":        func(r *run, in value, _ []value) value { return copySafe(in, trimJS(r.text(in))) },
	"truncate":    filterTruncate,
	"urlencode":   filterUrlencode,
	"urlize":      filterUrlize,
	"wordcount":   filterWordcount,
}

// macroFilters are the filters Nunjucks wraps with makeMacro, whose
// keyword arguments bind to named parameters; the others receive their
// keywords as one trailing record marked __keywords.
var macroFilters = map[string][]string{
	"int":  {"default", "base"},
	"sort": {"reverse", "case_sensitive", "attribute"},
}

func lowerKeywords(name string, pos []value, kw kwargs) []value {
	if names, ok := macroFilters[name]; ok {
		pos, _ = normalizeArgs(names, nil, pos, kw)
		return pos
	}
	if len(kw) == 0 {
		return pos
	}
	return append(pos, newRecord(append(append([]entry(nil), kw...), entry{"__keywords", true})))
}

func (r *run) evalFilter(x *filterExpr, sc *scope, cx ctx) value {
	r.pos = x.pos
	if f, ok := r.t.opts.Filters[x.name]; ok {
		in := r.eval(x.input, sc, cx)
		pos, kw := r.evalArgs(x.args, sc, cx)
		r.pos = x.pos
		args := make([]any, len(pos))
		for i, v := range pos {
			args[i] = r.toGo(v, 0)
		}
		out, err := f(r.toGo(in, 0), args, r.kwToGo(kw))
		if err != nil {
			panic(&posError{pos: x.pos, msg: fmt.Sprintf("filter %s: %v", x.name, err), err: err})
		}
		return r.fromGo(out, 0, true)
	}
	name := x.name
	if name == "jsonify" && r.t.opts.Cookiecutter {
		name = "dump"
	}
	f, ok := builtinFilters[name]
	if !ok {
		r.fail("unknown filter %q", x.name)
	}
	in := r.eval(x.input, sc, cx)
	pos, kw := r.evalArgs(x.args, sc, cx)
	r.pos = x.pos
	if containsCallable(in) {
		r.fail("callable values cannot be filtered")
	}
	for _, v := range pos {
		if containsCallable(v) {
			r.fail("callable values cannot be passed to filter %s", name)
		}
	}
	for _, e := range kw {
		if containsCallable(e.v) {
			r.fail("callable values cannot be passed to filter %s", name)
		}
	}
	r.chargeText(in)
	out := f(r, in, lowerKeywords(name, pos, kw))
	if s, ok := isString(out); ok {
		r.checkLen(len(s))
		r.chargeText(out)
	}
	return out
}

// text requires a string or safe string and returns its text.
func (r *run) text(v value) string {
	s, ok := isString(v)
	if !ok {
		r.fail("filter input must be a string, not %s", kindName(v))
	}
	return s
}

// normalizeText maps null, undefined and false to "", as Nunjucks'
// normalize does for its text filters.
func normalizeText(v value) value {
	switch v {
	case nil, null, false:
		return ""
	}
	return v
}

// copySafe returns s, as a safe string if in was one.
func copySafe(in value, s string) value {
	if _, ok := in.(*safeString); ok {
		return &safeString{s}
	}
	return s
}

func lowerJS(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	return cases.Lower(language.Und).String(s)
}

func upperJS(s string) string {
	if isASCII(s) {
		return strings.ToUpper(s)
	}
	return cases.Upper(language.Und).String(s)
}

// spaces is " ".repeat(Math.ceil(n)), nothing for n <= 0 or NaN.
func (r *run) spaces(n float64) string {
	if math.IsNaN(n) || n <= 0 {
		return ""
	}
	if n > float64(r.lim.MaxOutputBytes) {
		r.limit("padding of %s spaces is over the output limit", formatNumber(n))
	}
	c := int(math.Ceil(n))
	r.chargeString(c)
	return strings.Repeat(" ", c)
}

// directLength is the length center and truncate compare: of text, an
// array, or a record's own length property.
func (r *run) directLength(v value) value {
	switch x := v.(type) {
	case string:
		return float64(len16(x))
	case *safeString:
		return float64(len16(x.s))
	case *array:
		return float64(len(x.items))
	case *record:
		return x.get("length")
	}
	return nil
}

func filterCapitalize(r *run, in value, _ []value) value {
	s := lowerJS(r.text(normalizeText(in)))
	if s == "" {
		return copySafe(in, s)
	}
	c, n := decodeWTF8(s)
	if c < 0x10000 {
		return copySafe(in, upperJS(s[:n])+s[n:])
	}
	return copySafe(in, s)
}

func filterCenter(r *run, in value, args []value) value {
	in = normalizeText(in)
	width := value(80.0)
	if truthy(arg(args, 0)) {
		width = args[0]
	}
	length := r.directLength(in)
	if r.greaterEq(length, width) {
		return in
	}
	pad := r.toNumber(width) - r.toNumber(length)
	text := r.toString(in)
	left := r.spaces(pad/2 - math.Mod(pad, 2))
	right := r.spaces(pad / 2)
	r.chargeString(len(left) + len(text) + len(right))
	return copySafe(in, left+text+right)
}

func filterDefault(r *run, in value, args []value) value {
	if truthy(arg(args, 1)) {
		if truthy(in) {
			return in
		}
		return arg(args, 0)
	}
	if in == nil {
		return arg(args, 0)
	}
	return in
}

func filterDump(r *run, in value, args []value) value {
	indent := ""
	switch s := arg(args, 0).(type) {
	case string:
		indent = slice16(s, 0, min(10, len16(s)))
	case float64:
		if !math.IsNaN(s) && s > 0 {
			indent = strings.Repeat(" ", int(min(10, math.Trunc(s))))
		}
	}
	out, ok := r.stringify(in, indent)
	if !ok {
		return nil
	}
	return out
}

func filterEscape(r *run, in value, _ []value) value {
	if s, ok := in.(*safeString); ok {
		return s
	}
	return &safeString{escapeHTML(r.render(in))}
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", `"`, "&quot;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `\`, "&#92;")

func escapeHTML(s string) string { return htmlEscaper.Replace(s) }

func filterFloat(r *run, in value, args []value) value {
	f := parseFloatJS(r.toString(in))
	if math.IsNaN(f) {
		return arg(args, 0)
	}
	return f
}

func filterInt(r *run, in value, args []value) value {
	base := 10.0
	if b := arg(args, 1); b != nil {
		base = math.Trunc(r.toNumber(b))
	}
	f := parseIntJS(r.toString(in), base)
	if math.IsNaN(f) {
		return arg(args, 0)
	}
	return f
}

func filterIndent(r *run, in value, args []value) value {
	in = normalizeText(in)
	text := r.text(in)
	if in == "" {
		return ""
	}
	width := value(4.0)
	if truthy(arg(args, 0)) {
		width = args[0]
	}
	pad := r.spaces(r.toNumber(width))
	lines := strings.Split(text, "\n")
	r.chargeString(len(text) + len(pad)*len(lines))
	first := 1
	if truthy(arg(args, 1)) {
		first = 0
	}
	for i := first; i < len(lines); i++ {
		lines[i] = pad + lines[i]
	}
	return copySafe(in, strings.Join(lines, "\n"))
}

func filterNl2br(r *run, in value, _ []value) value {
	s := ""
	if in != nil && in != null {
		s = r.text(in)
	}
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "<br />\n")
	r.chargeString(len(s))
	return copySafe(in, s)
}

func filterReplace(r *run, in value, args []value) value {
	search, repl := arg(args, 0), arg(args, 1)
	maxCount := value(-1.0)
	if len(args) > 2 && args[2] != nil {
		maxCount = args[2]
	}
	if re, ok := search.(*regexValue); ok {
		s, ok := isString(in)
		if !ok {
			r.fail("replacing a regular expression needs a string")
		}
		return r.replaceRegex(s, re.lit, r.toString(repl))
	}
	switch search.(type) {
	case string, float64:
	default:
		return in
	}
	if f, ok := in.(float64); ok {
		in = formatNumber(f)
	}
	text, ok := isString(in)
	if !ok {
		return in
	}
	needle := r.toString(search)
	if needle == "" {
		rs := r.toString(repl)
		sep := rs
		if repl == nil {
			sep = ","
		}
		units := split16(text)
		r.chargeString(len(text) + len(sep)*len(units) + 2*len(rs))
		return copySafe(in, rs+strings.Join(units, sep)+rs)
	}
	if maxCount == 0.0 || !strings.Contains(text, needle) {
		return in
	}
	rs := r.toString(repl)
	if maxCount == -1.0 {
		n := strings.Count(text, needle)
		r.chargeString(len(text) + n*len(rs))
		return copySafe(in, strings.ReplaceAll(text, needle, rs))
	}
	limit := r.toNumber(maxCount)
	var b strings.Builder
	rest := text
	for count := 0.0; count < limit; count++ {
		i := strings.Index(rest, needle)
		if i < 0 {
			break
		}
		r.step(1)
		b.WriteString(rest[:i])
		b.WriteString(rs)
		rest = rest[i+len(needle):]
	}
	b.WriteString(rest)
	r.chargeString(b.Len())
	return copySafe(in, b.String())
}

func filterRound(r *run, in value, args []value) value {
	precision := 0.0
	if truthy(arg(args, 0)) {
		precision = r.toNumber(args[0])
	}
	factor := r.pow(10, precision)
	round := roundJS
	switch arg(args, 1) {
	case "ceil":
		round = math.Ceil
	case "floor":
		round = math.Floor
	}
	return round(r.toNumber(in)*factor) / factor
}

func filterSafe(r *run, in value, _ []value) value {
	if s, ok := in.(*safeString); ok {
		return s
	}
	return &safeString{r.render(in)}
}

func filterString(r *run, in value, _ []value) value {
	switch x := in.(type) {
	case nil, nullType:
		r.fail("string needs a value")
	case *safeString:
		return x
	}
	return r.render(in)
}

var (
	htmlTag     = regexp.MustCompile(`(?i)</?([a-z][a-z0-9]*)\b[^>]*>|<!--[\x{0}-\x{10FFFF}]*?-->`)
	lineEdges   = regexp.MustCompile(`(?m)^ +| +$`)
	spaceRuns   = regexp.MustCompile(` +`)
	blankLines  = regexp.MustCompile(`\n\n\n+`)
	wordPattern = regexp.MustCompile(`[A-Za-z0-9_]+`)
)

// filterStriptags removes tags, then collapses whitespace. Like Nunjitsu,
// and unlike Nunjucks, it repeats the removal until no tag is left (up to
// eight passes, failing beyond), so nested markup cannot survive.
func filterStriptags(r *run, in value, args []value) value {
	s := r.text(normalizeText(in))
	r.chargeString(len(s))
	for pass := 0; ; pass++ {
		next := htmlTag.ReplaceAllString(s, "")
		if next == s {
			break
		}
		if pass == 8 {
			r.fail("striptags input has too deeply nested markup")
		}
		s = next
	}
	s = trimJS(s)
	if truthy(arg(args, 0)) {
		s = lineEdges.ReplaceAllString(s, "")
		s = spaceRuns.ReplaceAllString(s, " ")
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = blankLines.ReplaceAllString(s, "\n\n")
	} else {
		s = collapseJSSpace(s)
	}
	return copySafe(in, s)
}

// collapseJSSpace replaces each run of JavaScript whitespace with a space.
func collapseJSSpace(s string) string {
	var b strings.Builder
	inSpace := false
	for i := 0; i < len(s); {
		c, n := decodeWTF8(s[i:])
		if isJSSpace(c) {
			if !inSpace {
				b.WriteByte(' ')
			}
			inSpace = true
		} else {
			b.WriteString(s[i : i+n])
			inSpace = false
		}
		i += n
	}
	return b.String()
}

func filterTitle(r *run, in value, _ []value) value {
	words := strings.Split(r.text(normalizeText(in)), " ")
	for i, w := range words {
		words[i] = filterCapitalize(r, w, nil).(string)
	}
	return copySafe(in, strings.Join(words, " "))
}

func filterTruncate(r *run, in value, args []value) value {
	in = normalizeText(in)
	length := value(255.0)
	if truthy(arg(args, 0)) {
		length = args[0]
	}
	if r.lessEq(r.directLength(in), length) {
		return in
	}
	text := r.text(in)
	units := units16(text)
	n := r.toNumber(length)
	var cut int
	if truthy(arg(args, 1)) {
		cut = substringEnd(n, len(units))
	} else {
		cut = -1
		from := len(units) - 1
		if !math.IsNaN(n) {
			from = int(min(max(toIntegerOrInfinity(n), 0), float64(len(units)-1)))
		}
		for i := from; i >= 0; i-- {
			if units[i] == ' ' {
				cut = i
				break
			}
		}
		if cut < 0 {
			cut = substringEnd(n, len(units))
		}
	}
	end := "..."
	if e := arg(args, 2); e != nil && e != null {
		end = r.toString(e)
	}
	return copySafe(in, fromUnits16(units[:cut])+end)
}

// substringEnd clamps an end index as String.prototype.substring does.
func substringEnd(n float64, length int) int {
	return int(min(max(toIntegerOrInfinity(n), 0), float64(length)))
}

func filterUrlencode(r *run, in value, _ []value) value {
	if s, ok := isString(in); ok {
		return r.encodeURIComponent(s)
	}
	pair := func(k, v value) string {
		return r.encodeURIComponent(r.toString(k)) + "=" + r.encodeURIComponent(r.toString(v))
	}
	var parts []string
	switch x := in.(type) {
	case *record:
		for i, k := range x.keys {
			r.step(1)
			parts = append(parts, pair(k, x.vals[i]))
		}
	case *array:
		for _, it := range x.items {
			r.step(1)
			switch e := it.(type) {
			case nil, nullType:
				r.fail("urlencode entries cannot be %s", kindName(it))
			case *array:
				parts = append(parts, pair(arg(e.items, 0), arg(e.items, 1)))
			case *record:
				parts = append(parts, pair(e.get("0"), e.get("1")))
			case string, *safeString:
				s, _ := isString(e)
				u := split16(s)
				parts = append(parts, pair(arg(stringValues(u), 0), arg(stringValues(u), 1)))
			default:
				parts = append(parts, pair(nil, nil))
			}
		}
	}
	return strings.Join(parts, "&")
}

func stringValues(s []string) []value {
	out := make([]value, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// encodeURIComponent escapes all but A-Z a-z 0-9 - _ . ! ~ * ' ( ).
func (r *run) encodeURIComponent(s string) string {
	for i := 0; i < len(s); {
		c, n := decodeWTF8(s[i:])
		if c >= 0xD800 && c < 0xE000 {
			r.fail("urlencode: malformed URI (lone surrogate)")
		}
		i += n
	}
	e := url.QueryEscape(s)
	e = strings.NewReplacer("+", "%20", "%21", "!", "%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%7E", "~").Replace(e)
	r.chargeString(len(e))
	return e
}

var (
	urlizeSplit  = regexp.MustCompile(`[\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}]+`)
	urlizePunct  = regexp.MustCompile(`^(?:\(|<|&lt;)?([^\n\r\x{2028}\x{2029}]*?)(?:\.|,|\)|\n|&gt;)?$`)
	httpURL      = regexp.MustCompile(`^https?://`)
	wwwURL       = regexp.MustCompile(`^www\.`)
	emailAddress = regexp.MustCompile("(?i)^[\\w.!#$%&'*+\\-/=?^`{|}~]+@[a-z\\d-]+(?:\\.[a-z\\d-]+)+$")
	commonDomain = regexp.MustCompile(`\.(?:org|net|com)(?::|/|$)`)
)

// filterUrlize turns URLs and e-mail addresses in text into links, their
// text cut to length code units.
func filterUrlize(r *run, in value, args []value) value {
	length := math.Inf(1)
	if l := arg(args, 0); l != nil {
		if f, ok := l.(float64); !ok || !math.IsNaN(f) {
			n := r.toNumber(l)
			switch {
			case math.IsNaN(n) || n <= 0:
				length = 0
			default:
				length = math.Trunc(n)
			}
		}
	}
	nofollow := ""
	if arg(args, 1) == true {
		nofollow = ` rel="nofollow"`
	}
	text := r.text(in)
	r.chargeString(len(text))
	var b strings.Builder
	words := splitKeep(text, urlizeSplit)
	for _, w := range words {
		r.step(1)
		possible := w
		if m := urlizePunct.FindStringSubmatch(w); m != nil {
			possible = m[1]
		}
		short := possible
		if n := len16(possible); float64(n) > length {
			short = slice16(possible, 0, int(length))
		}
		switch {
		case httpURL.MatchString(possible):
			b.WriteString(`<a href="` + possible + `"` + nofollow + `>` + short + `</a>`)
		case wwwURL.MatchString(possible):
			b.WriteString(`<a href="http://` + possible + `"` + nofollow + `>` + short + `</a>`)
		case emailAddress.MatchString(possible):
			b.WriteString(`<a href="mailto:` + possible + `">` + possible + `</a>`)
		case commonDomain.MatchString(possible):
			b.WriteString(`<a href="http://` + possible + `"` + nofollow + `>` + short + `</a>`)
		default:
			b.WriteString(w)
		}
		r.checkLen(b.Len())
	}
	r.chargeString(b.Len())
	return b.String()
}

// splitKeep splits s around matches of sep, keeping the separators, as
// JavaScript's split with a capturing group does; empty pieces are dropped.
func splitKeep(s string, sep *regexp.Regexp) []string {
	var out []string
	last := 0
	for _, m := range sep.FindAllStringIndex(s, -1) {
		if m[0] > last {
			out = append(out, s[last:m[0]])
		}
		out = append(out, s[m[0]:m[1]])
		last = m[1]
	}
	if last < len(s) {
		out = append(out, s[last:])
	}
	return out
}

func filterWordcount(r *run, in value, _ []value) value {
	in = normalizeText(in)
	if !truthy(in) {
		return null
	}
	n := len(wordPattern.FindAllStringIndex(r.text(in), -1))
	if n == 0 {
		return null
	}
	return float64(n)
}
