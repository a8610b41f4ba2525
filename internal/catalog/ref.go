package catalog

import (
	"fmt"
	"strings"
)

// DefaultNamespace is the namespace of an entity or reference that names none.
const DefaultNamespace = "default"

// Ref identifies an entity by kind, namespace and name. Parsing keeps the
// case of each part; [Ref.String] lower-cases all three, so two refs that
// differ only in case name the same entity.
type Ref struct {
	Kind      string
	Namespace string
	Name      string
}

// String returns the canonical form kind:namespace/name, lower-cased. It is
// the key under which entities and relation targets are stored.
func (r Ref) String() string {
	ns := r.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return strings.ToLower(r.Kind) + ":" + strings.ToLower(ns) + "/" + strings.ToLower(r.Name)
}

// RefDefaults supplies the parts a short reference may leave out.
type RefDefaults struct {
	Kind      string // used when the reference has no kind; "" makes a kind mandatory
	Namespace string // used when the reference has no namespace; "" means "default"
}

// ParseRef parses a reference of the form [<kind>:][<namespace>/]<name> as
// Backstage does: a '/' before the first ':' disables the kind, and the name
// is everything after the first '/' that follows the kind, so it may itself
// contain '/' or ':'.
func ParseRef(s string, d RefDefaults) (Ref, error) {
	kind, ns, name, err := splitRef(s)
	if err != nil {
		return Ref{}, err
	}
	if kind == "" {
		if d.Kind == "" {
			return Ref{}, fmt.Errorf("entity reference %q had missing or empty kind (e.g. did not start with \"component:\" or similar)", s)
		}
		kind = d.Kind
	}
	if ns == "" {
		ns = d.Namespace
		if ns == "" {
			ns = DefaultNamespace
		}
	}
	return Ref{Kind: kind, Namespace: ns, Name: name}, nil
}

// MustParseRef is [ParseRef] for references known to be well formed, such as
// constants in tests; it panics on error.
func MustParseRef(s string) Ref {
	r, err := ParseRef(s, RefDefaults{})
	if err != nil {
		panic(err)
	}
	return r
}

// splitRef returns the parts of s that are present; an absent part is "".
// A part that is present but empty ("component:/x", ":x", "ns/") is an error.
func splitRef(s string) (kind, ns, name string, err error) {
	bad := func() (string, string, string, error) {
		return "", "", "", fmt.Errorf("entity reference %q was not on the form [<kind>:][<namespace>/]<name>", s)
	}
	colon := strings.IndexByte(s, ':')
	slash := strings.IndexByte(s, '/')
	if slash >= 0 && colon > slash {
		colon = -1 // a '/' before the first ':' makes the colon part of the name
	}
	rest := s
	if colon >= 0 {
		kind, rest = s[:colon], s[colon+1:]
		if kind == "" {
			return bad()
		}
		slash = strings.IndexByte(rest, '/')
	}
	if slash >= 0 {
		ns, name = rest[:slash], rest[slash+1:]
		if ns == "" {
			return bad()
		}
	} else {
		name = rest
	}
	if name == "" {
		return bad()
	}
	return kind, ns, name, nil
}
