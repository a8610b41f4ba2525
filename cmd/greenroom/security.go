package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/greenroomhq/greenroom/internal/auth"
	"github.com/greenroomhq/greenroom/internal/identity"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
)

// developmentPolicy is the policy without a policy file: everyone may do
// everything. Only development mode runs without a policy file.
const developmentPolicy = `rules:
  - name: development-allows-everything
    description: No policy file is configured, so every caller may do everything.
    allow: ["*"]
    to: [anyone]
`

// security is who may call the server and what they may do.
type security struct {
	authenticate func(http.Handler) http.Handler
	// authenticateInit is authenticate's decision for a WebSocket's
	// connection_init payload.
	authenticateInit auth.Authenticator
	policies         interface{ Current() *policy.Policy }
	close            func() error
}

// newSecurity builds authentication and the policy from cfg. Without auth
// settings the server runs in development mode, where every request is the
// guest user; cfg.Production refuses that, and a missing policy.
func newSecurity(ctx context.Context, cfg Config, db *store.DB, log *slog.Logger) (*security, error) {
	ac := authConfig(cfg, log)
	if cfg.Production {
		var missing []string
		if !ac.Enabled() {
			missing = append(missing, "authentication (auth.secret, auth.jwksURL or auth.jwksFile)")
		}
		if cfg.Policy == "" {
			missing = append(missing, "a policy file (policy)")
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("production: refusing to start without %s", strings.Join(missing, " and "))
		}
	}
	s := &security{close: func() error { return nil }}
	if cfg.Policy != "" {
		w, err := policy.NewWatcher(cfg.policyPath(), log.With("component", "policy"))
		if err != nil {
			return nil, err
		}
		s.policies, s.close = w, w.Close
		log.Info("permission policy loaded", "file", cfg.policyPath(), "rules", w.Current().Len())
	} else {
		p, err := policy.ParseBuiltin([]byte(developmentPolicy), "development policy")
		if err != nil {
			return nil, err // the constant parses; a test holds it to that
		}
		s.policies = staticPolicy{p}
		log.Warn("no permission policy configured: every caller may do everything (set policy to a file such as examples/policy.yaml)")
	}
	if !ac.Enabled() {
		guest := &portal.Principal{Kind: portal.PrincipalUser, Ref: portal.GuestRef, Ownership: []string{portal.GuestRef}}
		s.authenticate = func(next http.Handler) http.Handler { return auth.DevMiddleware(guest, next) }
		s.authenticateInit = auth.DevAuthenticate(guest)
		log.Warn("DEVELOPMENT MODE: no authentication configured; every request acts as " + portal.GuestRef +
			". Configure auth (see README, Authentication) before exposing this server; --production refuses to start without it.")
		return s, nil
	}
	v, err := auth.NewVerifier(ctx, ac, nil)
	if err != nil {
		return nil, errors.Join(err, s.close())
	}
	ids := identity.NewResolver(db, identity.Options{AllowUnknownUsers: cfg.Auth.AllowUnknownUsers})
	byEmail := cfg.Auth.Subject == "email"
	resolve := func(ctx context.Context, c *auth.Claims) (*portal.Principal, error) {
		if byEmail && !strings.HasPrefix(strings.ToLower(c.Subject), "service:") {
			return ids.Principal(ctx, "", c.Email)
		}
		return ids.Principal(ctx, c.Subject, c.Email)
	}
	s.authenticate = func(next http.Handler) http.Handler { return auth.Middleware(v, resolve, next) }
	s.authenticateInit = auth.Authenticate(v, resolve)
	log.Info("authentication on", "keys", keySource(ac), "issuer", ac.Issuer, "audience", ac.Audience)
	return s, nil
}

func authConfig(cfg Config, log *slog.Logger) auth.Config {
	c := cfg.Auth.Config()
	c.Logger = log.With("component", "auth")
	return c
}

func keySource(c auth.Config) string {
	switch {
	case c.JWKSURL != "":
		return "jwks " + c.JWKSURL
	case c.JWKSFile != "":
		return "jwks file " + c.JWKSFile
	}
	return "shared secret (HS256)"
}

// staticPolicy is a policy that never changes.
type staticPolicy struct{ p *policy.Policy }

func (s staticPolicy) Current() *policy.Policy { return s.p }

// limits converts the api settings.
