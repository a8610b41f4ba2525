// Package identity turns who a verified token says the caller is into a
// [portal.Principal]: a service, or a User entity of the catalog with the
// groups it owns through, looked up by entity ref or by e-mail address as
// Backstage's sign-in resolvers do.
//
// # Which entities grant
//
// Only User and Group entities that the catalog still accepts grant
// anything. An orphan (annotated backstage.io/orphan: its location no
// longer emits it, as when a user leaves the organisation's files) and an
// entity stored with errors and no good version grant nothing:
//
//   - no identity: a token naming such a user, by ref or by e-mail, is
//     refused as a token naming an unknown user is (UNAUTHENTICATED, or
//     with [Options.AllowUnknownUsers] a principal owning through its own
//     ref only);
//   - no membership: such a group is not among a member's groups, and the
//     groups above it are not reached through it;
//   - no ownership: what such a group owns, its members do not own, and
//     policy subjects group:<ref> do not match them, as both read the
//     principal's ownership refs.
//
// An entity whose document stopped validating keeps the last good version
// the catalog serves, and that version still grants: it was accepted, the
// failed edit adds nothing, and refusing its users would lock people out
// over a typo. Removing an entity, not breaking it, is how rights are
// taken away.
//
// Principals are cached, but an entry is served only while the catalog's
// generation stays what it was when it was looked up: a removed user's
// token is refused as soon as this process sees the catalog change (at
// once for its own refreshes, within the store's version check for another
// process's), not when the entry expires.
//
// It imports internal/portal, internal/catalog and an expiring LRU cache;
// the catalog itself is reached through the small [Catalog] interface,
// which internal/store implements.
package identity
