package ingest

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// Rule allows entities of some kinds from some locations, as a rule of
// Backstage's catalog.rules does.
type Rule struct {
	// Allow lists the kinds the rule allows, compared without regard to case.
	Allow []string `yaml:"allow"`
	// Locations limits the rule to documents read from matching files or
	// URLs. Nil matches every location; an empty list matches none.
	Locations []RuleLocation `yaml:"locations"`
}

// RuleLocation matches the file or URL a document was read from: by exact
// target, or by a glob pattern (doublestar syntax; * stops at a /).
type RuleLocation struct {
	Type    string `yaml:"type"`    // TypeFile or TypeURL
	Target  string `yaml:"target"`  // an absolute path or a URL
	Pattern string `yaml:"pattern"` // a glob over absolute paths or URLs
}

// RegisteredKinds are the kinds a location registered through the API may
// emit when no rules are configured: software, not organisation data, so
// that whoever may register a location cannot define users or groups.
var RegisteredKinds = []string{
	catalog.KindComponent, catalog.KindAPI, catalog.KindResource, catalog.KindSystem,
	catalog.KindDomain, catalog.KindTemplate, catalog.KindLocation,
}

// Rules decides which kinds of entity a document may have, given where it
// was read from. This is the one place that rule lives: refreshes, dry runs
// and validateEntities all ask it.
//
// Without configured rules, a location the operator configured may emit
// every kind and a location registered through the API only
// [RegisteredKinds]; locations reached through Location entities count as
// their root, so a registered location gains nothing by pointing at a
// configured file. With configured rules, they replace both defaults, as
// Backstage's catalog.rules do: a document is allowed if any rule allows
// its kind and matches the file or URL the document was read from (not the
// root location: what a file may define depends on the file).
type Rules struct {
	rules []Rule // nil: the defaults
}

// NewRules returns the rules, or the defaults when rules is nil. It
// returns an error for a rule that allows nothing or a malformed matcher.
func NewRules(rules []Rule) (*Rules, error) {
	for i, r := range rules {
		if len(r.Allow) == 0 {
			return nil, fmt.Errorf("rule %d: allow lists no kind", i+1)
		}
		for j, l := range r.Locations {
			if err := l.check(); err != nil {
				return nil, fmt.Errorf("rule %d, location %d: %w", i+1, j+1, err)
			}
		}
	}
	return &Rules{rules: rules}, nil
}

func (l RuleLocation) check() error {
	if l.Type != TypeFile && l.Type != TypeURL {
		return fmt.Errorf("type must be file or url, not %q", l.Type)
	}
	if (l.Target == "") == (l.Pattern == "") {
		return errors.New("give one of target and pattern")
	}
	if l.Type == TypeFile && !filepath.IsAbs(l.Target+l.Pattern) {
		return fmt.Errorf("file target or pattern %q must be an absolute path", l.Target+l.Pattern)
	}
	if l.Pattern != "" && !doublestar.ValidatePattern(l.pattern()) {
		return fmt.Errorf("pattern %q is not a valid glob", l.Pattern)
	}
	return nil
}

func (l RuleLocation) pattern() string {
	if l.Type == TypeFile {
		return filepath.ToSlash(l.Pattern)
	}
	return l.Pattern
}

func (l RuleLocation) matches(typ, name string) bool {
	if l.Type != typ || (typ == TypeURL && !plainURL(name)) {
		return false
	}
	if l.Target != "" {
		if typ == TypeFile {
			return filepath.Clean(l.Target) == filepath.Clean(name)
		}
		return l.Target == name
	}
	if typ == TypeFile {
		name = filepath.ToSlash(name)
	}
	ok, err := doublestar.Match(l.pattern(), name)
	return err == nil && ok
}

// plainURL reports whether a URL's path says plainly which file it names:
// no dot segments and no escaped slashes, which a server may resolve to a
// file a pattern does not mean to match.
func plainURL(name string) bool {
	u, err := url.Parse(name)
	if err != nil {
		return false
	}
	esc := strings.ToLower(u.EscapedPath())
	if strings.Contains(esc, "%2f") || strings.Contains(esc, "%5c") || strings.Contains(u.Path, "\\") {
		return false
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// Allows reports whether a document of kind, read from the file or URL
// name of type typ, may be emitted by a location whose root is configured
// or registered.
func (r *Rules) Allows(configured bool, typ, name, kind string) bool {
	if r.rules == nil {
		return configured || containsFold(RegisteredKinds, kind)
	}
	for _, rule := range r.rules {
		if !containsFold(rule.Allow, kind) {
			continue
		}
		if rule.Locations == nil {
			return true
		}
		for _, l := range rule.Locations {
			if l.matches(typ, name) {
				return true
			}
		}
	}
	return false
}

// refusal explains why a document of kind, read from key, is refused.
func (r *Rules) refusal(key, ref, kind string) string {
	if r.rules != nil {
		return fmt.Sprintf("%s is refused: no rule of catalog.rules allows kind %s from %s", ref, kind, key)
	}
	return fmt.Sprintf("%s is refused: a location registered through the API may not emit kind %s, only %s; configure the location, or set catalog.rules",
		ref, kind, strings.Join(RegisteredKinds, ", "))
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// defaultRules are the rules when none are configured.
var defaultRules = &Rules{}
