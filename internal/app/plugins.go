package app

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// PluginStore keeps the plugin registry: internal/store.
type PluginStore interface {
	Plugins(ctx context.Context) ([]portal.Plugin, error)
	// AddPlugin returns ECONFLICT when the name is taken.
	AddPlugin(ctx context.Context, p portal.Plugin) error
	// RemovePlugin returns ENOTFOUND when there is no such plugin.
	RemovePlugin(ctx context.Context, name string) (portal.Plugin, error)
}

// Plugins is the plugin registry's service: the plugin subgraphs an
// operator adds at run time, which the gateway reads (plugins.plugin.read)
// and composes with those of its configuration. Adding one needs
// plugins.plugin.create, removing one plugins.plugin.delete; both are
// audited. Whether a plugin composes is the gateway's to say: it refuses
// one that breaks the supergraph, and `greenroom plugins check` asks it
// before adding.
type Plugins struct {
	guard interface {
		Require(ctx context.Context, perm string, r *policy.Resource) error
	}
	store PluginStore
	audit auditor
	now   func() time.Time
}

// pluginName is what a plugin may be called: a subgraph name that reads
// well in errors and logs, and is safe in a URL path.
var pluginName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

// maxPluginURL bounds a plugin's URL, as a URL of a location is bounded.
const maxPluginURL = 2048

// List returns the registry, by name. It needs plugins.plugin.read.
func (s *Plugins) List(ctx context.Context) ([]portal.Plugin, error) {
	if err := s.guard.Require(ctx, policy.PluginRead, nil); err != nil {
		return nil, err
	}
	return s.store.Plugins(ctx)
}

// Add adds a plugin and returns it. It needs plugins.plugin.create.
// Returns EINVALID for a bad name or URL, ECONFLICT for a name taken.
func (s *Plugins) Add(ctx context.Context, name, rawURL string) (p portal.Plugin, err error) {
	defer s.audit.record(ctx, "addPlugin", name, map[string]any{"name": name, "url": rawURL}, &err)
	if err := s.guard.Require(ctx, policy.PluginCreate, nil); err != nil {
		return portal.Plugin{}, err
	}
	if err := ValidatePlugin(name, rawURL); err != nil {
		return portal.Plugin{}, err
	}
	p = portal.Plugin{Name: name, URL: rawURL, AddedBy: portal.PrincipalFromContext(ctx).Ref, AddedAt: s.now().UTC().Truncate(time.Millisecond)}
	if err := s.store.AddPlugin(ctx, p); err != nil {
		return portal.Plugin{}, err
	}
	return p, nil
}

// Remove removes a plugin and returns what it was. It needs
// plugins.plugin.delete. Returns ENOTFOUND when there is none.
func (s *Plugins) Remove(ctx context.Context, name string) (p portal.Plugin, err error) {
	defer s.audit.record(ctx, "removePlugin", name, map[string]any{"name": name}, &err)
	if err := s.guard.Require(ctx, policy.PluginDelete, nil); err != nil {
		return portal.Plugin{}, err
	}
	return s.store.RemovePlugin(ctx, name)
}

// ValidatePlugin reports, with EINVALID, what is wrong with a plugin's name
// or URL, as Add does.
func ValidatePlugin(name, rawURL string) error {
	if !pluginName.MatchString(name) {
		return portal.Errorf(portal.EINVALID,
			"a plugin's name is 1 to 40 lower-case letters, digits and dashes, beginning with a letter, not %q", clipped(name))
	}
	return checkPluginURL(rawURL)
}

// checkPluginURL accepts an absolute http or https URL without
// credentials, which every reader of the registry would see.
func checkPluginURL(raw string) error {
	if len(raw) > maxPluginURL {
		return portal.Errorf(portal.EINVALID, "a plugin's URL is at most %d bytes", maxPluginURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return portal.Errorf(portal.EINVALID, "a plugin's URL is its GraphQL endpoint, http:// or https://, such as http://127.0.0.1:7008/graphql; not %q", clipped(raw))
	}
	if u.User != nil {
		return portal.Errorf(portal.EINVALID, "a plugin's URL must not hold credentials: everyone who may list the plugins reads it")
	}
	if u.Fragment != "" {
		return portal.Errorf(portal.EINVALID, "a plugin's URL has no #fragment")
	}
	return nil
}

// clipped shortens what a caller sent to quote it in an error.
func clipped(s string) string {
	if len(s) > 80 {
		return strings.ToValidUTF8(s[:80], "") + "…"
	}
	return s
}
