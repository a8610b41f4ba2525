// Package gqltype holds the Go types that exist only for the GraphQL layer
// and that gqlgen.yml binds schema types to: one type per entity kind over
// a stored record, and the opaque cursors.
//
// It imports internal/catalog and internal/portal.
package gqltype

import (
	"encoding/json"
	"sort"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// FederatedEntity is implemented by every type of the schema's _Entity
// union, the types a federation gateway can resolve by key.
type FederatedEntity interface{ IsFederatedEntity() }

// Node is a catalog entity of any kind: the Go side of the CatalogEntity interface.
type Node interface {
	FederatedEntity
	Record() *catalog.Record
}

// OwnerNode is an entity that can own others: a Group or a User.
type OwnerNode interface {
	Node
	IsOwner()
}

// Wrap returns the GraphQL type of a record's kind.
func Wrap(rec *catalog.Record) Node {
	b := Base{rec: rec}
	switch rec.Kind {
	case catalog.KindComponent:
		return &Component{b}
	case catalog.KindAPI:
		return &API{b}
	case catalog.KindResource:
		return &Resource{b}
	case catalog.KindSystem:
		return &System{b}
	case catalog.KindDomain:
		return &Domain{b}
	case catalog.KindGroup:
		return &Group{b}
	case catalog.KindUser:
		return &User{b}
	case catalog.KindLocation:
		return &Location{b}
	case catalog.KindTemplate:
		return &Template{b}
	}
	return &GenericEntity{b}
}

// TypeName returns the name of the GraphQL type [Wrap] gives rec.
func TypeName(rec *catalog.Record) string {
	switch rec.Kind {
	case catalog.KindComponent, catalog.KindAPI, catalog.KindResource, catalog.KindSystem, catalog.KindDomain,
		catalog.KindGroup, catalog.KindUser, catalog.KindLocation, catalog.KindTemplate:
		return rec.Kind
	}
	return "GenericEntity"
}

// Base holds the fields every entity has.
type Base struct{ rec *catalog.Record }

// Record returns the stored record.
func (b Base) Record() *catalog.Record { return b.rec }

// IsFederatedEntity implements [FederatedEntity].
func (Base) IsFederatedEntity() {}

func (b Base) Ref() string          { return b.rec.Ref }
func (b Base) UID() string          { return b.rec.UID }
func (b Base) Kind() string         { return b.rec.Kind }
func (b Base) Namespace() string    { return b.rec.Namespace }
func (b Base) Name() string         { return b.rec.Name }
func (b Base) Title() *string       { return optional(b.rec.Title) }
func (b Base) Description() *string { return optional(b.rec.Description) }
func (b Base) Etag() string         { return b.rec.Etag }
func (b Base) Orphan() bool         { return b.rec.Orphan }

// APIVersion returns the entity's apiVersion.
func (b Base) APIVersion() (string, error) {
	e, err := b.rec.Entity()
	if err != nil {
		return "", err
	}
	return e.APIVersion, nil
}

// Labels returns metadata.labels, sorted by key.
func (b Base) Labels() ([]*KeyValue, error) {
	e, err := b.rec.Entity()
	if err != nil {
		return nil, err
	}
	return keyValues(e.Metadata.Labels), nil
}

// Annotations returns metadata.annotations, sorted by key.
func (b Base) Annotations() ([]*KeyValue, error) {
	e, err := b.rec.Entity()
	if err != nil {
		return nil, err
	}
	return keyValues(e.Metadata.Annotations), nil
}

// Annotation returns one annotation, or nil.
func (b Base) Annotation(key string) (*string, error) {
	e, err := b.rec.Entity()
	if err != nil {
		return nil, err
	}
	v, ok := e.Metadata.Annotations[key]
	if !ok {
		return nil, nil
	}
	return &v, nil
}

// Tags returns metadata.tags.
func (b Base) Tags() ([]string, error) {
	e, err := b.rec.Entity()
	if err != nil {
		return nil, err
	}
	if e.Metadata.Tags == nil {
		return []string{}, nil
	}
	return e.Metadata.Tags, nil
}

// Links returns metadata.links.
func (b Base) Links() ([]*catalog.Link, error) {
	e, err := b.rec.Entity()
	if err != nil {
		return nil, err
	}
	out := make([]*catalog.Link, len(e.Metadata.Links))
	for i := range e.Metadata.Links {
		out[i] = &e.Metadata.Links[i]
	}
	return out, nil
}

// Spec returns the spec as written.
func (b Base) Spec() (any, error) {
	e, err := b.rec.Entity()
	if err != nil || e.Spec == nil {
		return map[string]any{}, err
	}
	return e.Spec, nil
}

// Raw returns the whole stored entity as a JSON document: the stored
// bytes, never decoded (decoding and encoding again made a page of 500
// whole components 4× slower than its refs and names).
func (b Base) Raw() (any, error) {
	return json.RawMessage(b.rec.Data), nil
}

// spec returns spec[key], decoding the document when needed.
func (b Base) spec(key string) (any, error) {
	e, err := b.rec.Entity()
	if err != nil {
		return nil, err
	}
	return e.Spec[key], nil
}

func (b Base) specString(key string) (*string, error) {
	v, err := b.spec(key)
	if s, ok := v.(string); ok && s != "" {
		return &s, err
	}
	return nil, err
}

func (b Base) specStrings(key string) ([]string, error) {
	v, err := b.spec(key)
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, item := range list {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	return out, err
}

// KeyValue is one label or annotation.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func keyValues(m map[string]string) []*KeyValue {
	out := make([]*KeyValue, 0, len(m))
	for k, v := range m {
		out = append(out, &KeyValue{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Profile is a Group's or User's spec.profile.
type Profile struct {
	DisplayName *string `json:"displayName"`
	Email       *string `json:"email"`
	Picture     *string `json:"picture"`
}

func (b Base) profile() (*Profile, error) {
	v, err := b.spec("profile")
	m, ok := v.(map[string]any)
	if err != nil || !ok {
		return nil, err
	}
	str := func(k string) *string {
		s, _ := m[k].(string)
		return optional(s)
	}
	return &Profile{DisplayName: str("displayName"), Email: str("email"), Picture: str("picture")}, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Component is a piece of software: a service, website, library.
type Component struct{ Base }

// Type returns spec.type.
func (c Component) Type() string { return c.rec.SpecType }

// Lifecycle returns spec.lifecycle.
func (c Component) Lifecycle() string { return c.rec.Lifecycle }

// API is an interface that components provide or consume.
type API struct{ Base }

// Type returns spec.type.
func (a API) Type() string { return a.rec.SpecType }

// Lifecycle returns spec.lifecycle.
func (a API) Lifecycle() string { return a.rec.Lifecycle }

// Definition returns spec.definition.
func (a API) Definition() (*string, error) { return a.specString("definition") }

// Resource is infrastructure a component needs: a database, a bucket.
type Resource struct{ Base }

// Type returns spec.type.
func (r Resource) Type() string { return r.rec.SpecType }

// System is a collection of components, APIs and resources.
type System struct{ Base }

// Type returns spec.type, or nil.
func (s System) Type() *string { return optional(s.rec.SpecType) }

// Domain is a business area that systems belong to.
type Domain struct{ Base }

// Type returns spec.type, or nil.
func (d Domain) Type() *string { return optional(d.rec.SpecType) }

// Group is a team or other organisational unit.
type Group struct{ Base }

// IsOwner implements [OwnerNode].
func (Group) IsOwner() {}

// Type returns spec.type.
func (g Group) Type() string { return g.rec.SpecType }

// Profile returns spec.profile, or nil.
func (g Group) Profile() (*Profile, error) { return g.profile() }

// User is a person.
type User struct{ Base }

// IsOwner implements [OwnerNode].
func (User) IsOwner() {}

// Profile returns spec.profile, or nil.
func (u User) Profile() (*Profile, error) { return u.profile() }

// Location points at more descriptor files.
type Location struct{ Base }

// Type returns spec.type, or nil.
func (l Location) Type() *string { return optional(l.rec.SpecType) }

// Target returns spec.target, or nil.
func (l Location) Target() (*string, error) { return l.specString("target") }

// Targets returns spec.targets.
func (l Location) Targets() ([]string, error) { return l.specStrings("targets") }

// Presence returns spec.presence, or nil.
func (l Location) Presence() (*string, error) { return l.specString("presence") }

// Template is a software template for the scaffolder.
type Template struct{ Base }

// Type returns spec.type.
func (t Template) Type() string { return t.rec.SpecType }

// Lifecycle returns spec.lifecycle, or nil.
func (t Template) Lifecycle() *string { return optional(t.rec.Lifecycle) }

// Parameters returns spec.parameters, the JSON Schema of the form.
func (t Template) Parameters() (any, error) { return t.spec("parameters") }

// Steps returns spec.steps.
func (t Template) Steps() (any, error) { return t.spec("steps") }

// Output returns spec.output.
func (t Template) Output() (any, error) { return t.spec("output") }

// GenericEntity is an entity of a kind Greenroom does not model.
type GenericEntity struct{ Base }
