package techdocs

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// slugify is Python-Markdown's toc slugify, as MkDocs uses it: the text
// decomposed (NFKD) and reduced to ASCII, everything but word characters,
// spaces and hyphens dropped, trimmed, lower-cased, and each run of
// hyphens and spaces made one hyphen. "Über & Co: the `config` file!"
// becomes "uber-co-the-config-file".
func slugify(text string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(text) {
		switch {
		case r >= 0x80: // encode('ascii', 'ignore')
		case r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r) || isSpace(r):
			b.WriteRune(r)
		}
	}
	s := strings.ToLower(strings.TrimFunc(b.String(), isSpace))
	var out strings.Builder
	sep := false
	for _, r := range s {
		if r == '-' || isSpace(r) {
			sep = true
			continue
		}
		if sep {
			out.WriteByte('-')
			sep = false
		}
		out.WriteRune(r)
	}
	if sep {
		out.WriteByte('-')
	}
	return out.String()
}

// isSpace is Python's \s for ASCII, which is all slugify sees.
func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'
}

// unique is Python-Markdown's toc unique: an id already used, or empty,
// gets _1, then _2 (an id ending in _N counts on from N).
func unique(id string, used map[string]bool) string {
	for used[id] || id == "" {
		base, n := id, 0
		if i := strings.LastIndexByte(id, '_'); i >= 0 && isDigits(id[i+1:]) {
			base, n = id[:i], atoi(id[i+1:])
		}
		id = base + "_" + strconv.Itoa(n+1)
	}
	used[id] = true
	return id
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
