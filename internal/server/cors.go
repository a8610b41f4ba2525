package server

import (
	"net/http"

	"github.com/rs/cors"
)

// CORS says which origins other than the API's own a browser may let call
// the API and read its answers. The zero value allows none: only pages
// served by the API itself, such as GraphiQL at /, can use it from a
// browser.
type CORS struct {
	// AllowedOrigins lists the origins allowed, such as
	// https://portal.example.com. One * may stand for any part of an
	// origin (https://*.example.com); "*" alone allows every origin.
	AllowedOrigins []string
	// AllowCredentials lets browsers send cookies and HTTP authentication
	// with cross-origin requests. Browsers refuse it from an origin allowed
	// only by "*".
	AllowCredentials bool
}

// corsPreflightMaxAge is how long, in seconds, a browser may keep the
// answer to a preflight request.
const corsPreflightMaxAge = 600

// corsHandler answers preflight requests and marks the responses of
// allowed origins as such. Requests from other origins are served as
// usual, without CORS headers, so that browsers hide the responses from
// the pages that made them.
func corsHandler(c CORS, next http.Handler) http.Handler {
	opts := cors.Options{
		AllowedOrigins:   c.AllowedOrigins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:   []string{"Content-Type", "Authorization"},
		AllowCredentials: c.AllowCredentials,
		MaxAge:           corsPreflightMaxAge,
	}
	if len(c.AllowedOrigins) == 0 {
		// rs/cors reads an empty list as every origin.
		opts.AllowOriginFunc = func(string) bool { return false }
	}
	return cors.New(opts).Handler(next)
}
