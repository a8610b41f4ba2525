package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// MaxTokenLength is the length, in characters, of the longest token
// accepted. Backstage refuses longer ones too; the limit bounds the work an
// anonymous caller can make the server do.
const MaxTokenLength = 32768

// Claims is what a verified token says about its bearer.
type Claims struct {
	// Subject is the sub claim: a User entity ref such as
	// "user:default/jane", or whatever the identity provider puts there for
	// the resolver to map. Never empty.
	Subject string
	// Email is the claim named by [Config.EmailClaim], or "" when the token
	// has none, it is not a string, or the token says email_verified is
	// false: an unverified address must not match a catalog user.
	Email string
	// Issuer is the iss claim.
	Issuer string
	// Audience is the aud claim.
	Audience []string
	// ExpiresAt is the exp claim.
	ExpiresAt time.Time
	// IssuedAt is the iat claim, or the zero time when the token has none.
	IssuedAt time.Time
}

// Verifier checks bearer tokens against one key source. It is safe for
// concurrent use.
type Verifier struct {
	parser     *jwt.Parser
	algorithms []string
	issuer     string
	audience   []string
	emailClaim string
	logger     *slog.Logger

	secret []byte          // with Config.Secret
	keys   keyfunc.Keyfunc // with a JWKS

	recent *lru.Cache[string, verified] // tokens verified lately
	now    func() time.Time
}

// verified is a token that passed verification, trusted until until.
type verified struct {
	claims *Claims
	until  time.Time
}

// A client sends the same token with every request for as long as it
// lives, and checking its signature and claims was a tenth of the cost of
// reading one entity. A token verified in the last recentFor is trusted
// again without checking, up to its expiry; a key removed from a JWKS stops
// the tokens it signed as soon as the verifier reloads the keys.
const (
	recentFor  = 30 * time.Second
	recentSize = 10_000
)

// NewVerifier returns a verifier for the tokens c accepts. With a JWKS it
// loads the keys before returning, over client (http.DefaultClient when
// nil), and fails if they cannot be loaded; ctx bounds that load and the
// background refreshes that follow, so cancel it to stop them.
func NewVerifier(ctx context.Context, c Config, client *http.Client) (*Verifier, error) {
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(c.Algorithms),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(c.ClockSkew),
	}
	if c.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(c.Issuer))
	}
	if len(c.Audience) > 0 {
		// WithAudience accepts a token carrying any one of the values;
		// WithAllAudiences would require all of them.
		opts = append(opts, jwt.WithAudience(c.Audience...))
	}
	recent, _ := lru.New[string, verified](recentSize)
	v := &Verifier{
		parser:     jwt.NewParser(opts...),
		algorithms: c.Algorithms,
		issuer:     c.Issuer,
		audience:   c.Audience,
		emailClaim: c.EmailClaim,
		logger:     c.Logger,
		recent:     recent,
		now:        time.Now,
	}
	if c.Secret != "" {
		v.secret = []byte(c.Secret)
		return v, nil
	}
	store, err := newKeyStore(ctx, c, client, v.recent.Purge)
	if err != nil {
		return nil, err
	}
	v.keys, err = keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: store})
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return v, nil
}

// Verify checks the signature and claims of the compact JWT raw and returns
// its claims. Every failure is a [portal.Error] with code
// [portal.EUNAUTHENTICATED] whose message says what is wrong with the token
// without repeating it. ctx bounds the wait for a JWKS reload that an
// unknown key id may cause.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	switch {
	case raw == "":
		return nil, unauthenticated("the token is empty")
	case len(raw) > MaxTokenLength:
		return nil, unauthenticated("the token is longer than %d characters", MaxTokenLength)
	}
	now := v.now()
	if r, ok := v.recent.Get(raw); ok {
		if now.Before(r.until) {
			return r.claims, nil
		}
		v.recent.Remove(raw)
	}
	c := &tokenClaims{}
	tok, err := v.parser.ParseWithClaims(raw, c, v.keyfunc(ctx))
	if err != nil {
		return nil, v.explain(tok, c, err)
	}
	if c.Subject == "" {
		return nil, unauthenticated("the token has no subject (sub claim)")
	}
	out := &Claims{
		Subject:   c.Subject,
		Email:     c.email(v.emailClaim),
		Issuer:    c.Issuer,
		Audience:  c.Audience,
		ExpiresAt: c.ExpiresAt.Time,
	}
	if c.IssuedAt != nil {
		out.IssuedAt = c.IssuedAt.Time
	}
	v.recent.Add(raw, verified{claims: out, until: minTime(now.Add(recentFor), out.ExpiresAt)})
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// keyfunc returns the function that gives jwt the key for a token: the
// secret, or the JWKS key named by the token's kid (every key when it names
// none), checked against the key's own alg.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	if v.secret != nil {
		return func(*jwt.Token) (any, error) { return v.secret, nil }
	}
	return v.keys.KeyfuncCtx(ctx)
}

// explain turns a jwt parse error into a message for the client. The checks
// follow the order in which jwt.Parser fails, so the first problem found is
// the one reported.
func (v *Verifier) explain(tok *jwt.Token, c *tokenClaims, err error) *portal.Error {
	if tok == nil {
		return unauthenticated("the token is malformed: a JWT has three dot-separated parts")
	}
	if errors.Is(err, jwt.ErrTokenMalformed) {
		return unauthenticated("the token is malformed: its header, claims or signature " +
			"is not base64url-encoded JSON of the right shape")
	}
	alg, _ := tok.Header["alg"].(string)
	if !slices.Contains(v.algorithms, alg) {
		if alg == "" {
			return unauthenticated("the token header names no algorithm (alg)")
		}
		return unauthenticated("algorithm %q is not accepted (accepted: %s)",
			clip(alg), strings.Join(v.algorithms, ", "))
	}
	kidValue, hasKID := tok.Header["kid"]
	kid, kidIsString := kidValue.(string)
	switch {
	case errors.Is(err, jwkset.ErrKeyNotFound):
		return unauthenticated("unknown key id %q", clip(kid))
	case errors.Is(err, jwt.ErrTokenUnverifiable) && hasKID && !kidIsString:
		return unauthenticated("the token's key id (kid) is not a string")
	case errors.Is(err, jwt.ErrTokenUnverifiable) && hasKID:
		// keyfunc refuses a JWK whose own alg differs from the token's.
		return unauthenticated("key %q cannot verify %s tokens", clip(kid), alg)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return unauthenticated("the token signature is invalid")
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return v.explainClaims(c, err)
	default:
		return unauthenticated("the token cannot be verified")
	}
}

// explainClaims explains a failed claims validation. jwt reports every
// failed check at once; the first in this order is reported.
func (v *Verifier) explainClaims(c *tokenClaims, err error) *portal.Error {
	switch {
	case c.ExpiresAt == nil:
		return unauthenticated("the token has no expiry time (exp claim)")
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthenticated("the token expired at %s", formatTime(c.ExpiresAt.Time))
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return unauthenticated("the token is not valid yet: not before %s", formatTime(c.NotBefore.Time))
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return unauthenticated("the token is issued in the future, at %s", formatTime(c.IssuedAt.Time))
	case v.issuer != "" && c.Issuer == "":
		return unauthenticated("the token has no issuer (iss claim)")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return unauthenticated("token issuer %q is not accepted (want %q)", clip(c.Issuer), v.issuer)
	case len(v.audience) > 0 && len(c.Audience) == 0:
		return unauthenticated("the token has no audience (aud claim)")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return unauthenticated("token audience %q is not accepted (want one of %q)",
			clipAll(c.Audience), v.audience)
	default:
		return unauthenticated("the token claims are invalid")
	}
}

// tokenClaims is what jwt decodes a token's claims into: the registered
// claims it validates, plus the others, from which the e-mail claim is
// picked by its configured name.
type tokenClaims struct {
	jwt.RegisteredClaims
	others map[string]json.RawMessage
}

// UnmarshalJSON decodes the claims twice, once per field.
func (c *tokenClaims) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &c.RegisteredClaims); err != nil {
		return err
	}
	return json.Unmarshal(b, &c.others)
}

// email returns the string claim named claim, unless the token says the
// address is unverified. Some providers send email_verified as a string.
func (c *tokenClaims) email(claim string) string {
	var email string
	if json.Unmarshal(c.others[claim], &email) != nil {
		return ""
	}
	if raw, ok := c.others["email_verified"]; ok {
		var verified any
		_ = json.Unmarshal(raw, &verified)
		if verified != true && verified != "true" {
			return ""
		}
	}
	return email
}

// unauthenticated returns a [portal.EUNAUTHENTICATED] error.
func unauthenticated(format string, args ...any) *portal.Error {
	return portal.Errorf(portal.EUNAUTHENTICATED, format, args...)
}

// maxEcho is how much of a token-supplied value a message repeats.
const maxEcho = 64

// clip shortens a value taken from the token before it goes into a
// message, so that a client cannot make the server echo kilobytes.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	i := maxEcho
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// clipAll clips each value and keeps at most four of them.
func clipAll(ss []string) []string {
	out := make([]string, 0, min(len(ss), 4))
	for _, s := range ss[:min(len(ss), 4)] {
		out = append(out, clip(s))
	}
	return out
}

// formatTime formats a claim time for a message.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
