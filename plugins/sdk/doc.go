// Package sdk is what a Go plugin of Greenroom is built on: a plugin is its
// own process serving an Apollo Federation v2 subgraph made with stock
// gqlgen, which the gateway (gateway/) composes with the core's. The package
// gives that process what the core has, so that a plugin behaves like the
// rest of the API:
//
//   - settings read like the core's ([Load]): greenroom.yaml's auth and
//     api sections and the GREENROOM_AUTH_* variables, so a plugin verifies
//     the caller's token exactly as the core does (internal/auth: HS256
//     secret or JWKS, issuer, audience, algorithms, clock skew), and takes
//     the core's limits (depth, complexity, tokens, body and response
//     sizes, timeouts, concurrent requests);
//   - the handler ([Handler]): gqlgen's server with the core's transports
//     (POST, GET, SSE, graphql-transport-ws), limits, budgets and error
//     presenter (extensions.code; an error without a code is logged and
//     shown as "internal error"), plus /healthz, /readyz, /metrics
//     (Prometheus, as the core's) and the plugin's own REST routes;
//   - the caller ([Caller]): the principal of the verified token — its ref
//     and kind; group memberships live in the core, so a permission is
//     decided by the core ([Core.Allowed], which asks the core's explain
//     query with the caller's own token) and catalog data is read from the
//     core with that token too ([Core.Query]), its read policy applied.
//
// The conventions a plugin's schema follows, which the gateway's composition
// checks, are in plugins/README.md: extend every catalog kind at once with
// `type CatalogEntity @key(fields: "ref") @interfaceObject`, prefix the
// plugin's own types and root fields, mark shared value types @shareable.
package sdk
