package resolvers

import "github.com/greenroomhq/greenroom/internal/portal"

// errNoPlugins answers the registry's fields on a server built without it.
var errNoPlugins = portal.Errorf(portal.EUNAVAILABLE, "this server keeps no plugin registry")
