package policy

import (
	"regexp"
	"strings"
)

// The permissions a policy can grant, named as Backstage names them
// (backstage-spec.md §2.10).
const (
	EntityRead     = "catalog.entity.read"
	EntityRefresh  = "catalog.entity.refresh"
	EntityDelete   = "catalog.entity.delete"
	LocationRead   = "catalog.location.read"
	LocationCreate = "catalog.location.create"
	LocationDelete = "catalog.location.delete"
	// AuditRead lets a caller list the audit log of mutations.
	AuditRead = "audit.event.read"
	// JobRead lets a caller list and look at background jobs, with their
	// arguments (credentials redacted) and errors.
	JobRead = "jobs.job.read"
	// JobCancel lets a caller cancel a background job.
	JobCancel = "jobs.job.cancel"
	// TemplateRead lets a caller use a software template (a Template
	// entity it may read): run or dry-run it. A rule about it may have
	// conditions on the template (its owner, labels, …).
	TemplateRead = "scaffolder.template.read"
	// TaskCreate lets a caller run a software template (and dry-run one);
	// TaskRead and TaskCancel let a caller read and cancel the tasks of
	// others, as a task's creator may always do with its own.
	TaskCreate = "scaffolder.task.create"
	TaskRead   = "scaffolder.task.read"
	TaskCancel = "scaffolder.task.cancel"
	// TaskApprove lets a caller decide a task's approval gate, when the
	// gate names the caller or one of the caller's groups.
	TaskApprove = "scaffolder.task.approve"
	// PluginRead lets a caller list the plugin registry: what the gateway
	// reads to compose the plugins added at run time. PluginCreate and
	// PluginDelete let a caller add plugins to it and remove them.
	PluginRead   = "plugins.plugin.read"
	PluginCreate = "plugins.plugin.create"
	PluginDelete = "plugins.plugin.delete"
)

// ResourceEntity is the resource type of the entity permissions: a rule
// about them may have conditions, which are tested against the entity.
const ResourceEntity = "catalog-entity"

// permission is one entry of [permissions].
type permission struct {
	name string
	// resource is the type of the thing the permission is about, as
	// Backstage calls it, or "" for a basic permission that is about no
	// particular thing. Only rules about a resource may have conditions,
	// since conditions are tested against the resource.
	resource string
}

// permissions is every permission the core checks. It is the one list that
// parsing, wildcards and decisions consult, so a new part of the core
// (scaffolder, docs) adds its permissions here and nowhere else; its
// namespaces are closed to plugins, whose own permissions need no entry
// (see pluginPermission).
var permissions = []permission{
	{EntityRead, ResourceEntity},
	{EntityRefresh, ResourceEntity},
	{EntityDelete, ResourceEntity},
	{LocationRead, ""},
	{LocationCreate, ""},
	{LocationDelete, ""},
	{AuditRead, ""},
	{JobRead, ""},
	{JobCancel, ""},
	{TemplateRead, ResourceEntity},
	{TaskCreate, ""},
	{TaskRead, ""},
	{TaskCancel, ""},
	{TaskApprove, ""},
	{PluginRead, ""},
	{PluginCreate, ""},
	{PluginDelete, ""},
}

// pluginPermission is the form of a plugin's own permission: the plugin's
// name, then what it is about and the action, as the core's are named
// ("techradar.radar.update"). Plugins are separate services the core
// cannot list ahead of the policy, so any name of this form outside the
// core's own namespaces is a permission: a basic one, about no entity,
// which rules grant and the explain query decides like the core's.
var pluginPermission = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$`)

// pluginPattern is a plugin permission's name or a wildcard over one
// plugin's permissions ("techradar.*", "techradar.radar.*").
var pluginPattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.(\*|[a-z][a-z0-9-]*\.(\*|[a-z][a-z0-9-]*))$`)

// isCoreNamespace reports whether a permission name or pattern starts with
// the namespace of one of the core's permissions (catalog, jobs, …).
func isCoreNamespace(name string) bool {
	ns, _, _ := strings.Cut(name, ".")
	for _, p := range permissions {
		if core, _, _ := strings.Cut(p.name, "."); core == ns {
			return true
		}
	}
	return false
}

// isPluginPattern reports whether a rule's pattern names a plugin's
// permissions rather than the core's.
func isPluginPattern(pattern string) bool {
	return pluginPattern.MatchString(pattern) && !isCoreNamespace(pattern)
}

// lookup returns the permission called name: one of the core's, or a
// plugin's (see pluginPermission).
func lookup(name string) (permission, bool) {
	for _, p := range permissions {
		if p.name == name {
			return p, true
		}
	}
	if pluginPermission.MatchString(name) && !isCoreNamespace(name) {
		return permission{name: name}, true
	}
	return permission{}, false
}

// covers reports whether pattern, a permission name or a wildcard such as
// "*" or "catalog.entity.*", names the permission called name. A wildcard
// ends at a dot, so "catalog.entity.*" does not cover a future
// "catalog.entityset.read".
func covers(pattern, name string) bool {
	if pattern == "*" || pattern == name {
		return true
	}
	prefix, ok := strings.CutSuffix(pattern, "*")
	return ok && strings.HasSuffix(prefix, ".") && strings.HasPrefix(name, prefix)
}

// covered returns the known permissions that pattern covers, in table order.
func covered(pattern string) []permission {
	var out []permission
	for _, p := range permissions {
		if covers(pattern, p.name) {
			out = append(out, p)
		}
	}
	return out
}
