package policy

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// Problem is one thing wrong with a policy file.
type Problem struct {
	File    string
	Line    int // 0 when the problem belongs to no line
	Message string
}

// String formats the problem as compilers do: file:line: message, leaving
// out what is unknown.
func (p Problem) String() string {
	where := p.File
	switch {
	case p.Line == 0:
	case where == "":
		where = fmt.Sprintf("line %d", p.Line)
	default:
		where = fmt.Sprintf("%s:%d", where, p.Line)
	}
	if where == "" {
		return p.Message
	}
	return where + ": " + p.Message
}

// ParseError is every problem found in a policy file, in line order, so
// that one edit can fix them all.
type ParseError struct {
	Problems []Problem
}

// Error returns the problems, one a line.
func (e *ParseError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Load reads and parses the policy file at path.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return Parse(data, path)
}

// Parse parses a policy file; filename is used in problems. It reports
// every problem it finds, as a [*ParseError], rather than stopping at the
// first: a policy that is half right must not be half loaded.
func Parse(data []byte, filename string) (*Policy, error) {
	ps := &parser{file: filename}
	pol := &Policy{rules: ps.parse(data)}
	if len(ps.problems) > 0 {
		slices.SortStableFunc(ps.problems, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
		return nil, &ParseError{Problems: ps.problems}
	}
	return pol, nil
}

// ParseBuiltin parses a policy built into the program rather than read
// from a file, named name in problems. Its rules have no line, so that no
// decision points at a line of a file that does not exist.
func ParseBuiltin(data []byte, name string) (*Policy, error) {
	pol, err := Parse(data, name)
	if err != nil {
		return nil, err
	}
	for _, r := range pol.rules {
		r.line = 0
	}
	return pol, nil
}

// parser collects the problems of one file.
type parser struct {
	file     string
	problems []Problem
}

func (ps *parser) errorf(line int, format string, args ...any) {
	ps.problems = append(ps.problems, Problem{File: ps.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// yamlLine splits the line number out of a YAML syntax error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (ps *parser) yamlError(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		ps.errorf(line, "%s", m[2])
		return
	}
	ps.errorf(0, "%s", strings.TrimPrefix(msg, "yaml: "))
}

func (ps *parser) parse(data []byte) []*rule {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			ps.errorf(0, "the file is empty; a policy needs a rules list")
		} else {
			ps.yamlError(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		ps.errorf(extra.Line, "a policy file holds one YAML document; this is a second")
	case !errors.Is(err, io.EOF):
		ps.yamlError(err)
	}
	root := resolve(doc.Content[0])
	if isNull(root) {
		ps.errorf(0, "the file has no rules; a policy needs a rules list")
		return nil
	}
	top, ok := ps.mapping(root, "the policy", "rules")
	if !ok {
		return nil
	}
	f, ok := top["rules"]
	if !ok {
		ps.errorf(root.Line, "the policy needs a rules list")
		return nil
	}
	items := resolve(f.value)
	if items.Kind != yaml.SequenceNode || len(items.Content) == 0 {
		ps.errorf(items.Line, "rules must be a list of at least one rule")
		return nil
	}
	names := map[string]int{} // rule name → line
	var rules []*rule
	for i, item := range items.Content {
		if r := ps.rule(resolve(item), i+1, names); r != nil {
			rules = append(rules, r)
		}
	}
	return rules
}

// field is one key of a mapping with its value.
type field struct {
	key, value *yaml.Node
}

// mapping returns the fields of n by key, reporting keys outside known and
// keys given twice.
func (ps *parser) mapping(n *yaml.Node, what string, known ...string) (map[string]field, bool) {
	if n.Kind != yaml.MappingNode {
		ps.errorf(n.Line, "%s must be a mapping", what)
		return nil, false
	}
	out := map[string]field{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		switch prev, dup := out[k.Value]; {
		case !slices.Contains(known, k.Value):
			ps.errorf(k.Line, "%s: unknown key %q; the keys are %s", what, k.Value, strings.Join(known, ", "))
		case dup:
			ps.errorf(k.Line, "%s: %s is given twice (first on line %d)", what, k.Value, prev.key.Line)
		default:
			out[k.Value] = field{k, resolve(n.Content[i+1])}
		}
	}
	return out, true
}

// item is one string of a list, with its line.
type item struct {
	value string
	line  int
}

// list returns the strings of a list. A single string is taken as a list
// of one, so "to: anyone" reads as it should.
func (ps *parser) list(n *yaml.Node, what string) []item {
	switch {
	case n.Kind == yaml.ScalarNode && (isNull(n) || n.Value == ""),
		n.Kind == yaml.SequenceNode && len(n.Content) == 0:
		ps.errorf(n.Line, "%s must list at least one entry", what)
		return nil
	case n.Kind == yaml.ScalarNode:
		return []item{{n.Value, n.Line}}
	case n.Kind != yaml.SequenceNode:
		ps.errorf(n.Line, "%s must be a list", what)
		return nil
	}
	var out []item
	for _, c := range n.Content {
		c = resolve(c)
		if c.Kind != yaml.ScalarNode || isNull(c) || c.Value == "" {
			ps.errorf(c.Line, "%s: every entry must be a non-empty string", what)
			continue
		}
		out = append(out, item{c.Value, c.Line})
	}
	return out
}

// ruleName is what a rule name may look like: reasons quote it unquoted,
// so it has no spaces.
var ruleName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// rule parses the index'th rule (from 1); names maps the names of the rules
// before it to their lines. It returns nil when n is not a mapping; a rule
// with problems is returned all the same, since [Parse] keeps no rule of a
// file with problems.
func (ps *parser) rule(n *yaml.Node, index int, names map[string]int) *rule {
	// Problems name the rule by its name when it has a good one, which
	// must be known before any other key is looked at.
	what := fmt.Sprintf("rule %d", index)
	if v := nameOf(n); v != nil && ruleName.MatchString(v.Value) {
		what = "rule " + v.Value
	}
	fields, ok := ps.mapping(n, what, "name", "description", "allow", "deny", "to", "when")
	if !ok {
		return nil
	}
	r := &rule{line: n.Line}
	if f, ok := fields["name"]; !ok {
		ps.errorf(n.Line, "%s needs a name", what)
	} else if v := f.value; v.Kind != yaml.ScalarNode || !ruleName.MatchString(v.Value) {
		ps.errorf(v.Line, "%s: name must be letters, digits, '.', '_' and '-', starting with a letter or digit", what)
	} else {
		r.name = v.Value
		if line, dup := names[r.name]; dup {
			ps.errorf(v.Line, "%s: the name is taken by the rule on line %d", what, line)
		} else {
			names[r.name] = v.Line
		}
	}
	if f, ok := fields["description"]; ok && f.value.Kind != yaml.ScalarNode {
		ps.errorf(f.value.Line, "%s: description must be a string", what)
	}
	allow, isAllow := fields["allow"]
	deny, isDeny := fields["deny"]
	switch {
	case isAllow && isDeny:
		ps.errorf(deny.key.Line, "%s has both allow and deny; a rule does one or the other, so write two rules", what)
	case !isAllow && !isDeny:
		ps.errorf(n.Line, "%s needs allow or deny", what)
	}
	r.deny = isDeny && !isAllow
	var perms []permission // the known permissions the rule names
	for _, f := range []field{allow, deny} {
		if f.key == nil {
			continue
		}
		for _, it := range ps.list(f.value, what+": "+f.key.Value) {
			known := covered(it.value)
			if len(known) == 0 && isPluginPattern(it.value) {
				known = []permission{{name: it.value}} // a plugin's: basic
			}
			if len(known) == 0 {
				ps.errorf(it.line, "%s: unknown permission %q; the permissions are %s, wildcards such as \"*\" and \"catalog.entity.*\", and plugins' own, named plugin.thing.action in lower case", what, it.value, permissionNames())
				continue
			}
			perms = append(perms, known...)
			r.perms = append(r.perms, it.value)
		}
	}
	if f, ok := fields["to"]; !ok {
		ps.errorf(n.Line, "%s needs to, the callers it applies to", what)
	} else {
		for _, it := range ps.list(f.value, what+": to") {
			s, err := parseSubject(it.value)
			if err != nil {
				ps.errorf(it.line, "%s: %v", what, err)
				continue
			}
			r.to = append(r.to, s)
		}
	}
	if f, ok := fields["when"]; ok {
		r.when = ps.conditions(f.value, what+": when")
		if len(perms) > 0 && !slices.ContainsFunc(perms, func(p permission) bool { return p.resource != "" }) {
			ps.errorf(f.key.Line, "%s: when tests an entity, and none of the rule's permissions is about one", what)
		}
	}
	return r
}

// nameOf returns the scalar value of a rule's first name key, or nil.
func nameOf(n *yaml.Node) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := resolve(n.Content[i]), resolve(n.Content[i+1]); k.Value == "name" && v.Kind == yaml.ScalarNode {
			return v
		}
	}
	return nil
}

// permissionNames lists the known permissions for problems.
func permissionNames() string {
	names := make([]string, len(permissions))
	for i, p := range permissions {
		names[i] = p.name
	}
	return strings.Join(names, ", ")
}

// parseSubject parses an entry of a rule's "to" list. Refs are compared in
// canonical, lower-case form, as portal.Principal holds them.
func parseSubject(s string) (subject, error) {
	switch strings.ToLower(s) {
	case "anyone":
		return subject{kind: anyone}, nil
	case "users":
		return subject{kind: users}, nil
	case "services":
		return subject{kind: services}, nil
	case "anonymous":
		return subject{kind: anonymous}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	if !ok {
		return subject{}, fmt.Errorf("unknown subject %q; write anyone, users, services, anonymous, user:<namespace>/<name>, group:<namespace>/<name> or service:<name>", s)
	}
	switch strings.ToLower(kind) {
	case "user", "group":
		ref, err := catalog.ParseRef(s, catalog.RefDefaults{})
		if err != nil {
			return subject{}, fmt.Errorf("bad subject %q: %v", s, err)
		}
		k := userRef
		if strings.EqualFold(kind, "group") {
			k = groupRef
		}
		return subject{kind: k, ref: ref.String()}, nil
	case "service":
		if name == "" || strings.ContainsAny(name, "/ \t") {
			return subject{}, fmt.Errorf("bad subject %q: a service is named service:<name>, without a namespace or spaces", s)
		}
		return subject{kind: serviceRef, ref: strings.ToLower(s)}, nil
	}
	return subject{}, fmt.Errorf("bad subject %q: the kinds of subject are user, group and service", s)
}

func (ps *parser) conditions(n *yaml.Node, what string) *conditions {
	fields, ok := ps.mapping(n, what, "isOwner", "kind", "namespace", "labels", "annotations")
	if !ok {
		return nil
	}
	if len(n.Content) == 0 {
		ps.errorf(n.Line, "%s has no conditions; leave it out for a rule about every entity", what)
		return nil
	}
	c := &conditions{}
	if f, ok := fields["isOwner"]; ok {
		v := f.value
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
			ps.errorf(v.Line, "%s: isOwner must be true", what)
		} else if err := v.Decode(&c.isOwner); err != nil || !c.isOwner {
			ps.errorf(v.Line, "%s: isOwner must be true; to match entities whatever their owner, leave it out", what)
		}
	}
	if f, ok := fields["kind"]; ok {
		for _, it := range ps.list(f.value, what+": kind") {
			c.kinds = append(c.kinds, it.value)
		}
	}
	if f, ok := fields["namespace"]; ok {
		for _, it := range ps.list(f.value, what+": namespace") {
			c.namespaces = append(c.namespaces, it.value)
		}
	}
	if f, ok := fields["labels"]; ok {
		c.labels = ps.keyValues(f.value, what+": labels")
	}
	if f, ok := fields["annotations"]; ok {
		c.annotations = ps.keyValues(f.value, what+": annotations")
	}
	return c
}

// keyValues parses a labels or annotations condition: a mapping from key to
// value, "*" for any value.
func (ps *parser) keyValues(n *yaml.Node, what string) []keyValue {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		ps.errorf(n.Line, "%s must map at least one key to a value (\"*\" for any value)", what)
		return nil
	}
	seen := map[string]int{} // lower-cased key → line
	var out []keyValue
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		lk := strings.ToLower(k.Value)
		switch line, dup := seen[lk]; {
		case k.Kind != yaml.ScalarNode || k.Value == "":
			ps.errorf(k.Line, "%s: keys must be non-empty strings", what)
		case dup:
			ps.errorf(k.Line, "%s: %s is given twice (first on line %d); keys compare without case", what, k.Value, line)
		case v.Kind != yaml.ScalarNode || isNull(v) || v.Value == "":
			ps.errorf(v.Line, "%s: %s needs a value; write \"*\" for any value", what, k.Value)
		default:
			seen[lk] = k.Line
			out = append(out, keyValue{key: k.Value, value: v.Value})
		}
	}
	return out
}

// resolve follows YAML aliases to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}
