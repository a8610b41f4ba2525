package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Well-known annotations that Greenroom sets or reads (backstage-spec.md §1.7).
const (
	AnnotationManagedByLocation       = "backstage.io/managed-by-location"
	AnnotationManagedByOriginLocation = "backstage.io/managed-by-origin-location"
	AnnotationOrphan                  = "backstage.io/orphan"
	AnnotationSourceLocation          = "backstage.io/source-location"
	// AnnotationTechDocsRef names an entity's docs source: dir:PATH
	// (relative to its descriptor) or url:URL (internal/techdocs).
	AnnotationTechDocsRef = "backstage.io/techdocs-ref"
	AnnotationViewURL     = "backstage.io/view-url"
)

// Entity is one catalog entity: the Backstage envelope with its metadata
// typed and its spec kept as written, so that kinds Greenroom does not model
// lose nothing.
type Entity struct {
	APIVersion string
	Kind       string
	Metadata   Metadata
	Spec       map[string]any
}

// Metadata is the entity's metadata block. Keys outside the known set are
// kept in Extra and written back unchanged.
type Metadata struct {
	Name        string
	Namespace   string
	UID         string
	Etag        string
	Title       string
	Description string
	Labels      map[string]string
	Annotations map[string]string
	Tags        []string
	Links       []Link
	Extra       map[string]any
}

// Link is an entry of metadata.links.
type Link struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
	Icon  string `json:"icon,omitempty"`
	Type  string `json:"type,omitempty"`
}

// Ref returns the entity's reference, with the case it was written in.
func (e *Entity) Ref() Ref {
	return Ref{Kind: e.Kind, Namespace: e.Metadata.Namespace, Name: e.Metadata.Name}
}

// SpecString returns spec[key] when it is a string, and "" otherwise.
func (e *Entity) SpecString(key string) string {
	s, _ := e.Spec[key].(string)
	return s
}

// SetAnnotation sets one annotation, creating the map when needed.
func (e *Entity) SetAnnotation(key, value string) {
	if e.Metadata.Annotations == nil {
		e.Metadata.Annotations = map[string]string{}
	}
	e.Metadata.Annotations[key] = value
}

// Doc returns the entity as a JSON-shaped document in Backstage's layout.
func (e *Entity) Doc() map[string]any {
	md := make(map[string]any, len(e.Metadata.Extra)+10)
	for k, v := range e.Metadata.Extra {
		md[k] = v
	}
	md["name"] = e.Metadata.Name
	md["namespace"] = e.Metadata.Namespace
	setIf := func(k, v string) {
		if v != "" {
			md[k] = v
		}
	}
	setIf("uid", e.Metadata.UID)
	setIf("etag", e.Metadata.Etag)
	setIf("title", e.Metadata.Title)
	setIf("description", e.Metadata.Description)
	if len(e.Metadata.Labels) > 0 {
		md["labels"] = e.Metadata.Labels
	}
	if len(e.Metadata.Annotations) > 0 {
		md["annotations"] = e.Metadata.Annotations
	}
	if len(e.Metadata.Tags) > 0 {
		md["tags"] = e.Metadata.Tags
	}
	if len(e.Metadata.Links) > 0 {
		md["links"] = e.Metadata.Links
	}
	doc := map[string]any{"apiVersion": e.APIVersion, "kind": e.Kind, "metadata": md}
	if e.Spec != nil {
		doc["spec"] = e.Spec
	}
	return doc
}

// MarshalJSON encodes the entity as its Backstage document. Map keys are
// sorted by encoding/json, so equal entities encode to equal bytes.
func (e *Entity) MarshalJSON() ([]byte, error) {
	return json.Marshal(e.Doc())
}

// UnmarshalJSON decodes an entity stored by [Entity.MarshalJSON].
func (e *Entity) UnmarshalJSON(b []byte) error {
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	ent, problems := fromDoc(doc)
	if ent == nil && len(problems) > 0 {
		return problems[0]
	}
	*e = *ent
	return nil
}

// ContentHash returns a digest of everything in the entity except its uid
// and etag. Two versions with the same hash need no write.
func (e *Entity) ContentHash() string {
	c := *e
	c.Metadata.UID, c.Metadata.Etag = "", ""
	b, _ := json.Marshal(c.Doc()) // a Doc holds only JSON values
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
