package scaffolder

import (
	"context"
	"errors"
	"fmt"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// Catalog is what the catalog actions read, as the task's creator (the
// read policy applies): internal/app's Catalog service.
type Catalog interface {
	// Entity returns an entity as JSON holds it, or nil when there is none
	// the caller may read.
	Entity(ctx context.Context, ref string) (map[string]any, error)
}

// CatalogActions are the actions over the catalog: catalog:fetch.
func CatalogActions(c Catalog) []Action { return []Action{catalogFetch{c}} }

// OfflineCatalog is the catalog of an offline dry run: it holds nothing.
type OfflineCatalog struct{}

// Entity finds nothing, and says why.
func (OfflineCatalog) Entity(context.Context, string) (map[string]any, error) {
	return nil, errors.New("an offline dry run reads no catalog")
}

// catalogFetch is catalog:fetch.
type catalogFetch struct{ c Catalog }

func (catalogFetch) Info() ActionInfo {
	return ActionInfo{
		ID:          "catalog:fetch",
		Description: "Returns entity or entities from the catalog by entity reference(s)",
		Input: object(nil, map[string]any{
			"entityRef":        str("Entity reference of the entity to get"),
			"entityRefs":       map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "Entity references of the entities to get"},
			"optional":         map[string]any{"type": "boolean", "description": "Allow the entity or entities to optionally exist. Default: false"},
			"defaultKind":      str("The default kind"),
			"defaultNamespace": str("The default namespace"),
		}),
		Output: object(nil, map[string]any{
			"entity":   map[string]any{"type": "object", "description": "Object containing same values used in the Entity schema. Only when used with `entityRef` parameter."},
			"entities": map[string]any{"type": "array", "items": map[string]any{"type": "object"}, "description": "Array containing objects with same values used in the Entity schema. Only when used with `entityRefs` parameter."},
		}),
		DryRun: true,
	}
}

func (a catalogFetch) Run(ctx context.Context, ac *ActionContext) error {
	var in struct {
		EntityRef        string
		EntityRefs       []string
		Optional         bool
		DefaultKind      string
		DefaultNamespace string
	}
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	if in.EntityRef == "" && in.EntityRefs == nil {
		return errors.New("missing entityRef or entityRefs")
	}
	fetch := func(s string) (map[string]any, error) {
		ref, err := catalog.ParseRef(s, catalog.RefDefaults{Kind: in.DefaultKind, Namespace: in.DefaultNamespace})
		if err != nil {
			return nil, err
		}
		e, err := a.c.Entity(ctx, ref.String())
		if err != nil {
			return nil, err
		}
		if e == nil && !in.Optional {
			return nil, fmt.Errorf("entity %s not found", ref)
		}
		return e, nil
	}
	if in.EntityRef != "" {
		e, err := fetch(in.EntityRef)
		if err != nil {
			return err
		}
		ac.Output("entity", e)
	}
	if in.EntityRefs != nil {
		entities := make([]any, len(in.EntityRefs))
		for i, r := range in.EntityRefs {
			e, err := fetch(r)
			if err != nil {
				return err
			}
			if e != nil {
				entities[i] = e
			}
		}
		ac.Output("entities", entities)
	}
	return nil
}
