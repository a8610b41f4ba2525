package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// statusByCode maps the code of an authentication failure to its HTTP
// status; codes not listed are served as 500.
var statusByCode = map[string]int{
	portal.EUNAUTHENTICATED: http.StatusUnauthorized,
	portal.EFORBIDDEN:       http.StatusForbidden,
	portal.EINVALID:         http.StatusBadRequest,
	portal.ENOTFOUND:        http.StatusNotFound,
	portal.ECONFLICT:        http.StatusConflict,
}

// The WWW-Authenticate challenges of RFC 6750 §3. A request that did not
// try bearer authentication gets no error code.
const (
	challengeBearer       = `Bearer`
	challengeInvalidToken = `Bearer error="invalid_token"`
)

// ResolveFunc maps the claims of a verified token to the principal the
// request runs as. It returns a [portal.Error] to refuse the caller: its
// code picks the HTTP status.
type ResolveFunc func(ctx context.Context, c *Claims) (*portal.Principal, error)

// Middleware authenticates each request before next runs. A request
// without an Authorization header continues as [portal.Anonymous], so
// public reads work and the domain refuses the rest. A request with
// "Authorization: Bearer <jwt>" continues as the principal that resolve
// returns for the token's claims; resolve is where the subject is looked
// up in the catalog, and must return a principal or an error.
//
// Any other Authorization header, a token [Verifier.Verify] refuses, or a
// resolve error stops the request with a GraphQL-shaped JSON error body:
// 401 with a WWW-Authenticate challenge for UNAUTHENTICATED, the status of
// the error's code otherwise, and 500 with the message "internal error"
// for errors without a code, which are logged to [Config.Logger].
func Middleware(v *Verifier, resolve ResolveFunc, next http.Handler) http.Handler {
	authenticate := Authenticate(v, resolve)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Values("Authorization")
		ctx, err := authenticate(r.Context(), header)
		if err != nil {
			challenge := challengeInvalidToken
			if scheme, _, _ := strings.Cut(header[0], " "); len(header) == 1 && !strings.EqualFold(scheme, "Bearer") {
				challenge = challengeBearer
			}
			v.writeError(w, r, err, challenge)
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// An Authenticator returns the context a caller runs in, given the values
// of its Authorization header (none, or one "Bearer <jwt>"): with its
// principal and, for a token, the token's expiry (see
// [portal.ExpiryFromContext]). It is
// [Middleware]'s decision for transports that carry the header elsewhere,
// such as a WebSocket's connection_init payload.
type Authenticator func(ctx context.Context, header []string) (context.Context, error)

// Authenticate returns the Authenticator of [Middleware].
func Authenticate(v *Verifier, resolve ResolveFunc) Authenticator {
	return func(ctx context.Context, header []string) (context.Context, error) {
		if len(header) == 0 {
			return portal.NewContextWithPrincipal(ctx, portal.Anonymous), nil
		}
		if len(header) > 1 {
			return nil, unauthenticated("send one Authorization header, not %d", len(header))
		}
		scheme, raw, _ := strings.Cut(header[0], " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return nil, unauthenticated("the Authorization header must use the Bearer scheme")
		}
		claims, err := v.Verify(ctx, strings.TrimSpace(raw))
		if err != nil {
			return nil, err
		}
		p, err := resolve(ctx, claims)
		if err == nil && p == nil {
			err = fmt.Errorf("auth: resolve %q returned no principal", claims.Subject)
		}
		if err != nil {
			return nil, err
		}
		return portal.NewContextWithPrincipal(portal.NewContextWithExpiry(ctx, claims.ExpiresAt), p), nil
	}
}

// DevMiddleware runs every request as p, ignoring any Authorization
// header. It is for development mode, when [Config.Enabled] is false, where
// p is the guest user ([portal.GuestRef]); never serve it on a network.
func DevMiddleware(p *portal.Principal, next http.Handler) http.Handler {
	authenticate := DevAuthenticate(p)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, _ := authenticate(r.Context(), nil)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// DevAuthenticate is the Authenticator of [DevMiddleware].
func DevAuthenticate(p *portal.Principal) Authenticator {
	return func(ctx context.Context, _ []string) (context.Context, error) {
		return portal.NewContextWithPrincipal(ctx, p), nil
	}
}

// errorResponse is the body of a refused request, shaped like a GraphQL
// response so that clients handle it like any other API error.
type errorResponse struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Message    string          `json:"message"`
	Extensions errorExtensions `json:"extensions"`
}

type errorExtensions struct {
	Code string `json:"code"`
}

// writeError refuses the request with err. challenge is the
// WWW-Authenticate value sent with a 401.
func (v *Verifier) writeError(w http.ResponseWriter, r *http.Request, err error, challenge string) {
	code, msg := portal.ErrorCode(err), portal.ErrorMessage(err)
	status, ok := statusByCode[code]
	if !ok {
		// Internal errors are logged here, once, and never shown: they may
		// name databases, hosts or queries.
		v.logger.ErrorContext(r.Context(), "auth: authenticate request",
			"method", r.Method, "path", r.URL.Path, "err", err)
		code, msg, status = portal.EINTERNAL, "internal error", http.StatusInternalServerError
	}
	h := w.Header()
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", challenge)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	body := errorResponse{Errors: []errorEntry{
		{Message: msg, Extensions: errorExtensions{Code: code}},
	}}
	// The status is already sent; a failed write means the client left.
	_ = json.NewEncoder(w).Encode(body)
}
