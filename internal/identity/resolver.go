package identity

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Catalog is what a [Resolver] reads from the catalog. Only entities that
// grant count (see the package doc): neither orphans nor entities stored
// without a good version.
type Catalog interface {
	// Ownership returns userRef (canonical), then every group the user is a
	// member of, directly or through parent groups; found reports whether
	// the User entity exists. When it does not, refs is userRef alone.
	Ownership(ctx context.Context, userRef string) (refs []string, found bool, err error)
	// UserByEmail returns the ref of the user whose profile e-mail is email.
	// Returns ENOTFOUND when there is none and ECONFLICT when there are several.
	UserByEmail(ctx context.Context, email string) (string, error)
	// Generation returns a number that moves whenever the catalog may have
	// changed; it is asked on every lookup, so it must be cheap.
	Generation(ctx context.Context) (uint64, error)
}

// Defaults of [Options].
const (
	DefaultTTL       = 30 * time.Second
	DefaultCacheSize = 1000
)

// Options configures a [Resolver].
type Options struct {
	// AllowUnknownUsers lets a user who has no User entity in, with only its
	// own ref to own through, like Backstage's
	// dangerouslyAllowSignInWithoutUserInCatalog. Otherwise such a user is
	// refused.
	AllowUnknownUsers bool
	// TTL is how long a resolved principal is reused while the catalog does
	// not change; any change of the catalog ends it at once. 0 means
	// [DefaultTTL].
	TTL time.Duration
	// Size bounds how many principals are cached; 0 means [DefaultCacheSize].
	Size int
}

// Resolver makes principals from token subjects, reading users and their
// groups from the catalog. Every request carries a token, and group
// membership changes rarely, so results (refusals included) are cached
// for [Options.TTL], and only while the catalog's generation stays what it
// was when they were looked up: a user removed from the catalog is refused
// on the next request. Database errors are not cached, so the next request
// tries again. It is safe for concurrent use.
type Resolver struct {
	catalog Catalog
	opts    Options
	cache   *expirable.LRU[cacheKey, cached]
}

// cacheKey is what a principal was looked up by: a canonical user ref, or
// a lower-cased e-mail address.
type cacheKey struct {
	ref, email string
}

// cached is a resolved principal or the refusal of one, and the catalog
// generation it was looked up in.
type cached struct {
	p   *portal.Principal
	err error
	gen uint64
}

// NewResolver returns a resolver over c. A Resolver is meant to live as
// long as the process: its cache runs a goroutine to drop expired entries
// that never stops.
func NewResolver(c Catalog, opts Options) *Resolver {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Size <= 0 {
		opts.Size = DefaultCacheSize
	}
	return &Resolver{catalog: c, opts: opts, cache: expirable.NewLRU[cacheKey, cached](opts.Size, nil, opts.TTL)}
}

// servicePrefix starts the subject of a script or CI job's token.
const servicePrefix = "service:"

// Principal returns the caller a verified token names. subject is either
// "service:<name>", for a service, or a User entity ref, in which the kind
// may be left out ("jane", "ops/jane") and must be User when given. When
// subject is empty, the user is the one whose profile e-mail is email,
// tried again without a "+tag" in its local part.
//
// A user's ownership refs are its own ref and its groups, transitively up
// the parent chain. A user with no entity in the catalog, or only an
// orphaned or invalid one, is refused unless [Options.AllowUnknownUsers] is
// set, in which case it owns through its own ref only; for an unknown
// e-mail address that ref is user:default/<address without +tag>, as
// Backstage names it.
//
// Returns EUNAUTHENTICATED when the caller cannot be resolved; any other
// error comes from the catalog's database. The principal returned is the
// caller's own to keep or change.
func (r *Resolver) Principal(ctx context.Context, subject, email string) (*portal.Principal, error) {
	subject, email = strings.TrimSpace(subject), strings.ToLower(strings.TrimSpace(email))
	if len(subject) >= len(servicePrefix) && strings.EqualFold(subject[:len(servicePrefix)], servicePrefix) {
		name := subject[len(servicePrefix):]
		if name == "" {
			return nil, portal.Errorf(portal.EUNAUTHENTICATED, "token subject %q names no service", subject)
		}
		ref := servicePrefix + strings.ToLower(name)
		return &portal.Principal{Kind: portal.PrincipalService, Ref: ref, Ownership: []string{ref}}, nil
	}
	var key cacheKey
	switch {
	case subject != "":
		ref, err := catalog.ParseRef(subject, catalog.RefDefaults{Kind: catalog.KindUser})
		if err != nil {
			return nil, portal.Errorf(portal.EUNAUTHENTICATED, "token subject %q is not an entity ref", subject)
		}
		if !strings.EqualFold(ref.Kind, catalog.KindUser) {
			return nil, portal.Errorf(portal.EUNAUTHENTICATED, "token subject %s is not a user", ref)
		}
		key.ref = ref.String()
	case email != "":
		key.email = email
	default:
		return nil, portal.Errorf(portal.EUNAUTHENTICATED, "token names neither a subject nor an email")
	}
	// The generation is read before the lookup: a change during it leaves
	// the entry stale rather than fresh.
	gen, err := r.catalog.Generation(ctx)
	if err != nil {
		return nil, fmt.Errorf("identity: catalog generation: %w", err)
	}
	if c, ok := r.cache.Get(key); ok && c.gen == gen {
		return clone(c.p), c.err
	}
	p, err := r.resolve(ctx, key)
	if err != nil && portal.ErrorCode(err) != portal.EUNAUTHENTICATED {
		return nil, err
	}
	r.cache.Add(key, cached{p, err, gen})
	return clone(p), err
}

// resolve looks key up in the catalog.
func (r *Resolver) resolve(ctx context.Context, key cacheKey) (*portal.Principal, error) {
	ref := key.ref
	if key.email != "" {
		var err error
		ref, err = r.catalog.UserByEmail(ctx, key.email)
		switch portal.ErrorCode(err) {
		case "":
		case portal.ENOTFOUND:
			if !r.opts.AllowUnknownUsers {
				return nil, portal.Errorf(portal.EUNAUTHENTICATED, "no user with email %s is in the catalog", key.email)
			}
			return unknownUser(catalog.Ref{Kind: catalog.KindUser, Name: untagged(key.email)}.String()), nil
		case portal.ECONFLICT:
			return nil, portal.Errorf(portal.EUNAUTHENTICATED, "several users in the catalog have email %s", key.email)
		default:
			return nil, fmt.Errorf("identity: user with email %s: %w", key.email, err)
		}
	}
	refs, found, err := r.catalog.Ownership(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("identity: ownership of %s: %w", ref, err)
	}
	if !found {
		if !r.opts.AllowUnknownUsers {
			return nil, portal.Errorf(portal.EUNAUTHENTICATED, "%s is not in the catalog", ref)
		}
		return unknownUser(ref), nil
	}
	return &portal.Principal{Kind: portal.PrincipalUser, Ref: ref, Ownership: refs, InCatalog: true}, nil
}

func unknownUser(ref string) *portal.Principal {
	return &portal.Principal{Kind: portal.PrincipalUser, Ref: ref, Ownership: []string{ref}}
}

// plusAddress splits an e-mail address as Backstage's sign-in resolver
// does: "joe+work@acme.com" is "joe", "+work", "@acme.com".
var plusAddress = regexp.MustCompile(`^([^@+]+)(\+[^@]+)?(@.*)$`)

// untagged returns email without the "+tag" of its local part.
func untagged(email string) string {
	if m := plusAddress.FindStringSubmatch(email); m != nil {
		return m[1] + m[3]
	}
	return email
}

// clone copies a cached principal, so that a caller changing its copy
// cannot change what the next request gets.
func clone(p *portal.Principal) *portal.Principal {
	if p == nil {
		return nil
	}
	c := *p
	c.Ownership = slices.Clone(p.Ownership)
	return &c
}
