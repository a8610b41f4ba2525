package scaffolder

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// Catalog is what the catalog actions read, as the task's creator (the
// read policy applies): internal/app's Catalog service.
type Catalog interface {
	// Entity returns an entity as JSON holds it, or nil when there is none
	// the caller may read.
	Entity(ctx context.Context, ref string) (map[string]any, error)
	// Register registers a url location that stamps annotations on what
	// it emits, reads it, and returns the refs of the entities it emits.
	// A location registered already is ECONFLICT.
	Register(ctx context.Context, target string, annotations map[string]string) ([]string, error)
}

// CatalogActions are the actions over the catalog: catalog:fetch and
// catalog:register.
func CatalogActions(c Catalog) []Action { return []Action{catalogFetch{c}, catalogRegister{c}} }

// OfflineCatalog is the catalog of an offline dry run: it holds nothing.
type OfflineCatalog struct{}

// Entity finds nothing, and says why.
func (OfflineCatalog) Entity(context.Context, string) (map[string]any, error) {
	return nil, errors.New("an offline dry run reads no catalog")
}

// Register registers nothing: catalog:register runs in dry-run mode there.
func (OfflineCatalog) Register(context.Context, string, map[string]string) ([]string, error) {
	return nil, errors.New("an offline dry run registers nothing")
}

// catalogRegister is catalog:register.
type catalogRegister struct{ c Catalog }

func (catalogRegister) Info() ActionInfo {
	return ActionInfo{
		ID:          "catalog:register",
		Description: "Registers entities from a catalog descriptor file in the workspace into the software catalog.",
		Input: map[string]any{
			"oneOf": []any{
				object([]string{"catalogInfoUrl"}, map[string]any{
					"catalogInfoUrl": str("An absolute URL pointing to the catalog info file location"),
					"optional":       map[string]any{"type": "boolean", "description": "Permit the registered location to optionally exist. Default: false"},
				}),
				object([]string{"repoContentsUrl"}, map[string]any{
					"repoContentsUrl": str("An absolute URL pointing to the root of a repository directory tree"),
					"catalogInfoPath": str("A relative path from the repo root pointing to the catalog info file, defaults to /catalog-info.yaml"),
					"optional":        map[string]any{"type": "boolean", "description": "Permit the registered location to optionally exist. Default: false"},
				}),
			},
		},
		Output: object(nil, map[string]any{
			"entityRef":      map[string]any{"type": "string", "examples": []any{"component:default/example"}},
			"catalogInfoUrl": str("The URL registered"),
		}),
		DryRun: true,
	}
}

// Run registers the URL as the task's creator; in a dry run it reads the
// descriptor the workspace holds at catalogInfoPath instead (what would be
// published there), registering nothing.
func (a catalogRegister) Run(ctx context.Context, ac *ActionContext) error {
	var in struct {
		CatalogInfoURL  string
		RepoContentsURL string
		CatalogInfoPath string
		Optional        bool
	}
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	target, file := in.CatalogInfoURL, ""
	if target == "" {
		file = strings.TrimPrefix(cmp.Or(in.CatalogInfoPath, "/catalog-info.yaml"), "/")
		target = strings.TrimSuffix(in.RepoContentsURL, "/") + "/" + file
	}
	ac.Output("catalogInfoUrl", target)
	var refs []string
	var err error
	if ac.DryRun {
		if file == "" {
			ac.Logf("Dry run: would register %s", target)
			return nil
		}
		refs, err = descriptorRefs(ac.Workspace, file)
		if err == nil {
			ac.Logf("Dry run: would register %s, which the workspace holds as %s", target, file)
		}
	} else {
		ac.Logf("Registering %s in the catalog", target)
		refs, err = a.c.Register(ctx, target, Provenance(ac.TemplateRef, ac.TemplateEtag, ac.TaskID))
	}
	if err != nil {
		if in.Optional {
			ac.Logf("Not registered (optional): %v", err)
			return nil
		}
		return err
	}
	if ref := pickEntityRef(refs); ref != "" {
		ac.Output("entityRef", ref)
	}
	return nil
}

// The annotations every entity a task registers carries: the template
// that made it, the template's version (etag) when the task ran, and the
// task, whose values are kept with it.
const (
	AnnotationTemplateRef  = "greenroom.dev/template-ref"
	AnnotationTemplateEtag = "greenroom.dev/template-etag"
	AnnotationTaskID       = "greenroom.dev/task-id"
)

// Provenance returns the annotations of what a task registers.
func Provenance(templateRef, templateEtag, taskID string) map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{AnnotationTemplateRef: templateRef, AnnotationTemplateEtag: templateEtag, AnnotationTaskID: taskID} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// pickEntityRef picks the ref catalog:register outputs, as Backstage
// does: the first Component not generated, else the first entity not
// generated (a registered location's own Location entity is), else the
// first.
func pickEntityRef(refs []string) string {
	generated := func(r string) bool { return strings.Contains(r, "/generated-") }
	for _, r := range refs {
		if strings.HasPrefix(r, "component:") && !generated(r) {
			return r
		}
	}
	for _, r := range refs {
		if !generated(r) {
			return r
		}
	}
	if len(refs) > 0 {
		return refs[0]
	}
	return ""
}

// descriptorRefs reads the refs of the entities a descriptor file of the
// workspace defines (kind, namespace and name; the catalog checks the
// rest when it is registered).
func descriptorRefs(ws *Workspace, file string) ([]string, error) {
	p, err := Clean(file)
	if err != nil {
		return nil, err
	}
	data, err := ws.root.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("the workspace has no %s to register: %w", file, unwrapPath(err))
	}
	var refs []string
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return refs, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if doc.Kind == "" || doc.Metadata.Name == "" {
			return nil, fmt.Errorf("%s: a document has no kind or metadata.name", file)
		}
		refs = append(refs, catalog.Ref{Kind: doc.Kind, Namespace: cmp.Or(doc.Metadata.Namespace, "default"), Name: doc.Metadata.Name}.String())
	}
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
