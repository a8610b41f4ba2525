package nunjucks

import (
	"strings"
	"unicode/utf8"
)

// Template strings are JavaScript strings: their length, indexing, slicing
// and ordering count UTF-16 code units. They are held as Go strings in
// WTF-8, so that a code unit cut out of a surrogate pair (as "😀"[0] does)
// survives as the three-byte encoding of the lone surrogate; output turns
// such lone surrogates into U+FFFD.

// isASCII reports whether s has only ASCII bytes, where bytes and code units
// coincide.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// decodeWTF8 decodes the code point at the start of s, accepting the
// WTF-8 encoding of lone surrogates that utf8.DecodeRuneInString rejects.
func decodeWTF8(s string) (rune, int) {
	if len(s) >= 3 && s[0] == 0xED && s[1] >= 0xA0 && s[1] <= 0xBF && s[2] >= 0x80 && s[2] <= 0xBF {
		return rune(0xD000) | rune(s[1]&0x3F)<<6 | rune(s[2]&0x3F), 3
	}
	return utf8.DecodeRuneInString(s)
}

// units16 returns the UTF-16 code units of s.
func units16(s string) []uint16 {
	u := make([]uint16, 0, len(s))
	for i := 0; i < len(s); {
		r, n := decodeWTF8(s[i:])
		i += n
		if r >= 0x10000 {
			r -= 0x10000
			u = append(u, uint16(0xD800+(r>>10)), uint16(0xDC00+(r&0x3FF)))
		} else {
			u = append(u, uint16(r))
		}
	}
	return u
}

// fromUnits16 encodes code units as WTF-8, joining valid surrogate pairs.
func fromUnits16(u []uint16) string {
	var b strings.Builder
	b.Grow(len(u))
	for i := 0; i < len(u); i++ {
		c := rune(u[i])
		if c >= 0xD800 && c < 0xDC00 && i+1 < len(u) && u[i+1] >= 0xDC00 && u[i+1] < 0xE000 {
			c = 0x10000 + (c-0xD800)<<10 + rune(u[i+1]-0xDC00)
			i++
		}
		if c >= 0xD800 && c < 0xE000 {
			b.WriteByte(0xED)
			b.WriteByte(byte(0x80 | (c>>6)&0x3F))
			b.WriteByte(byte(0x80 | c&0x3F))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// len16 is the JavaScript length of s.
func len16(s string) int {
	if isASCII(s) {
		return len(s)
	}
	n := 0
	for i := 0; i < len(s); {
		r, w := decodeWTF8(s[i:])
		i += w
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// slice16 is s.substring(i, j) for 0 <= i <= j <= len16(s).
func slice16(s string, i, j int) string {
	if isASCII(s) {
		return s[i:j]
	}
	return fromUnits16(units16(s)[i:j])
}

// split16 is s.split(""): one string per code unit.
func split16(s string) []string {
	if isASCII(s) {
		out := make([]string, len(s))
		for i := range s {
			out[i] = s[i : i+1]
		}
		return out
	}
	u := units16(s)
	out := make([]string, len(u))
	for i := range u {
		out[i] = fromUnits16(u[i : i+1])
	}
	return out
}

// concat joins two strings as JavaScript does, pairing a trailing lone high
// surrogate of a with a leading lone low surrogate of b.
func concat(a, b string) string {
	if len(a) >= 3 && len(b) >= 3 {
		hi, n := decodeWTF8(a[len(a)-3:])
		lo, m := decodeWTF8(b)
		if n == 3 && m == 3 && hi >= 0xD800 && hi < 0xDC00 && lo >= 0xDC00 && lo < 0xE000 {
			return a[:len(a)-3] + string(0x10000+(hi-0xD800)<<10+(lo-0xDC00)) + b[3:]
		}
	}
	return a + b
}

// compare16 orders strings by UTF-16 code units, as JavaScript's < does.
func compare16(a, b string) int {
	for len(a) > 0 && len(b) > 0 {
		ra, na := decodeWTF8(a)
		rb, nb := decodeWTF8(b)
		if ra != rb {
			ua, ub := firstUnit(ra), firstUnit(rb)
			if ua == ub { // both supplementary with the same high surrogate
				ua, ub = ra, rb
			}
			if ua < ub {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	switch {
	case len(a) > 0:
		return 1
	case len(b) > 0:
		return -1
	}
	return 0
}

func firstUnit(r rune) rune {
	if r >= 0x10000 {
		return 0xD800 + (r-0x10000)>>10
	}
	return r
}

// validUTF8 replaces lone surrogates (and any invalid byte) with U+FFFD,
// for strings leaving the interpreter.
func validUTF8(s string) string {
	if isASCII(s) || (utf8.ValidString(s)) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := decodeWTF8(s[i:])
		if r >= 0xD800 && r < 0xE000 {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// isJSSpace reports whether r is JavaScript whitespace (the \s class, also
// what String.prototype.trim removes).
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// trimJSLeft and trimJSRight remove JavaScript whitespace.
func trimJSLeft(s string) string {
	for len(s) > 0 {
		r, n := decodeWTF8(s)
		if !isJSSpace(r) {
			break
		}
		s = s[n:]
	}
	return s
}

func trimJSRight(s string) string {
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		if !isJSSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}

func trimJS(s string) string { return trimJSRight(trimJSLeft(s)) }

// isCodeSpace is the whitespace accepted between tokens inside tags.
func isCodeSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// codeSpaceAt returns the width of the code whitespace at s[i] (NBSP is two
// bytes), or 0.
func codeSpaceAt(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	if isCodeSpace(s[i]) {
		return 1
	}
	if s[i] == 0xC2 && i+1 < len(s) && s[i+1] == 0xA0 {
		return 2
	}
	return 0
}
