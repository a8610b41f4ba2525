// Package server assembles Greenroom's HTTP API: the gqlgen handler with its
// transports and error presenter at /graphql, GraphiQL at / (its assets
// embedded, so it works offline), the /healthz and /readyz probes, and
// /metrics when it is given a handler for it, and Backstage's catalog REST
// endpoints under /api/catalog when given their handler (internal/restapi,
// built by the caller as the resolvers are). An [Observer] is told of every
// request and GraphQL operation: metrics and traces come from it, with no
// import of theirs here.
//
// It imports graph, resolvers, internal/portal and gqlgen.
package server
