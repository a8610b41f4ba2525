// Package identity turns who a verified token says the caller is into a
// [portal.Principal]: a service, or a User entity of the catalog with the
// groups it owns through, looked up by entity ref or by e-mail address as
// Backstage's sign-in resolvers do.
//
// It imports internal/portal, internal/catalog and an expiring LRU cache;
// the catalog itself is reached through the small [Catalog] interface,
// which internal/store implements.
package identity
