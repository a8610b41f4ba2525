// Package policy decides who may do what in Greenroom. The permission
// policy is data, a YAML file, rather than code as in Backstage, so that
// operators can read, review and change it without a build.
//
// A policy answers two questions. [Policy.Decide] says whether a caller may
// use a permission on one entity (or, for permissions about no entity, at all),
// with a sentence saying why. [Policy.Filter] turns the same rules into a
// [catalog.EntityFilter], so that a list of entities is narrowed in SQL to
// those the caller may read rather than one entity at a time. The two agree
// exactly: an entity is in the filter when Decide allows it. A [Watcher]
// reloads the policy when its file changes.
//
// # File format
//
//	rules:
//	  - name: everyone-reads              # required, unique; letters, digits, . _ -
//	    description: Everyone may read.   # optional, for people
//	    allow: [catalog.entity.read, catalog.location.read]
//	    to: [anyone]
//	  - name: owners-maintain
//	    allow: [catalog.entity.refresh, catalog.entity.delete]
//	    to: [users]
//	    when: { isOwner: true }
//	  - name: production-is-not-deleted
//	    deny: [catalog.entity.delete]
//	    to: [anyone]
//	    when: { labels: { env: production } }
//
// A rule has exactly one of allow and deny, each a list of permissions:
// catalog.entity.read, catalog.entity.refresh, catalog.entity.delete,
// catalog.location.read, catalog.location.create, catalog.location.delete,
// audit.event.read (list the audit log), jobs.job.read (list background
// jobs), jobs.job.cancel, the scaffolder's, plugins.plugin.read (list the
// plugin registry, as the gateway does), plugins.plugin.create,
// plugins.plugin.delete, a plugin's own (three lower-case parts, the
// plugin's name first, outside the core's namespaces:
// techradar.radar.update; about no entity), or a wildcard: "*" (every
// permission, plugins' too) or a prefix ending in ".*" such as "catalog.*",
// "jobs.*" or "techradar.*". Quote "*": unquoted, YAML reads it as an alias.
//
// to lists the callers the rule applies to:
//
//	anyone               every caller, anonymous ones included
//	users                any signed-in user
//	services             any service (a script or CI job with a service token)
//	anonymous            callers without a token
//	user:<ns>/<name>     one user; user:jane means user:default/jane
//	group:<ns>/<name>    the members of a group, directly or through its
//	                     subgroups (the group is among the caller's ownership refs,
//	                     which leave out orphaned and invalid groups: see
//	                     internal/identity)
//	service:<name>       one service
//
// Refs compare without case. allow, deny, to, kind and namespace also take
// a single string for a list of one.
//
// when holds conditions on the entity, all of which must hold:
//
//	isOwner: true                 some owner (ownedBy target) of the entity is
//	                              among the caller's ownership refs
//	kind: [Component, API]        the entity's kind is one of these
//	namespace: [default, prod]    the entity's namespace is one of these
//	labels: {env: production}     the entity has every one of these labels;
//	                              a value of "*" asks only that the key be present
//	annotations: {key: value}     likewise for annotations
//
// Kinds, namespaces, keys and values compare without case, as the store's
// filters do. Only entity permissions (catalog.entity.*) have an entity
// to test, so a rule whose permissions are all about no entity (location,
// audit and job permissions) may not have a when, and a rule that names
// both (through a wildcard) applies its conditions to the entity
// permissions and does not apply to the others.
//
// Parsing reports every problem at once, each as file:line: message:
// unknown keys, unknown permissions, bad subjects, a rule with both or
// neither of allow and deny, empty lists, duplicate names, and conditions
// on rules without entity permissions.
//
// # Decisions
//
// A rule matches when it names the permission, the caller is one of its
// subjects, and its conditions hold. Then:
//
//  1. a deny rule that matches denies, whatever allows it;
//  2. otherwise an allow rule that matches allows;
//  3. otherwise the permission is denied: what no rule allows, nobody may do.
//
// The order of rules does not change a decision; it only picks which rule a
// decision names when several match.
//
// The package imports the standard library, internal/catalog,
// internal/portal, go.yaml.in/yaml/v3 and github.com/fsnotify/fsnotify.
package policy
