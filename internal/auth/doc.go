// Package auth authenticates requests at Greenroom's HTTP edge. It verifies
// bearer JWTs — HS256 with a shared secret in development, RSA, ECDSA or
// EdDSA keys from a JWKS in production — mints development tokens, and
// provides the middleware that puts a [portal.Principal] in the request
// context.
//
// It authenticates and never authorizes: what a principal may do is decided
// by the domain and store code that reads it from the context, so every
// transport gets the same checks.
//
// It imports internal/portal, golang-jwt/jwt/v5 and the MicahParks JWKS
// packages (keyfunc/v3, jwkset); it is the only package that imports jwt.
package auth
