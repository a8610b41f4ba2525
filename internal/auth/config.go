package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"time"
)

// Defaults that [NewVerifier] gives to the zero fields of a [Config].
const (
	DefaultClockSkew   = 30 * time.Second
	DefaultEmailClaim  = "email"
	DefaultJWKSRefresh = 10 * time.Minute
)

// MinSecretLength is the length, in bytes, of the shortest HS256 secret
// accepted. RFC 7518 §3.2 requires an HMAC key at least as long as the hash
// output, and a shorter one can be guessed offline from a single token.
const MinSecretLength = 32

// The algorithms a [Config] may name. A shared secret only verifies HMAC
// tokens and a JWKS only public-key ones: accepting both from one key source
// is what lets an attacker sign an HS256 token with a published RSA key.
var (
	hmacAlgorithms      = []string{"HS256", "HS384", "HS512"}
	publicKeyAlgorithms = []string{
		"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
		"ES256", "ES384", "ES512", "EdDSA",
	}
)

// Config says where the keys that sign bearer tokens come from and which
// tokens are accepted. Exactly one of Secret, JWKSURL and JWKSFile is set.
type Config struct {
	// Secret is the HS256 shared secret, for development and tests. It must be
	// at least [MinSecretLength] bytes.
	Secret string
	// JWKSURL is where the identity provider publishes its public keys. It
	// must be https, except on a loopback host. The keys are fetched by
	// [NewVerifier], every JWKSRefresh, and when a token names a key id the
	// verifier does not know (at most once a minute).
	JWKSURL string
	// JWKSFile is a JWKS document on disk, for deployments that distribute
	// keys as files (a mounted secret). It is re-read like JWKSURL, so keys
	// rotate by replacing the file.
	JWKSFile string

	// Issuer is the accepted iss claim. Required with a JWKS: identity
	// providers sign tokens for many tenants and applications with the same
	// keys, and only iss and aud tell Greenroom's tokens apart. Optional with
	// Secret, which nobody else holds.
	Issuer string
	// Audience lists the accepted aud values; a token must carry one of them.
	// Required with a JWKS, for the same reason as Issuer.
	Audience []string
	// Algorithms lists the accepted alg header values. Defaults to HS256
	// with Secret and to RS256 and ES256 with a JWKS.
	Algorithms []string
	// ClockSkew is how far the exp, nbf and iat claims may be off the local
	// clock. Defaults to [DefaultClockSkew].
	ClockSkew time.Duration
	// EmailClaim names the claim that holds the user's e-mail address.
	// Defaults to [DefaultEmailClaim].
	EmailClaim string
	// JWKSRefresh is how often the JWKS is re-read, so that keys the
	// provider removed stop verifying. Defaults to [DefaultJWKSRefresh];
	// at least one second.
	JWKSRefresh time.Duration

	// Logger receives failures that no request sees: background JWKS
	// refreshes, skipped JWKS keys, and internal errors behind the 500s the
	// [Middleware] writes. Nil discards them.
	Logger *slog.Logger
}

// Enabled reports whether c names a key source, that is whether requests
// are authenticated by token at all. When it is false the server runs in
// development mode with [DevMiddleware].
func (c Config) Enabled() bool {
	return c.Secret != "" || c.JWKSURL != "" || c.JWKSFile != ""
}

// LogValue implements [slog.LogValuer] so that logging a Config never
// prints the secret.
func (c Config) LogValue() slog.Value {
	secret := ""
	if c.Secret != "" {
		secret = "REDACTED"
	}
	return slog.GroupValue(
		slog.String("secret", secret),
		slog.String("jwks_url", redactURL(c.JWKSURL)),
		slog.String("jwks_file", c.JWKSFile),
		slog.String("issuer", c.Issuer),
		slog.Any("audience", c.Audience),
		slog.Any("algorithms", c.Algorithms),
	)
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if len(c.Algorithms) == 0 {
		if c.Secret != "" {
			c.Algorithms = []string{"HS256"}
		} else {
			c.Algorithms = []string{"RS256", "ES256"}
		}
	}
	c.Algorithms = slices.Clone(c.Algorithms)
	c.Audience = slices.Clone(c.Audience)
	if c.ClockSkew == 0 {
		c.ClockSkew = DefaultClockSkew
	}
	if c.EmailClaim == "" {
		c.EmailClaim = DefaultEmailClaim
	}
	if c.JWKSRefresh == 0 {
		c.JWKSRefresh = DefaultJWKSRefresh
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// validate reports the first problem in c, which has its defaults applied.
func (c Config) validate() error {
	sources := 0
	for _, s := range []string{c.Secret, c.JWKSURL, c.JWKSFile} {
		if s != "" {
			sources++
		}
	}
	switch {
	case sources == 0:
		return errors.New("auth: no key source: set one of Secret, JWKSURL and JWKSFile")
	case sources > 1:
		return errors.New("auth: set only one of Secret, JWKSURL and JWKSFile")
	}
	if c.Secret != "" {
		if err := checkSecret(c.Secret); err != nil {
			return err
		}
	}
	for _, alg := range c.Algorithms {
		switch {
		case slices.Contains(hmacAlgorithms, alg):
			if c.Secret == "" {
				return fmt.Errorf("auth: algorithm %s needs Secret: a JWKS holds public keys", alg)
			}
		case slices.Contains(publicKeyAlgorithms, alg):
			if c.Secret != "" {
				return fmt.Errorf("auth: algorithm %s needs a JWKS (JWKSURL or JWKSFile), not Secret", alg)
			}
		default:
			return fmt.Errorf("auth: algorithm %q is not supported", alg)
		}
	}
	if c.Secret == "" {
		if c.Issuer == "" {
			return errors.New("auth: Issuer is required with a JWKS: " +
				"the provider's keys also sign other issuers' tokens")
		}
		if len(c.Audience) == 0 {
			return errors.New("auth: Audience is required with a JWKS: " +
				"the provider's keys also sign tokens for other applications")
		}
	}
	if slices.Contains(c.Audience, "") {
		return errors.New("auth: Audience contains an empty value")
	}
	if c.JWKSURL != "" {
		if err := checkJWKSURL(c.JWKSURL); err != nil {
			return err
		}
	}
	if c.ClockSkew < 0 {
		return fmt.Errorf("auth: ClockSkew %s is negative", c.ClockSkew)
	}
	if c.JWKSRefresh < time.Second {
		return fmt.Errorf("auth: JWKSRefresh %s is shorter than one second", c.JWKSRefresh)
	}
	return nil
}

// checkSecret refuses an HMAC secret too short to be safe.
func checkSecret(secret string) error {
	if len(secret) < MinSecretLength {
		return fmt.Errorf("auth: the secret is %d bytes; HS256 needs at least %d "+
			"(generate one with `openssl rand -base64 32`)", len(secret), MinSecretLength)
	}
	return nil
}

// redactURL returns raw with any password replaced, or "" when raw does
// not parse.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Redacted()
}

// checkJWKSURL accepts https URLs, and http ones on a loopback host: keys
// fetched over plain http across a network can be replaced by anyone on
// the path.
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("auth: JWKSURL is not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("auth: JWKSURL %s must use https (http is accepted only on localhost)",
			u.Redacted())
	default:
		return fmt.Errorf("auth: JWKSURL %s must use https", u.Redacted())
	}
}
