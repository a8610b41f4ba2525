package sdk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/greenroomhq/greenroom/internal/auth"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/settings"
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

// fileConfig is the part of greenroom.yaml a plugin reads: the sections
// it shares with the core (internal/settings). The core's other sections
// and its own keys in these are skipped.
type fileConfig struct {
	Auth       settings.Auth `yaml:"auth"`
	API        settings.API  `yaml:"api"`
	Production bool          `yaml:"production"`
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
	// The core's variables, with the same names (README, Configuration).
	f.Auth.LoadEnv(getenv)
	if v := getenv("GREENROOM_CORE_URL"); v != "" {
		c.CoreURL = v
	}
	if err := settings.Bool(getenv, "GREENROOM_PRODUCTION", &f.Production); err != nil {
		return c, err
	}
	c.Auth, c.Limits, c.Production = f.Auth.Config(), f.API.Limits(), f.Production
	if c.Production && !c.Auth.Enabled() {
		return c, errors.New("production: refusing to start without authentication (auth.secret, auth.jwksURL or auth.jwksFile)")
	}
	return c, nil
}
