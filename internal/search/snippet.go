package search

import (
	"html"
	"strings"
	"unicode/utf8"
)

// A snippet shows up to snippetWords words of a hit's text, beginning a
// few words before its first match.
const (
	snippetWords  = 30
	snippetBefore = 6
)

// Fragment is a piece of a snippet: a match when Match.
type Fragment struct {
	Text  string
	Match bool
}

// Snippet is the part of a hit's text that a search shows, its matches
// marked. It is cut and marked here, in Go, the same way on both
// databases: FTS5's snippet and PostgreSQL's ts_headline disagree, and
// neither marks a part of a word or a corrected typo.
type Snippet []Fragment

// Snippet cuts the snippet of text for the plan's words.
func (p Plan) Snippet(text string) Snippet {
	type token struct{ start, end, mStart, mEnd int } // bytes; mStart < mEnd when it matches
	var tokens []token
	first := -1
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if notWordRune(r) {
			i += size
			continue
		}
		start := i
		for i < len(text) {
			r, size := utf8.DecodeRuneInString(text[i:])
			if notWordRune(r) {
				break
			}
			i += size
		}
		t := token{start: start, end: i}
		t.mStart, t.mEnd = p.match(text[start:i])
		t.mStart, t.mEnd = t.mStart+start, t.mEnd+start
		if first < 0 && t.mStart < t.mEnd {
			first = len(tokens)
		}
		tokens = append(tokens, t)
	}
	if len(tokens) == 0 {
		return nil
	}
	from := max(0, first-snippetBefore)
	to := min(len(tokens), from+snippetWords)
	begin, end := tokens[from].start, tokens[to-1].end
	if from == 0 {
		begin = 0
	}
	if to == len(tokens) {
		end = len(text)
	}
	var s Snippet
	add := func(text string, match bool) {
		if text != "" {
			s = append(s, Fragment{Text: text, Match: match})
		}
	}
	if from > 0 {
		add("…", false)
	}
	at := begin
	for _, t := range tokens[from:to] {
		if t.mStart < t.mEnd {
			add(text[at:t.mStart], false)
			add(text[t.mStart:t.mEnd], true)
			at = t.mEnd
		}
	}
	add(text[at:end], false)
	if to < len(tokens) {
		add("…", false)
	}
	return s
}

// match returns where in a word of the text the plan's words match it,
// in bytes: the whole word when one of them begins it, the part when one
// is part of it (ModeParts); start == end when none does.
func (p Plan) match(word string) (start, end int) {
	lower := strings.ToLower(word)
	for _, alts := range p.Words {
		for _, w := range alts {
			switch {
			case p.Mode == ModeParts:
				if i := strings.Index(lower, w); i >= 0 {
					if len(lower) != len(word) { // case changed the bytes: mark it all
						return 0, len(word)
					}
					return i, i + len(w)
				}
			case strings.HasPrefix(lower, w):
				return 0, len(word)
			}
		}
	}
	return 0, 0
}

// HTML returns the snippet as HTML: its text escaped, each match in a
// <mark> element.
func (s Snippet) HTML() string {
	return s.Tagged("<mark>", "</mark>", html.EscapeString)
}

// Tagged returns the snippet's text, each match between pre and post,
// the text passed through escape.
func (s Snippet) Tagged(pre, post string, escape func(string) string) string {
	var b strings.Builder
	for _, f := range s {
		if f.Match {
			b.WriteString(pre)
		}
		b.WriteString(escape(f.Text))
		if f.Match {
			b.WriteString(post)
		}
	}
	return b.String()
}
