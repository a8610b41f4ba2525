// Package server assembles Greenroom's HTTP API: the gqlgen handler with its
// transports and error presenter at /graphql, GraphiQL at / (its assets
// embedded, so it works offline), and the
// /healthz and /readyz probes.
//
// It imports graph, resolvers, internal/portal and gqlgen.
package server
