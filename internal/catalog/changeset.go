package catalog

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unique"
)

// WriteOp is what a change set does to one entity.
type WriteOp string

// The operations of an [EntityWrite].
const (
	// OpCreated stores an entity for the first time.
	OpCreated WriteOp = "created"
	// OpUpdated stores a new version of an entity: its content, file,
	// parent, validity or location changed (an orphan taken back included).
	OpUpdated WriteOp = "updated"
	// OpOrphaned marks an entity its location stopped emitting with
	// backstage.io/orphan, keeping it.
	OpOrphaned WriteOp = "orphaned"
	// OpUnorphaned removes backstage.io/orphan from an entity its location
	// emits again, as it was stored.
	OpUnorphaned WriteOp = "unorphaned"
	// OpDeleted deletes an entity its location stopped emitting.
	OpDeleted WriteOp = "deleted"
)

// feedOps are the change feed's operations of the writes.
var feedOps = map[WriteOp]ChangeOp{
	OpCreated: ChangeCreated, OpUpdated: ChangeUpdated, OpOrphaned: ChangeOrphaned,
	OpUnorphaned: ChangeUpdated, OpDeleted: ChangeDeleted,
}

// FieldRelations is the changed field of an entity whose relations
// changed; FieldOrphan that of an entity orphaned or taken back.
const (
	FieldRelations = "relations"
	FieldOrphan    = "metadata.annotations." + AnnotationOrphan
)

// ErrStale is returned, wrapped, by a store asked to apply a change set
// whose plan no longer holds: a row the plan read changed, or appeared,
// after it was read. Nothing was written; planning again from the same
// documents gives a change set that applies.
var ErrStale = errors.New("the stored state changed after the change set was planned")

// StoredEntity is what planning reads of a stored entity, and what
// applying its change re-checks.
type StoredEntity struct {
	ID          string
	Ref         string
	LocationID  string
	LocationKey string
	ParentRef   string
	Hash        string // content as read, without uid and etag
	Etag        string
	Valid       bool
	Orphan      bool
}

// StoredState is what planning a refresh of a location reads of what is
// stored.
type StoredState struct {
	// LocationStamp stands for the location's stored state (when a refresh
	// last changed what it emits), re-checked when its change set applies.
	LocationStamp string
	// Entities are the location's own entities and, among the refs it
	// emits, those of other locations, by canonical ref.
	Entities map[string]StoredEntity
}

// EntityDoc is an entity ready to be stored: what planning reads of it,
// and its body, the document already encoded with the fields stores index
// copied out of it.
type EntityDoc struct {
	Ref         string // canonical, lower-cased
	LocationKey string // the file or URL it was read from
	ParentRef   string // lower-cased, or ""
	UID         string // metadata.uid, in the body's Data once it is set
	Hash        string // [Entity.ContentHash]
	Etag        string
	Valid       bool
	Orphan      bool
	Errors      []ProcessingError
	*EntityBody
}

// EntityBody is the bulk of an [EntityDoc]: what is written and not
// planned with.
type EntityBody struct {
	Kind, Namespace, Name                   string
	Title, Description, SpecType, Lifecycle string
	Tags                                    string      // lower-cased, each between bars: |java|data|
	Labels, Annotations                     string      // JSON objects
	Data                                    string      // the entity as JSON, as served
	Relations                               [][3]string // (source, type, target), each once
	Search                                  SearchDocument
}

// NewEntityDoc encodes e, with uid, for storing. Its etag is e's own, or
// its content hash when it has none. rels are its relations and errs its
// problems: none means valid.
func NewEntityDoc(e *Entity, uid, locationKey, parentRef string, rels []Relation, errs []ProcessingError) (*EntityDoc, error) {
	hash := e.ContentHash()
	e.Metadata.UID = uid
	if e.Metadata.Etag == "" {
		e.Metadata.Etag = hash
	}
	data, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	md := &e.Metadata
	tags := make([]string, len(md.Tags))
	for i, t := range md.Tags {
		tags[i] = strings.ToLower(t)
	}
	joined := ""
	if len(tags) > 0 {
		joined = "|" + strings.Join(tags, "|") + "|"
	}
	return &EntityDoc{
		Ref: e.Ref().String(), LocationKey: locationKey, ParentRef: strings.ToLower(parentRef),
		UID: uid, Hash: hash, Etag: md.Etag, Valid: len(errs) == 0, Errors: errs,
		EntityBody: &EntityBody{
			Kind: e.Kind, Namespace: md.Namespace, Name: md.Name,
			Title: md.Title, Description: md.Description, SpecType: e.SpecString("type"), Lifecycle: e.SpecString("lifecycle"),
			Tags: joined, Labels: jsonObject(md.Labels), Annotations: jsonObject(md.Annotations),
			Data: string(data), Relations: DedupeRelations(rels), Search: e.SearchDocument(),
		},
	}, nil
}

// SearchText returns the text that text search matches: the lower-cased
// name, title, description and tags.
func (b *EntityBody) SearchText() string {
	tags := strings.ReplaceAll(strings.Trim(b.Tags, "|"), "|", " ")
	return strings.ToLower(strings.Join([]string{b.Name, b.Title, b.Description, tags}, " "))
}

// SetUID gives the entity another uid, the id of the stored entity it
// replaces, in Data too.
func (d *EntityDoc) SetUID(uid string) {
	if uid != d.UID {
		d.Data = strings.Replace(d.Data, `"uid":"`+d.UID+`"`, `"uid":"`+uid+`"`, 1)
		d.UID = uid
	}
}

func jsonObject(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m) // strings only
	return string(b)
}

// DedupeRelations returns relations as (source, type, target) strings,
// each once: a spec may name the same target twice. The refs are interned:
// a location's entities name the same few refs many times over, and hold
// them until they are written.
func DedupeRelations(rels []Relation) [][3]string {
	out := make([][3]string, 0, len(rels))
	for _, rel := range rels {
		k := [3]string{unique.Make(rel.Source.String()).Value(), rel.Type, unique.Make(rel.Target.String()).Value()}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// EntityWrite is one entity write of a change set, with what the change
// feed needs to describe it.
type EntityWrite struct {
	Op   WriteOp
	Ref  string
	ID   string // the stored entity's id
	Etag string // its etag once applied; "" when deleted
	// Fields are the fields that differ from the stored version (see
	// [ChangedFields]), [FieldRelations] when the relations do: a store
	// rewrites an updated entity's relations only then. None for a created
	// or deleted entity.
	Fields []string
	// Doc is what to store: for every operation but OpDeleted.
	Doc *EntityDoc
	// Prev is the stored row the change was planned against, re-checked
	// when it applies; nil for OpCreated, whose ref must still be free.
	Prev *StoredEntity
}

// ChangeSet is what one refresh of a location writes, or one part of it,
// planned with no transaction open: a store applies it in one transaction
// and re-checks what it was planned against.
type ChangeSet struct {
	Location      Location
	LocationStamp string // see [StoredState.LocationStamp]; "" in a part
	// Part marks a change set of a part of what a refresh read: its
	// entities' own creates and updates, applied while the refresh reads
	// on. The location, its errors and what it stopped emitting are left
	// to the refresh's last change set.
	Part bool
	// EarlierWrites counts the writes the parts of the same refresh applied
	// before this change set: the location changed even if this one writes
	// nothing.
	EarlierWrites int
	// Remove removes the location once its writes are applied (see
	// [RefreshOptions.Remove]).
	Remove bool
	Writes []EntityWrite
	// ErrorRefs are the entities whose processing errors the change set
	// changes, sorted, stored or not (a refused document has errors too).
	ErrorRefs []string
	// Conflicts are entities of other locations that this one emits too and
	// leaves to them: the plan holds only while they are still theirs.
	Conflicts []StoredEntity
	// Errors are the location's processing errors, its entities' included.
	Errors []ProcessingError
	// KeptErrors are copies of the errors of unreadable files or URLs put
	// on each entity kept from them, so that such an entity says why it is
	// not read now.
	KeptErrors []ProcessingError
	// Stats count what the refresh did up to and with this change set.
	Stats RefreshStats
}

// Changes returns the change feed's events of the change set, without
// position and time: one per entity write, in order, then ERROR for each
// entity whose processing errors change.
func (cs *ChangeSet) Changes() []Change {
	out := make([]Change, 0, len(cs.Writes)+len(cs.ErrorRefs))
	for _, w := range cs.Writes {
		out = append(out, EntityChange(feedOps[w.Op], w.Ref, cs.Location.ID, w.Etag, w.Fields))
	}
	for _, ref := range cs.ErrorRefs {
		out = append(out, EntityChange(ChangeError, ref, cs.Location.ID, "", nil))
	}
	return out
}

// UpdatedFields returns the fields at which two encoded versions of an
// entity differ ([ChangedFields]), with [FieldRelations] when their
// relation sets differ.
func UpdatedFields(oldData, newData string, oldRels, newRels [][3]string) []string {
	fields := ChangedFields([]byte(oldData), []byte(newData))
	if !sameRelations(oldRels, newRels) {
		fields = append(fields, FieldRelations)
		slices.Sort(fields)
	}
	return fields
}

func sameRelations(a, b [][3]string) bool {
	if len(a) != len(b) {
		return false
	}
	set := make(map[[3]string]bool, len(a))
	for _, r := range a {
		set[r] = true
	}
	for _, r := range b {
		if !set[r] {
			return false
		}
	}
	return true
}
