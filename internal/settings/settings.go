// Package settings owns the sections of greenroom.yaml that the core and
// every Go plugin read alike — auth (how tokens are verified) and api (the
// bounds on each request) — with their GREENROOM_* variables, so that a
// plugin configured from the core's file verifies the same tokens and
// enforces the same limits, and a key added here reaches both.
//
// The core embeds these structs inline in its own config and adds the keys
// only it understands (auth.subject, api.idleTimeout, …); plugins decode
// them from the same file and skip the core's other sections.
package settings

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/greenroomhq/greenroom/internal/auth"
	"github.com/greenroomhq/greenroom/internal/server"
)

// Duration is a time.Duration written as "90s" or "5m" in YAML.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 90s or 5m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Auth is how bearer tokens are verified. With none of Secret, JWKSURL and
// JWKSFile set, the server runs in development mode: every request is the
// guest user.
type Auth struct {
	// Secret is an HS256 shared secret (development: `greenroom token`
	// mints tokens with it).
	Secret string `yaml:"secret"`
	// JWKSURL and JWKSFile name the identity provider's public keys.
	JWKSURL  string `yaml:"jwksURL"`
	JWKSFile string `yaml:"jwksFile"`
	// Issuer and Audience are the accepted iss and aud claims.
	Issuer   string   `yaml:"issuer"`
	Audience []string `yaml:"audience"`
	// Algorithms are the accepted signing algorithms.
	Algorithms []string `yaml:"algorithms"`
	ClockSkew  Duration `yaml:"clockSkew"`
	// EmailClaim names the claim holding the caller's email.
	EmailClaim string `yaml:"emailClaim"`
}

// Config returns the verifier's settings.
func (a Auth) Config() auth.Config {
	return auth.Config{Secret: a.Secret, JWKSURL: a.JWKSURL, JWKSFile: a.JWKSFile, Issuer: a.Issuer, Audience: a.Audience,
		Algorithms: a.Algorithms, ClockSkew: time.Duration(a.ClockSkew), EmailClaim: a.EmailClaim}
}

// LoadEnv applies the GREENROOM_AUTH_* variables over a.
func (a *Auth) LoadEnv(getenv func(string) string) {
	for name, dst := range map[string]*string{
		"GREENROOM_AUTH_SECRET": &a.Secret, "GREENROOM_AUTH_JWKS_URL": &a.JWKSURL,
		"GREENROOM_AUTH_JWKS_FILE": &a.JWKSFile, "GREENROOM_AUTH_ISSUER": &a.Issuer,
	} {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	if v := getenv("GREENROOM_AUTH_AUDIENCE"); v != "" {
		a.Audience = SplitList(v)
	}
}

// API bounds what one request may ask; zero values take server.Limits'
// defaults.
type API struct {
	MaxTokens        int      `yaml:"maxTokens"`
	MaxDepth         int      `yaml:"maxDepth"`
	MaxComplexity    int      `yaml:"maxComplexity"`
	MaxAliases       int      `yaml:"maxAliases"`
	MaxBatch         int      `yaml:"maxBatch"`
	MaxBodyBytes     int64    `yaml:"maxBodyBytes"`
	MaxResponseBytes int64    `yaml:"maxResponseBytes"`
	Timeout          Duration `yaml:"timeout"`
	// ReadTimeout and WriteTimeout bound reading a GraphQL request's body
	// and writing a response, set on each request (see server.Limits).
	ReadTimeout           Duration `yaml:"readTimeout"`
	WriteTimeout          Duration `yaml:"writeTimeout"`
	MaxConcurrentRequests int      `yaml:"maxConcurrentRequests"`
	QueueTimeout          Duration `yaml:"queueTimeout"`
	DisableIntrospection  bool     `yaml:"disableIntrospection"`
	// CORSOrigins are the other origins browsers may call the API from;
	// none by default.
	CORSOrigins []string `yaml:"corsOrigins"`
}

// Limits returns the server's bounds.
func (a API) Limits() server.Limits {
	return server.Limits{
		MaxTokens: a.MaxTokens, MaxDepth: a.MaxDepth, MaxComplexity: a.MaxComplexity, MaxAliases: a.MaxAliases, MaxBatch: a.MaxBatch,
		MaxBodyBytes: a.MaxBodyBytes, MaxResponseBytes: a.MaxResponseBytes, Timeout: time.Duration(a.Timeout),
		ReadTimeout: time.Duration(a.ReadTimeout), WriteTimeout: time.Duration(a.WriteTimeout),
		MaxConcurrentRequests: a.MaxConcurrentRequests, QueueTimeout: time.Duration(a.QueueTimeout),
		DisableIntrospection: a.DisableIntrospection,
		CORS:                 server.CORS{AllowedOrigins: a.CORSOrigins},
	}
}

// Bool sets *dst from the variable name when it is set, refusing what is
// not true or false.
func Bool(getenv func(string) string, name string, dst *bool) error {
	v := getenv(name)
	if v == "" {
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%s: %q is not true or false", name, v)
	}
	*dst = b
	return nil
}

// SplitList splits a comma-separated variable, dropping spaces and empty
// items.
func SplitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}
