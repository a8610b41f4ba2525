package nunjucks

import (
	"regexp"
	"strconv"
	"strings"
)

// regexLit is a parsed r/source/flags literal. Templates can only print it,
// serialize it (as {}) and pass it to replace, which runs it with Go's RE2
// engine: the pattern is translated from JavaScript's syntax, and one RE2
// cannot run (lookaround, backreferences) is a parse error.
type regexLit struct {
	source, flags string
	re            *regexp.Regexp
}

// String is the canonical spelling, as RegExp.prototype.toString gives it.
func (l *regexLit) String() string {
	src := l.source
	if src == "" {
		src = "(?:)"
	}
	src = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\u2028", `\u2028`, "\u2029", `\u2029`).Replace(src)
	var flags strings.Builder
	for _, f := range "gimy" {
		if strings.ContainsRune(l.flags, f) {
			flags.WriteRune(f)
		}
	}
	return "/" + src + "/" + flags.String()
}

func (l *regexLit) has(flag byte) bool { return strings.IndexByte(l.flags, flag) >= 0 }

// scanRegex scans the literal r/…/flags starting at i (at the r). A / ends
// the pattern unless an odd run of backslashes escapes it; an even nonzero
// run before it is ambiguous and refused, as Nunjitsu does.
func scanRegex(src string, i int) (end int, source, flags string, err error) {
	run := 0
	for j := i + 2; j < len(src); j++ {
		switch c := src[j]; {
		case c == '\\':
			run++
		case c == '/' && run > 0 && run%2 == 0:
			return 0, "", "", &posError{pos: i, msg: "ambiguous escape before a regular expression delimiter"}
		case c == '/' && run == 0:
			k := j + 1
			for k < len(src) && strings.IndexByte("gimy", src[k]) >= 0 {
				if strings.IndexByte(src[j+1:k], src[k]) >= 0 {
					return 0, "", "", &posError{pos: i, msg: "duplicate regular expression flag"}
				}
				k++
			}
			if k < len(src) && isIdentStart(src[k]) && src[k] != '_' {
				return 0, "", "", &posError{pos: i, msg: "unsupported regular expression flag"}
			}
			return k, src[i+2 : j], src[j+1 : k], nil
		default:
			run = 0
		}
	}
	return 0, "", "", &posError{pos: i, msg: "unterminated regular expression literal"}
}

// newRegexLit compiles a scanned literal.
func newRegexLit(source, flags string) (*regexLit, error) {
	expr, err := translateRegex(source)
	if err != nil {
		return nil, err
	}
	prefix := ""
	if strings.Contains(flags, "i") {
		prefix += "i"
	}
	if strings.Contains(flags, "m") {
		prefix += "m"
	}
	if prefix != "" {
		expr = "(?" + prefix + ")" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	return &regexLit{source: source, flags: flags, re: re}, nil
}

// translateRegex rewrites JavaScript pattern syntax that RE2 spells
// differently: \uXXXX, \u{X…}, \/, \cX, [^] and the JavaScript meaning of
// . (no line terminators) and \s (Unicode spaces).
func translateRegex(src string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\' && i+1 < len(src):
			i++
			switch d := src[i]; d {
			case 'u':
				if i+1 < len(src) && src[i+1] == '{' {
					end := strings.IndexByte(src[i:], '}')
					if end < 0 {
						return "", errUnsupportedRegex
					}
					b.WriteString(`\x{` + src[i+2:i+end] + `}`)
					i += end
				} else if i+4 < len(src) && isHex(src[i+1:i+5]) {
					b.WriteString(`\x{` + src[i+1:i+5] + `}`)
					i += 4
				} else {
					b.WriteByte('u')
				}
			case 'c':
				if i+1 < len(src) && isIdentStart(src[i+1]) && src[i+1] != '_' {
					b.WriteString(`\x{` + strconv.FormatInt(int64(src[i+1]%32), 16) + `}`)
					i++
				} else {
					b.WriteString(`\\c`)
				}
			case '/':
				b.WriteByte('/')
			case 's':
				if inClass {
					b.WriteString(jsSpaceClass)
				} else {
					b.WriteString("[" + jsSpaceClass + "]")
				}
			case 'S':
				if inClass {
					return "", errUnsupportedRegex
				}
				b.WriteString("[^" + jsSpaceClass + "]")
			case '0':
				b.WriteString(`\x00`)
			default:
				switch {
				case d >= '1' && d <= '9':
					return "", errUnsupportedRegex // backreference
				case strings.IndexByte("dDwWbBnrtfv", d) >= 0 || (d == 'x' && i+2 < len(src) && isHex(src[i+1:i+3])):
					b.WriteByte('\\')
					b.WriteByte(d)
				case d >= 0x80:
					b.WriteByte(d) // the rest of the character follows
				case isIdentPart(d):
					// An identity escape: JavaScript reads \e as e.
					b.WriteString(regexp.QuoteMeta(string(rune(d))))
				default:
					b.WriteByte('\\')
					b.WriteByte(d)
				}
			}
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			if strings.HasPrefix(src[i:], "[^]") {
				b.WriteString(`[\x{0}-\x{10FFFF}]`)
				i += 2
				continue
			}
			inClass = true
			b.WriteByte(c)
			if strings.HasPrefix(src[i+1:], "^") {
				b.WriteByte('^')
				i++
			}
			if strings.HasPrefix(src[i+1:], "]") { // [] matches nothing in JavaScript
				return "", errUnsupportedRegex
			}
		case c == '.':
			b.WriteString(`[^\n\r\x{2028}\x{2029}]`)
		case strings.HasPrefix(src[i:], "(?=") || strings.HasPrefix(src[i:], "(?!") || strings.HasPrefix(src[i:], "(?<=") || strings.HasPrefix(src[i:], "(?<!"):
			return "", errUnsupportedRegex
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

const jsSpaceClass = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

type regexError string

func (e regexError) Error() string { return string(e) }

const errUnsupportedRegex = regexError("regular expression uses syntax this engine does not support")

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if digitValue(s[i]) >= 16 {
			return false
		}
	}
	return true
}

// replaceRegex is String.prototype.replace with a regular expression: the
// first match, or all with the g flag; with y, matches must start where the
// previous one ended. The replacement expands $$, $&, $`, $', $n and $<name>.
func (r *run) replaceRegex(text string, l *regexLit, repl string) string {
	global, sticky := l.has('g'), l.has('y')
	var b strings.Builder
	last := 0
	for pos := 0; pos <= len(text); {
		r.step(1)
		m := l.re.FindStringSubmatchIndex(text[pos:])
		if m == nil || (sticky && m[0] != 0) {
			break
		}
		for i := range m {
			if m[i] >= 0 {
				m[i] += pos
			}
		}
		b.WriteString(text[last:m[0]])
		expandReplacement(&b, text, m, l.re, repl)
		r.checkLen(b.Len())
		last = m[1]
		if !global {
			break
		}
		if m[1] == m[0] {
			if m[1] >= len(text) {
				break
			}
			_, n := decodeWTF8(text[m[1]:])
			pos = m[1] + n
		} else {
			pos = m[1]
		}
	}
	b.WriteString(text[last:])
	r.chargeString(b.Len())
	return b.String()
}

func expandReplacement(b *strings.Builder, text string, m []int, re *regexp.Regexp, repl string) {
	group := func(i int) string {
		if 2*i+1 < len(m) && m[2*i] >= 0 {
			return text[m[2*i]:m[2*i+1]]
		}
		return ""
	}
	ngroups := len(m)/2 - 1
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '$' || i+1 >= len(repl) {
			b.WriteByte(c)
			continue
		}
		switch d := repl[i+1]; {
		case d == '$':
			b.WriteByte('$')
			i++
		case d == '&':
			b.WriteString(text[m[0]:m[1]])
			i++
		case d == '`':
			b.WriteString(text[:m[0]])
			i++
		case d == '\'':
			b.WriteString(text[m[1]:])
			i++
		case d >= '0' && d <= '9':
			n := int(d - '0')
			if i+2 < len(repl) && repl[i+2] >= '0' && repl[i+2] <= '9' {
				if nn := n*10 + int(repl[i+2]-'0'); nn >= 1 && nn <= ngroups {
					b.WriteString(group(nn))
					i += 2
					continue
				}
			}
			if n >= 1 && n <= ngroups {
				b.WriteString(group(n))
				i++
				continue
			}
			b.WriteByte('$')
		case d == '<':
			end := strings.IndexByte(repl[i:], '>')
			if end < 0 {
				b.WriteByte('$')
				continue
			}
			if idx := re.SubexpIndex(repl[i+2 : i+end]); idx > 0 {
				b.WriteString(group(idx))
			}
			i += end
		default:
			b.WriteByte('$')
		}
	}
}
