package auth

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultTokenTTL is the lifetime of a minted token whose [MintOptions]
// give none: Backstage's default user-token lifetime.
const DefaultTokenTTL = time.Hour

// MintOptions describe a development token.
type MintOptions struct {
	// Subject is the sub claim, a ref such as "user:default/jane" or
	// "service:deploy-bot". Required.
	Subject string
	// Email is the email claim; omitted when empty.
	Email string
	// Issuer is the iss claim; it must match [Config.Issuer] when that is set.
	Issuer string
	// Audience is the aud claim; it must contain one of [Config.Audience]
	// when that is set.
	Audience []string
	// TTL is how long the token is valid. Defaults to [DefaultTokenTTL].
	TTL time.Duration
	// Now is the issue time. Defaults to the current time.
	Now time.Time
}

// devClaims is the claim set of a minted token.
type devClaims struct {
	jwt.RegisteredClaims
	Email string `json:"email,omitempty"`
}

// MintDevToken returns an HS256 token signed with secret, for
// `greenroom token` and tests: a [Verifier] configured with the same secret
// accepts it. The e-mail goes in the "email" claim, the default
// [Config.EmailClaim].
func MintDevToken(secret string, o MintOptions) (string, error) {
	if err := checkSecret(secret); err != nil {
		return "", err
	}
	if o.Subject == "" {
		return "", errors.New("auth: a token needs a subject")
	}
	if o.TTL < 0 {
		return "", errors.New("auth: the token TTL is negative")
	}
	if o.TTL == 0 {
		o.TTL = DefaultTokenTTL
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	claims := devClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   o.Subject,
			Issuer:    o.Issuer,
			Audience:  o.Audience,
			IssuedAt:  jwt.NewNumericDate(o.Now),
			ExpiresAt: jwt.NewNumericDate(o.Now.Add(o.TTL)),
		},
		Email: o.Email,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
}
