package sdk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/greenroomhq/greenroom/internal/auth"
	"github.com/greenroomhq/greenroom/internal/server"
)

// Config is a plugin's settings. [Load] fills it as the core reads its
// own: defaults, then greenroom.yaml's sections a plugin shares with the
// core (auth, api, production), then GREENROOM_* variables.
type Config struct {
	// Name is the plugin's subgraph name, for logs and metrics.
	Name string
	// Listen is the address the plugin serves on.
	Listen string
	// CoreURL is the core's GraphQL endpoint, which [Core] calls:
	// GREENROOM_CORE_URL, http://127.0.0.1:7007/graphql by default.
	CoreURL string
	// Auth verifies bearer tokens; without a key source the plugin runs in
	// development mode, every caller the guest user, as the core does.
	Auth auth.Config
	// Limits bound each request as the core's api settings do.
	Limits Limits
	// Production refuses to start without authentication.
	Production bool
}

// Limits are the core's bounds on a request (internal/server): depth,
// complexity, tokens, aliases, batch, body and response sizes, timeouts,
// concurrent requests; a zero field takes the core's default.
type Limits = server.Limits

// fileConfig is the part of greenroom.yaml a plugin reads: the same keys
// as the core's (cmd/greenroom/config.go). Other sections are the core's
// and are skipped.
type fileConfig struct {
	Auth struct {
		Secret     string   `yaml:"secret"`
		JWKSURL    string   `yaml:"jwksURL"`
		JWKSFile   string   `yaml:"jwksFile"`
		Issuer     string   `yaml:"issuer"`
		Audience   []string `yaml:"audience"`
		Algorithms []string `yaml:"algorithms"`
		ClockSkew  duration `yaml:"clockSkew"`
		EmailClaim string   `yaml:"emailClaim"`
	} `yaml:"auth"`
	API struct {
		MaxTokens             int      `yaml:"maxTokens"`
		MaxDepth              int      `yaml:"maxDepth"`
		MaxComplexity         int      `yaml:"maxComplexity"`
		MaxAliases            int      `yaml:"maxAliases"`
		MaxBatch              int      `yaml:"maxBatch"`
		MaxBodyBytes          int64    `yaml:"maxBodyBytes"`
		MaxResponseBytes      int64    `yaml:"maxResponseBytes"`
		Timeout               duration `yaml:"timeout"`
		ReadTimeout           duration `yaml:"readTimeout"`
		WriteTimeout          duration `yaml:"writeTimeout"`
		MaxConcurrentRequests int      `yaml:"maxConcurrentRequests"`
		QueueTimeout          duration `yaml:"queueTimeout"`
		DisableIntrospection  bool     `yaml:"disableIntrospection"`
	} `yaml:"api"`
	Production bool `yaml:"production"`
}

// duration is a time.Duration written as "90s" in YAML.
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 90s or 5m", n.Line, n.Value)
	}
	*d = duration(v)
	return nil
}

// Load returns the settings of the plugin called name: listen as the
// default address, then the file at path (greenroom.yaml; "" for none),
// then the environment through getenv.
func Load(name, listen, path string, getenv func(string) string) (Config, error) {
	c := Config{Name: name, Listen: listen, CoreURL: "http://127.0.0.1:7007/graphql"}
	var f fileConfig
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&f); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	a := f.Auth
	c.Auth = auth.Config{Secret: a.Secret, JWKSURL: a.JWKSURL, JWKSFile: a.JWKSFile, Issuer: a.Issuer, Audience: a.Audience,
		Algorithms: a.Algorithms, ClockSkew: time.Duration(a.ClockSkew), EmailClaim: a.EmailClaim}
	p := f.API
	c.Limits = server.Limits{MaxTokens: p.MaxTokens, MaxDepth: p.MaxDepth, MaxComplexity: p.MaxComplexity, MaxAliases: p.MaxAliases,
		MaxBatch: p.MaxBatch, MaxBodyBytes: p.MaxBodyBytes, MaxResponseBytes: p.MaxResponseBytes, Timeout: time.Duration(p.Timeout),
		ReadTimeout: time.Duration(p.ReadTimeout), WriteTimeout: time.Duration(p.WriteTimeout),
		MaxConcurrentRequests: p.MaxConcurrentRequests, QueueTimeout: time.Duration(p.QueueTimeout), DisableIntrospection: p.DisableIntrospection}
	c.Production = f.Production
	// The core's variables, with the same names (README, Configuration).
	for name, dst := range map[string]*string{
		"GREENROOM_AUTH_SECRET": &c.Auth.Secret, "GREENROOM_AUTH_JWKS_URL": &c.Auth.JWKSURL,
		"GREENROOM_AUTH_JWKS_FILE": &c.Auth.JWKSFile, "GREENROOM_AUTH_ISSUER": &c.Auth.Issuer, "GREENROOM_CORE_URL": &c.CoreURL,
	} {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	if v := getenv("GREENROOM_AUTH_AUDIENCE"); v != "" {
		c.Auth.Audience = nil // as the core reads it: comma-separated, spaces and empty items dropped
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				c.Auth.Audience = append(c.Auth.Audience, a)
			}
		}
	}
	if v := getenv("GREENROOM_PRODUCTION"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("GREENROOM_PRODUCTION: %q is not true or false", v)
		}
		c.Production = b
	}
	if c.Production && !c.Auth.Enabled() {
		return c, errors.New("production: refusing to start without authentication (auth.secret, auth.jwksURL or auth.jwksFile)")
	}
	return c, nil
}
