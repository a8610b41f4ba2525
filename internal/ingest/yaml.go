package ingest

import (
	"bytes"
	"fmt"
	"iter"
	"math/big"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Document is one YAML document of a descriptor file.
type Document struct {
	Index int            // position in the file, from 0, counting null documents
	Line  int            // line of the document's first line, from 1
	Value map[string]any // nil when Err is set
	Err   error          // syntax error, a root that is not a mapping, or ErrTooLarge
	// Size is about the bytes of Value as JSON, aliases expanded; see
	// [ParseYAML].
	Size int64
	root *yaml.Node
}

// LineOf returns the line of the field at a dotted path such as
// "spec.owner" or "metadata.tags.1", or of the nearest ancestor that
// exists; the document's first line when nothing matches.
func (d *Document) LineOf(path string) int {
	n := d.root
	if n == nil {
		return d.Line
	}
	line := n.Line
	if path == "" {
		return line
	}
	for _, seg := range strings.Split(path, ".") {
		next, keyLine := child(n, seg)
		if next == nil {
			if keyLine > 0 {
				return keyLine
			}
			return line
		}
		n, line = next, next.Line
		if keyLine > 0 {
			line = keyLine
		}
	}
	return line
}

func child(n *yaml.Node, seg string) (*yaml.Node, int) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == seg {
				return n.Content[i+1], n.Content[i].Line
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], 0
		}
	}
	return nil, 0
}

// ParseYAML splits data into YAML documents and decodes each one on its own,
// so that a syntax error in one document does not hide the others. Null
// documents (an empty document, a trailing "---") are dropped. Merge keys are
// not applied: "<<" stays an ordinary key, as in Backstage's parser.
//
// A few bytes of YAML can expand, through aliases, to gigabytes: bytes are
// counted while aliases are expanded, and a document that would be over
// maxDoc bytes is not decoded and has an Err that wraps [ErrTooLarge].
// Documents are decoded one at a time, as the caller asks for them, so that
// a caller counting what they add up to can stop before the memory is spent.
func ParseYAML(data []byte, maxDoc int64) iter.Seq[Document] {
	return parseChunks(splitDocuments(data), maxDoc)
}

// ParseFile is [ParseYAML] for the descriptor file or URL name, except
// that a file named *.ndjson or *.jsonl (what greenroom export writes
// with --format ndjson) holds one JSON document per line, JSON being
// YAML.
func ParseFile(name string, data []byte, maxDoc int64) iter.Seq[Document] {
	if isNDJSON(name) {
		return parseChunks(splitLines(data), maxDoc)
	}
	return ParseYAML(data, maxDoc)
}

func isNDJSON(name string) bool {
	if u, err := url.Parse(name); err == nil && u.Scheme != "" {
		name = u.Path
	}
	ext := strings.ToLower(path.Ext(name))
	return ext == ".ndjson" || ext == ".jsonl"
}

// splitLines cuts data into its lines; blank lines are null documents.
func splitLines(data []byte) []chunk {
	var chunks []chunk
	for line := 1; len(data) > 0; line++ {
		l, rest, _ := bytes.Cut(data, []byte("\n"))
		chunks = append(chunks, chunk{text: l, line: line})
		data = rest
	}
	return chunks
}

func parseChunks(chunks []chunk, maxDoc int64) iter.Seq[Document] {
	return func(yield func(Document) bool) {
		for i, chunk := range chunks {
			d, ok := parseDocument(i, chunk, maxDoc)
			if ok && !yield(d) {
				return
			}
		}
	}
}

// parseDocument decodes one document; ok is false for a null document.
func parseDocument(i int, chunk chunk, maxDoc int64) (d Document, ok bool) {
	d = Document{Index: i, Line: chunk.line}
	var root yaml.Node
	if err := yaml.Unmarshal(chunk.text, &root); err != nil {
		d.Err = shiftLines(err, chunk.line-1)
		return d, true
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return d, false // empty document
	}
	body := root.Content[0]
	if body.Kind == yaml.ScalarNode && body.ShortTag() == "!!null" {
		return d, false
	}
	offsetLines(body, chunk.line-1)
	d.root = body
	d.Line = body.Line
	c := converter{max: maxDoc}
	v, err := c.value(body)
	if err != nil {
		d.Err = err
		return d, true
	}
	d.Size = c.size
	m, ok := v.(map[string]any)
	if !ok {
		d.Err = fmt.Errorf("expected object at root, got %s", typeName(v))
		return d, true
	}
	d.Value = m
	return d, true
}

// Value is one YAML document of any shape, as a $yaml placeholder reads it.
type Value struct {
	Any  any
	Err  error
	Size int64 // as [Document.Size]
}

// ParseYAMLValues decodes every non-null document of data, whatever its
// root, as [ParseYAML] does, each of at most max bytes.
func ParseYAMLValues(data []byte, max int64) []Value {
	var out []Value
	for _, chunk := range splitDocuments(data) {
		var root yaml.Node
		if err := yaml.Unmarshal(chunk.text, &root); err != nil {
			out = append(out, Value{Err: shiftLines(err, chunk.line-1)})
			continue
		}
		if root.Kind == 0 || len(root.Content) == 0 {
			continue
		}
		c := converter{max: max}
		v, err := c.value(root.Content[0])
		if v == nil && err == nil {
			continue
		}
		out = append(out, Value{Any: v, Err: err, Size: c.size})
	}
	return out
}

type chunk struct {
	text []byte
	line int // line of the chunk's first line in the file, from 1
}

// splitDocuments cuts data at document markers ("---" at the start of a line,
// alone or followed by a space) and document end markers ("..."). A marker
// at column 0 ends any block scalar in YAML, so this never cuts a value.
// Comments and directives before a document's "---" are not a document of
// their own; they are dropped, as yaml.v3 rejects a "%YAML 1.2" directive.
func splitDocuments(data []byte) []chunk {
	var chunks []chunk
	start, startLine, line := 0, 1, 1
	prelude := true // no "---" since the start of the file or the last "..."
	for pos := 0; pos <= len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += pos
		}
		l := bytes.TrimRight(data[pos:end], "\r")
		if isMarker(l, "---") || isMarker(l, "...") {
			if !prelude || isMarker(l, "...") || !onlyDirectives(data[start:pos]) {
				chunks = append(chunks, chunk{text: data[start:pos], line: startLine})
			}
			prelude = isMarker(l, "...")
			// Content after "--- " on the same line belongs to the next document.
			rest := bytes.TrimLeft(l[3:], " \t")
			if len(rest) > 0 && isMarker(l, "---") {
				start = pos + (len(l) - len(rest))
				startLine = line
			} else {
				start = end + 1
				startLine = line + 1
			}
		}
		pos = end + 1
		line++
	}
	if start < len(data) {
		chunks = append(chunks, chunk{text: data[start:], line: startLine})
	}
	return chunks
}

func isMarker(l []byte, m string) bool {
	return bytes.HasPrefix(l, []byte(m)) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t')
}

// onlyDirectives reports whether text holds nothing but blank lines,
// comments and directives ("%YAML 1.2"), which may precede a "---".
func onlyDirectives(text []byte) bool {
	for _, l := range bytes.Split(text, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' && l[0] != '%' {
			return false
		}
	}
	return true
}

// offsetLines makes node lines count from the start of the file.
func offsetLines(n *yaml.Node, by int) {
	if by == 0 {
		return
	}
	n.Line += by
	for _, c := range n.Content {
		offsetLines(c, by)
	}
}

// shiftLines rewrites "yaml: line N:" in a parser error to count from the
// start of the file.
func shiftLines(err error, by int) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ":"); ok {
			if n, convErr := strconv.Atoi(num); convErr == nil {
				tail = strings.TrimSpace(tail)
				if parserProblems[tail] {
					n++ // yaml.v3 counts these lines from 0
				}
				return &SyntaxError{Line: n + by, Msg: tail}
			}
		}
	}
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		msg = strings.Join(te.Errors, "; ")
	}
	return &SyntaxError{Line: by + 1, Msg: msg}
}

// parserProblems are the errors of yaml.v3's parser, as opposed to its
// scanner: it reports their lines counting from 0, and the scanner's
// counting from 1.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found undefined tag handle":             true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// SyntaxError is a YAML syntax error at a line of the file.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("YAML syntax error at line %d: %s", e.Line, e.Msg)
}

// maxNodes bounds the values one document may expand to through aliases,
// so that a "billion laughs" file cannot exhaust memory.
const maxNodes = 1 << 20

// nodeOverhead is what each value counts beyond its text: about what it
// takes in memory once decoded, more than what JSON adds around it, so that
// a document of many tiny values is not counted as nothing.
const nodeOverhead = 16

type converter struct {
	nodes     int
	size, max int64               // bytes counted so far, and the most allowed
	expanding map[*yaml.Node]bool // anchored nodes being expanded through an alias
}

// count adds the bytes of one value, failing once they pass the limit.
func (c *converter) count(n *yaml.Node, bytes int) error {
	c.size += int64(bytes + nodeOverhead)
	if c.size > c.max {
		return fmt.Errorf("line %d: the document is %w: with its aliases expanded it takes more than %d bytes", n.Line, ErrTooLarge, c.max)
	}
	return nil
}

// value converts a YAML node into JSON-shaped Go values: map[string]any,
// []any, string, int64, float64, bool and nil. Scalars resolve as in YAML
// 1.2's core schema that Backstage's parser uses: timestamps stay strings,
// and so do YAML 1.1 numbers such as 0b101 and 1_000.
func (c *converter) value(n *yaml.Node) (any, error) {
	c.nodes++
	if c.nodes > maxNodes {
		return nil, fmt.Errorf("line %d: document expands to more than %d values", n.Line, maxNodes)
	}
	switch n.Kind {
	case yaml.AliasNode:
		// An alias inside the value it names would expand forever.
		if c.expanding[n.Alias] {
			return nil, fmt.Errorf("line %d: alias *%s is part of the value it refers to", n.Line, n.Value)
		}
		if c.expanding == nil {
			c.expanding = map[*yaml.Node]bool{}
		}
		c.expanding[n.Alias] = true
		v, err := c.value(n.Alias)
		delete(c.expanding, n.Alias)
		return v, err
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0])
	case yaml.MappingNode:
		if err := c.count(n, 0); err != nil {
			return nil, err
		}
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			for k.Kind == yaml.AliasNode {
				k = k.Alias
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping keys must be scalars", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			if err := c.count(k, len(k.Value)); err != nil {
				return nil, err
			}
			v, err := c.value(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		if err := c.count(n, 0); err != nil {
			return nil, err
		}
		s := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := c.value(item)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		if err := c.count(n, len(n.Value)); err != nil {
			return nil, err
		}
		return scalar(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return b, nil
	case "!!int", "!!float":
		return number(n.Value), nil
	default: // !!str, !!timestamp, !!binary and custom tags keep their text
		return n.Value, nil
	}
}

// The number forms of YAML 1.2's core schema. yaml.v3 also reads YAML 1.1
// forms (017 as octal 15, 0b101, 1_000, 0X1F) that Backstage's parser
// reads as 17 and as strings.
var (
	reCoreInt   = regexp.MustCompile(`^[-+]?[0-9]+$`)
	reCoreOct   = regexp.MustCompile(`^0o[0-7]+$`)
	reCoreHex   = regexp.MustCompile(`^0x[0-9a-fA-F]+$`)
	reCoreFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
)

// number converts the text of a scalar that yaml.v3 resolved as a number:
// an int64, a float64 for floats and for integers too large for an int64,
// or the text itself when the core schema does not read it as a number.
// .inf and .nan keep their text too: JSON cannot represent them.
func number(s string) any {
	digits, base := s, 10
	switch {
	case reCoreInt.MatchString(s):
	case reCoreOct.MatchString(s):
		digits, base = s[2:], 8
	case reCoreHex.MatchString(s):
		digits, base = s[2:], 16
	case reCoreFloat.MatchString(s):
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return s
	default:
		return s
	}
	if i, err := strconv.ParseInt(digits, base, 64); err == nil {
		return i
	}
	if f, _, err := big.ParseFloat(digits, base, 53, big.ToNearestEven); err == nil {
		v, _ := f.Float64()
		return v
	}
	return s
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64, float64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}
