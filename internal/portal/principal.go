package portal

import (
	"context"
	"time"
)

// PrincipalKind says what kind of caller a [Principal] is.
type PrincipalKind string

// The kinds of caller.
const (
	// PrincipalUser is a person: a User entity ref, in the catalog or not.
	PrincipalUser PrincipalKind = "user"
	// PrincipalService is a script or CI job, with a ref like
	// "service:deploy-bot" and the permissions policy gives services.
	PrincipalService PrincipalKind = "service"
	// PrincipalAnonymous is a request that carries no token.
	PrincipalAnonymous PrincipalKind = "anonymous"
	// PrincipalCLI is an operator running a greenroom command on the
	// database directly, with a ref like "cli:jane" (the OS user). It holds
	// the database, so no policy applies; it is named only so that what it
	// changes is audited.
	PrincipalCLI PrincipalKind = "cli"
)

// GuestRef is the user every request acts as in development mode, as
// Backstage's guest provider names it.
const GuestRef = "user:development/guest"

// Principal is who makes a request.
type Principal struct {
	Kind PrincipalKind
	// Ref is the canonical (lower-case) ref of the caller: a User entity ref
	// such as "user:default/jane", or "service:deploy-bot"; "" when anonymous.
	Ref string
	// Ownership holds the refs the caller owns through: its own ref, then
	// every group it is a member of, transitively up the parent chain.
	// Canonical and without duplicates.
	Ownership []string
	// InCatalog reports whether the user's entity is in the catalog and
	// grants an identity: an orphaned or invalid one does not.
	InCatalog bool
}

// Anonymous is the principal of a request without a token.
var Anonymous = &Principal{Kind: PrincipalAnonymous}

// Owns reports whether ref (canonical) is among the caller's ownership refs.
func (p *Principal) Owns(ref string) bool {
	for _, o := range p.Ownership {
		if o == ref {
			return true
		}
	}
	return false
}

type principalKey struct{}

// NewContextWithPrincipal returns a context that carries p.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the caller, or [Anonymous] when the context
// carries none.
func PrincipalFromContext(ctx context.Context) *Principal {
	if p, ok := ctx.Value(principalKey{}).(*Principal); ok && p != nil {
		return p
	}
	return Anonymous
}

type expiryKey struct{}

// NewContextWithExpiry returns a context that says when the credentials
// its caller presented expire.
func NewContextWithExpiry(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, expiryKey{}, t)
}

// ExpiryFromContext returns when the credentials of the caller in ctx
// expire, and false when they do not (no token, or development mode). A
// stream that outlives its request, such as a subscription, ends then.
func ExpiryFromContext(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(expiryKey{}).(time.Time)
	return t, ok && !t.IsZero()
}
