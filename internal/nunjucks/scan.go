package nunjucks

import (
	"strings"
)

// The scanner cuts the source into text, variable and block tokens. It
// finds the end of a tag by skipping the strings and regular expressions
// inside it, so that "}}" or "%}" in a string literal does not end the tag,
// and it applies whitespace control (-, trimBlocks, lstripBlocks) and
// raw/verbatim regions on the way. Comments are dropped.

type tokKind uint8

const (
	tokText tokKind = iota
	tokVar
	tokBlock
	tokComment // scanned, never emitted
)

// token is a scanned piece of template. For tags, [lo, hi) is the content
// between the delimiters (and any -), trimmed of code whitespace; pos is
// where the tag starts.
type token struct {
	kind   tokKind
	text   string // text tokens only
	pos    int
	lo, hi int
}

type scanner struct {
	src      string
	opts     Options
	varStart string
	i        int
	toks     []token

	pending    string // text not yet emitted
	pendingPos int

	// lineContent is whether the current source line has anything but
	// whitespace before i, for lstripBlocks.
	lineContent bool

	// Cached next positions of each delimiter, so that scanning stays
	// linear in the source size.
	next map[string]int
}

func scan(src string, opts Options) ([]token, error) {
	s := &scanner{src: src, opts: opts, varStart: "${{", next: map[string]int{}, toks: make([]token, 0, strings.Count(src, "{")/2+1)}
	if opts.Syntax == NunjucksSyntax {
		s.varStart = "{{"
	}
	if err := s.run(); err != nil {
		return nil, err
	}
	return s.toks, nil
}

// nextIndex returns the position of the next sep at or after s.i, or -1.
func (s *scanner) nextIndex(sep string) int {
	if p, ok := s.next[sep]; ok && (p < 0 || p >= s.i) {
		return p
	}
	p := strings.Index(s.src[s.i:], sep)
	if p >= 0 {
		p += s.i
	}
	s.next[sep] = p
	return p
}

// advance moves to position to, tracking whether the line has content.
func (s *scanner) advance(to int) {
	for j := s.i; j < to; {
		r, n := decodeWTF8(s.src[j:])
		if r == '\n' {
			s.lineContent = false
		} else if !isJSSpace(r) {
			s.lineContent = true
		}
		j += n
	}
	s.i = to
}

func (s *scanner) appendText(to int) {
	if s.i >= to {
		return
	}
	if s.pending == "" {
		s.pendingPos = s.i
	}
	s.pending += s.src[s.i:to]
	s.advance(to)
}

func (s *scanner) flush() {
	if s.pending != "" {
		s.toks = append(s.toks, token{kind: tokText, text: s.pending, pos: s.pendingPos})
		s.pending = ""
	}
}

func (s *scanner) run() error {
	src := s.src
	for s.i < len(src) {
		open, kind, opener := -1, tokText, ""
		for _, c := range []struct {
			k tokKind
			d string
		}{{tokVar, s.varStart}, {tokBlock, "{%"}, {tokComment, "{#"}} {
			if p := s.nextIndex(c.d); p >= 0 && (open < 0 || p < open) {
				open, kind, opener = p, c.k, c.d
			}
		}
		if ce := s.nextIndex("#}"); ce >= 0 && (open < 0 || ce < open) {
			return &posError{pos: ce, msg: "unexpected #} outside a comment"}
		}
		if open < 0 {
			s.appendText(len(src))
			break
		}
		comment := kind == tokComment
		s.appendText(open)
		if kind == tokBlock && s.opts.LstripBlocks && !s.lineContent {
			s.pending = stripIndent(s.pending)
		}
		leftTrim := strings.HasPrefix(src[open+len(opener):], "-")
		if leftTrim {
			s.pending = trimJSRight(s.pending)
		}
		s.flush()
		start := open + len(opener)
		if leftTrim {
			start++
		}
		s.advance(start)
		closer := "}}"
		switch {
		case comment:
			closer = "#}"
		case kind == tokBlock:
			closer = "%}"
		}
		var end int
		if comment {
			end = s.nextIndex("#}")
		} else {
			var err error
			if end, err = findCodeTerminator(src, start, closer); err != nil {
				return err
			}
		}
		if end < 0 {
			what := map[tokKind]string{tokVar: "variable", tokBlock: "block", tokComment: "comment"}[kind]
			return &posError{pos: open, msg: "unterminated " + what + " tag"}
		}
		rightTrim := end > 0 && src[end-1] == '-'
		contentEnd := end
		if rightTrim {
			contentEnd = max(end-1, start)
		}
		s.advance(end + len(closer))
		if !comment {
			lo, hi := trimCodeLeft(src, start, contentEnd), contentEnd
			if kind == tokBlock {
				hi = trimCodeRight(src, lo, contentEnd)
			}
			if kind == tokBlock {
				name, rlo, rhi := tagName(src, lo, hi)
				if name == "raw" || name == "verbatim" {
					if rlo < rhi {
						return &posError{pos: open, msg: name + " tag does not accept arguments"}
					}
					if err := s.rawRegion(name, open, rightTrim); err != nil {
						return err
					}
					continue
				}
			}
			s.toks = append(s.toks, token{kind: kind, pos: open, lo: lo, hi: hi})
		}
		switch {
		case rightTrim:
			s.advance(len(src) - len(trimJSLeft(src[s.i:])))
		case kind == tokBlock && s.opts.TrimBlocks:
			s.skipNewline()
		}
	}
	s.flush()
	return nil
}

func (s *scanner) skipNewline() {
	rest := s.src[s.i:]
	switch {
	case strings.HasPrefix(rest, "\r\n"):
		s.advance(s.i + 2)
	case strings.HasPrefix(rest, "\n"):
		s.advance(s.i + 1)
	}
}

// rawRegion copies the text up to the matching end tag verbatim. Raw and
// verbatim regions nest with their own kind; the other kind is text.
func (s *scanner) rawRegion(name string, open int, rightTrim bool) error {
	if s.opts.TrimBlocks {
		s.skipNewline()
	}
	start, end, err := findRawEnd(s.src, s.i, name)
	if err != nil {
		return err
	}
	if start < 0 {
		return &posError{pos: open, msg: "missing end" + name + " tag"}
	}
	s.appendText(start)
	// The region is text of its own: a - on the next tag does not trim it.
	s.flush()
	s.advance(end)
	if rightTrim {
		s.advance(len(s.src) - len(trimJSLeft(s.src[s.i:])))
	}
	return nil
}

// findRawEnd finds the end tag closing a raw region that starts at i,
// returning the tag's bounds, or -1 if there is none.
func findRawEnd(src string, i int, name string) (int, int, error) {
	depth := 1
	for i < len(src) {
		p := strings.Index(src[i:], "{%")
		if p < 0 {
			return -1, -1, nil
		}
		p += i
		j := p + 2
		if j < len(src) && src[j] == '-' {
			i = j
			continue
		}
		j = skipJSSpace(src, j)
		closing := false
		switch {
		case strings.HasPrefix(src[j:], "end"+name):
			closing, j = true, j+3+len(name)
		case strings.HasPrefix(src[j:], name):
			j += len(name)
		default:
			i = p + 2
			continue
		}
		j = skipJSSpace(src, j)
		if !strings.HasPrefix(src[j:], "%}") {
			i = p + 2
			continue
		}
		j += 2
		if !closing {
			depth++
			i = j
			continue
		}
		depth--
		if depth == 0 {
			if strings.Contains(src[p:j], "\n") {
				return 0, 0, &posError{pos: p, msg: "end" + name + " tag cannot contain a line break"}
			}
			return p, j, nil
		}
		i = j
	}
	return -1, -1, nil
}

func skipJSSpace(src string, j int) int {
	for j < len(src) {
		r, n := decodeWTF8(src[j:])
		if !isJSSpace(r) {
			break
		}
		j += n
	}
	return j
}

// stripIndent removes the whitespace after the last newline of text, for
// lstripBlocks.
func stripIndent(text string) string {
	nl := strings.LastIndexByte(text, '\n')
	if trimJSLeft(text[nl+1:]) == "" {
		return text[:nl+1]
	}
	return text
}

func trimCodeLeft(src string, lo, hi int) int {
	for lo < hi {
		n := codeSpaceAt(src, lo)
		if n == 0 || lo+n > hi {
			break
		}
		lo += n
	}
	return lo
}

func trimCodeRight(src string, lo, hi int) int {
	for hi > lo {
		switch {
		case isCodeSpace(src[hi-1]):
			hi--
		case hi-2 >= lo && src[hi-2] == 0xC2 && src[hi-1] == 0xA0:
			hi -= 2
		default:
			return hi
		}
	}
	return hi
}

// tagName splits a trimmed tag into its name and the trimmed rest.
func tagName(src string, lo, hi int) (string, int, int) {
	j := lo
	if j < hi && isIdentStart(src[j]) {
		j++
		for j < hi && isIdentPart(src[j]) {
			j++
		}
	}
	rlo := trimCodeLeft(src, j, hi)
	return src[lo:j], rlo, trimCodeRight(src, rlo, hi)
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// identEnd returns the end of the identifier starting at i, or i.
func identEnd(src string, i int) int {
	if i >= len(src) || !isIdentStart(src[i]) {
		return i
	}
	j := i + 1
	for j < len(src) && isIdentPart(src[j]) {
		j++
	}
	return j
}

// skipCodeToken returns the end of the string literal, identifier or
// regular expression literal at i, or -1 if none starts there.
func skipCodeToken(src string, i, hi int) (int, error) {
	c := src[i]
	if c == '"' || c == '\'' {
		for j := i + 1; j < hi; j++ {
			if src[j] == '\\' {
				j++
			} else if src[j] == c {
				return j + 1, nil
			}
		}
		return hi, nil
	}
	j := identEnd(src[:hi], i)
	if j == i {
		return -1, nil
	}
	if j == i+1 && c == 'r' && j < hi && src[j] == '/' {
		end, _, _, err := scanRegex(src[:hi], i)
		return end, err
	}
	return j, nil
}

// findCodeTerminator finds term outside strings and regular expressions.
func findCodeTerminator(src string, i int, term string) (int, error) {
	for i <= len(src)-len(term) {
		j, err := skipCodeToken(src, i, len(src))
		if err != nil {
			return -1, err
		}
		switch {
		case j >= 0:
			i = j
		case strings.HasPrefix(src[i:], term):
			return i, nil
		default:
			i++
		}
	}
	return -1, nil
}

// findMatching finds the bracket closing the one at lo.
func findMatching(src string, lo, hi int) (int, error) {
	var stack []byte
	for i := lo; i < hi; {
		j, err := skipCodeToken(src, i, hi)
		if err != nil {
			return -1, err
		}
		if j >= 0 {
			i = j
			continue
		}
		switch c := src[i]; c {
		case '(', '[', '{':
			stack = append(stack, c)
		case ')', ']', '}':
			if len(stack) > 0 && closerOf(stack[len(stack)-1]) == c {
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return i, nil
				}
			}
		}
		i++
	}
	return -1, nil
}

func closerOf(c byte) byte {
	switch c {
	case '(':
		return ')'
	case '[':
		return ']'
	}
	return '}'
}

// findTopLevel finds byte c outside brackets, strings and regexes.
func findTopLevel(src string, lo, hi int, c byte) (int, error) {
	depth := 0
	for i := lo; i < hi; {
		j, err := skipCodeToken(src, i, hi)
		if err != nil {
			return -1, err
		}
		if j >= 0 {
			i = j
			continue
		}
		switch src[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		default:
			if depth == 0 && src[i] == c {
				return i, nil
			}
		}
		i++
	}
	return -1, nil
}

// findKeyword finds the standalone keyword kw (surrounded by code
// whitespace) outside brackets, strings and regexes.
func findKeyword(src string, lo, hi int, kw string) (int, error) {
	depth := 0
	for i := lo; i < hi; {
		if j := identEnd(src[:hi], i); j > i {
			if j == i+1 && src[i] == 'r' && j < hi && src[j] == '/' {
				end, _, _, err := scanRegex(src[:hi], i)
				if err != nil {
					return -1, err
				}
				i = end
				continue
			}
			if depth == 0 && src[i:j] == kw && (i == lo || spaceBefore(src, i)) && (j == hi || codeSpaceAt(src, j) > 0) {
				return i, nil
			}
			i = j
			continue
		}
		switch src[i] {
		case '"', '\'':
			j, _ := skipCodeToken(src, i, hi)
			i = j
			continue
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		}
		i++
	}
	return -1, nil
}

func spaceBefore(src string, i int) bool {
	return isCodeSpace(src[i-1]) || (i >= 2 && src[i-2] == 0xC2 && src[i-1] == 0xA0)
}
