// Package restapi serves Backstage's catalog REST read endpoints under
// /api/catalog, with Backstage's request and response shapes
// (backstage-spec.md §2.7–2.9), so that Backstage clients and scripts keep
// working beside the GraphQL API:
//
//	GET  /entities                                  a list; streamed whole without offset, limit or after
//	GET  /entities/by-name/{kind}/{namespace}/{name}
//	POST /entities/by-refs
//	GET  /entities/by-query
//	POST /entities/by-query                         with a predicate query (predicate.go)
//	GET  /entity-facets
//	POST /entity-facets                             with a predicate query
//
// It is a transport, as the resolvers are: every read goes through the
// same guarded service ([Catalog], which internal/app's Catalog is), so the
// read policy narrows it in SQL exactly as it narrows GraphQL's reads, and
// Backstage's filter parameters become a [catalog.EntityFilter] of
// [catalog.FieldFilter]s that the store turns into SQL. Entities are
// written as the bytes the store keeps, their relations appended, and
// decoded only to prune them to the fields asked for.
//
// internal/server mounts the handler, behind the API's authentication,
// request ids, request limits and metrics; cmd/greenroom builds it.
//
// It imports internal/catalog and internal/portal.
package restapi
