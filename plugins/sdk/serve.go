package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/greenroomhq/greenroom/internal/auth"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/telemetry"
)

// Options are what [Handler] serves.
type Options struct {
	Config Config
	// Schema is the plugin's executable schema, gqlgen's
	// NewExecutableSchema over its resolvers.
	Schema graphql.ExecutableSchema
	// Routes are the plugin's other endpoints by ServeMux pattern, such as
	// "GET /api/tech-radar/data": behind authentication and the limits.
	Routes map[string]http.Handler
	// Ready reports whether the plugin can serve (its database answers);
	// nil means always.
	Ready  func(ctx context.Context) error
	Logger *slog.Logger // nil logs nothing
}

// Handler returns the plugin's HTTP handler and a function that releases
// what it holds (the JWKS refresher). The caller's token is verified as the
// core verifies it; the raw token stays in the request's context for
// [Core] to forward.
func Handler(ctx context.Context, o Options) (http.Handler, func(), error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	obs := telemetry.New(telemetry.Options{})
	opts := server.Options{Schema: o.Schema, Logger: log, Limits: o.Config.Limits, Ready: o.Ready, Routes: o.Routes,
		Observer: obs, Metrics: obs.Handler()}
	if !o.Config.Auth.Enabled() {
		guest := &portal.Principal{Kind: portal.PrincipalUser, Ref: portal.GuestRef, Ownership: []string{portal.GuestRef}}
		opts.Authenticate = func(next http.Handler) http.Handler { return keepToken(auth.DevMiddleware(guest, next)) }
		opts.AuthenticateInit = withInitToken(auth.DevAuthenticate(guest))
		log.Warn("DEVELOPMENT MODE: no authentication configured; every request acts as " + portal.GuestRef)
		return server.New(opts), func() {}, nil
	}
	ac := o.Config.Auth
	ac.Logger = log.With("component", "auth")
	vctx, cancel := context.WithCancel(ctx)
	v, err := auth.NewVerifier(vctx, ac, nil)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	opts.Authenticate = func(next http.Handler) http.Handler { return keepToken(auth.Middleware(v, principalOf, next)) }
	opts.AuthenticateInit = withInitToken(auth.Authenticate(v, principalOf))
	return server.New(opts), cancel, nil
}

// principalOf is the caller a plugin sees: the token's subject, a service
// when it says so. Its groups are the core's to know ([Core.Allowed]).
func principalOf(_ context.Context, c *auth.Claims) (*portal.Principal, error) {
	ref := strings.ToLower(c.Subject)
	if ref == "" {
		return nil, portal.Errorf(portal.EUNAUTHENTICATED, "the token names no subject")
	}
	kind := portal.PrincipalUser
	if strings.HasPrefix(ref, "service:") {
		kind = portal.PrincipalService
	}
	return &portal.Principal{Kind: kind, Ref: ref, Ownership: []string{ref}}, nil
}

// Principal is who makes a request: Kind (user, service or anonymous) and
// Ref (user:default/jane, service:deploy-bot, or the guest in development
// mode; "" when anonymous).
type Principal = portal.Principal

// Caller returns who makes the request, as its token says: the subject
// claim. Where the core maps tokens to users by e-mail (auth.subject:
// email), or to know the caller's groups, ask the core ([Core.Viewer]).
func Caller(ctx context.Context) *Principal { return portal.PrincipalFromContext(ctx) }

type tokenKey struct{}

// keepToken puts the request's Authorization header in its context, once
// next has accepted it, for [Core] to forward.
func keepToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get("Authorization"); h != "" {
			r = r.WithContext(context.WithValue(r.Context(), tokenKey{}, h))
		}
		next.ServeHTTP(w, r)
	})
}

// withInitToken keeps a WebSocket's connection_init Authorization as
// keepToken keeps a request's.
func withInitToken(a auth.Authenticator) func(ctx context.Context, header []string) (context.Context, error) {
	return func(ctx context.Context, header []string) (context.Context, error) {
		ctx, err := a(ctx, header)
		if err == nil && len(header) == 1 {
			ctx = context.WithValue(ctx, tokenKey{}, header[0])
		}
		return ctx, err
	}
}

// authorization returns the Authorization header the caller sent, or "".
func authorization(ctx context.Context) string {
	s, _ := ctx.Value(tokenKey{}).(string)
	return s
}

// Serve listens on c.Listen and serves h until ctx is done, then shuts down
// gracefully (10 s for requests to end).
func Serve(ctx context.Context, c Config, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Listen, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if log != nil {
		log.Info("plugin serving", "plugin", c.Name, "url", "http://"+ln.Addr().String()+"/graphql")
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-done
	return nil
}
