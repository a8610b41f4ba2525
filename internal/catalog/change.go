package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ChangeOp is what happened to an entity or a location, as the change feed
// records it.
type ChangeOp string

// The operations of the change feed. The first five are about an entity,
// named by its ref; the LOCATION_ ones are about a registered location,
// named by its id.
const (
	ChangeCreated  ChangeOp = "CREATED"  // an entity was stored for the first time
	ChangeUpdated  ChangeOp = "UPDATED"  // a stored entity changed, its orphan mark included when it is taken back
	ChangeDeleted  ChangeOp = "DELETED"  // an entity left the catalog
	ChangeOrphaned ChangeOp = "ORPHANED" // its location no longer emits the entity, which is kept marked orphan
	// ChangeError is the processing errors of an entity appearing, changing
	// or clearing; the entity itself may not be stored (a refused document).
	ChangeError ChangeOp = "ERROR"

	ChangeLocationCreated ChangeOp = "LOCATION_CREATED" // registered or configured, or configured again after removal
	ChangeLocationUpdated ChangeOp = "LOCATION_UPDATED" // a registered location named in the configuration from now on
	// ChangeLocationRefreshed is a refresh of the location that changed
	// what it emits or its processing errors; a refresh that changes
	// nothing records nothing.
	ChangeLocationRefreshed ChangeOp = "LOCATION_REFRESHED"
	// ChangeLocationFailed is a refresh that failed before its last change
	// set (its REFRESH_FAILED error is recorded on the location).
	ChangeLocationFailed  ChangeOp = "LOCATION_FAILED"
	ChangeLocationDeleted ChangeOp = "LOCATION_DELETED" // deleted, or removed from the configuration
)

// IsVersion reports whether op changes an entity's content, which makes a
// version in its history: ERROR and the location operations do not.
func (op ChangeOp) IsVersion() bool {
	return op == ChangeCreated || op == ChangeUpdated || op == ChangeOrphaned || op == ChangeDeleted
}

// IsLocation reports whether op is about a location rather than an entity.
func (op ChangeOp) IsLocation() bool { return strings.HasPrefix(string(op), "LOCATION_") }

// Change is one event of the change feed: what one write did to one entity
// or location. Writers fill every field but Position and At, which the
// store gives them as it appends them in the writing transaction.
type Change struct {
	// Position orders the feed: it grows by one with each event, in the
	// order the writes committed, without gaps.
	Position int64
	Op       ChangeOp
	// Ref is the entity's canonical ref, or the location's id for the
	// LOCATION_ operations.
	Ref string
	// Kind and Namespace are the entity's, lower-cased, so that a consumer
	// filters without reading the entity (which a DELETED one no longer
	// has); empty for locations.
	Kind, Namespace string
	// LocationID is the location that emits the entity, or the location
	// itself; empty when the entity belongs to none any more.
	LocationID string
	// Etag is the entity's new etag; empty when it was deleted, for ERROR
	// and for locations.
	Etag string
	// Fields are the paths of the fields an UPDATED or ORPHANED changed,
	// such as "spec.owner" or "metadata.annotations.backstage.io/orphan"
	// (see [ChangedFields]); "relations" when only the relations the store
	// derives changed. Empty for the other operations.
	Fields []string
	// Actor is who made the change: the ref of the principal that asked
	// for it ("user:default/jane", "cli:jane"), "location:<id>" for a
	// refresh, or "" for the server itself (configuration applied at
	// start).
	Actor string
	// At is when the write's transaction began, UTC.
	At time.Time
}

// EntityChange returns a change of op to the entity ref (canonical), with
// its kind and namespace taken from the ref.
func EntityChange(op ChangeOp, ref, locationID, etag string, fields []string) Change {
	c := Change{Op: op, Ref: ref, LocationID: locationID, Etag: etag, Fields: fields}
	if r, err := ParseRef(ref, RefDefaults{}); err == nil {
		c.Kind, c.Namespace = strings.ToLower(r.Kind), strings.ToLower(r.Namespace)
	}
	return c
}

// ActorOfLocation is the actor of the changes a refresh of a location makes.
func ActorOfLocation(id string) string { return "location:" + id }

// ChangedFields returns the paths of the fields that differ between two
// versions of an entity as JSON, sorted: objects are followed down to the
// keys that differ, joined with dots ("metadata.labels.tier"); a list or a
// value that differs is named as a whole ("spec.dependsOn"). metadata.uid
// and metadata.etag are left out: the etag changes with any field, and the
// uid never does. Documents that do not decode compare as a whole, "".
func ChangedFields(before, after []byte) []string {
	var out []string
	for _, c := range Diff(before, after) {
		out = append(out, c.Path)
	}
	return out
}

// FieldChange is one field that differs between two versions of an entity:
// its path as [ChangedFields] names it, and its decoded JSON values before
// and after (nil where the field is absent).
type FieldChange struct {
	Path          string
	Before, After any
}

// Diff returns the fields that differ between two versions of an entity as
// JSON, by path, as [ChangedFields] finds them. An empty or null version is
// an entity with no fields, so that the first version of an entity lists
// every top-level field, and its deletion every field it had.
func Diff(before, after []byte) []FieldChange {
	a, aok := decodeVersion(before)
	b, bok := decodeVersion(after)
	if !aok || !bok {
		return []FieldChange{{Path: "", Before: a, After: b}}
	}
	var out []FieldChange
	diffPaths("", a, b, &out)
	out = slices.DeleteFunc(out, func(c FieldChange) bool { return c.Path == "metadata.uid" || c.Path == "metadata.etag" })
	slices.SortFunc(out, func(x, y FieldChange) int { return strings.Compare(x.Path, y.Path) })
	return out
}

func decodeVersion(data []byte) (any, bool) {
	if len(data) == 0 {
		return map[string]any{}, true
	}
	var v any
	if json.Unmarshal(data, &v) != nil {
		return nil, false
	}
	if v == nil {
		return map[string]any{}, true
	}
	return v, true
}

func diffPaths(path string, a, b any, out *[]FieldChange) {
	ma, aok := a.(map[string]any)
	mb, bok := b.(map[string]any)
	if !aok || !bok {
		if !jsonEqual(a, b) {
			*out = append(*out, FieldChange{Path: path, Before: a, After: b})
		}
		return
	}
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	for k, va := range ma {
		vb, ok := mb[k]
		if !ok {
			*out = append(*out, FieldChange{Path: join(k), Before: va})
			continue
		}
		diffPaths(join(k), va, vb, out)
	}
	for k, vb := range mb {
		if _, ok := ma[k]; !ok {
			*out = append(*out, FieldChange{Path: join(k), After: vb})
		}
	}
}

// jsonEqual compares two decoded JSON values.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// Version is one version of an entity in its history: what a change of
// its content left (see internal/store's entity_history).
type Version struct {
	// Seq numbers an entity's versions in the order they were made; it
	// is negative for the versions recorded when history began. It is not
	// the change feed position of the change.
	Seq        int64
	Ref        string
	Op         ChangeOp // CREATED, UPDATED, ORPHANED or DELETED
	LocationID string
	Etag       string // "" once deleted
	Actor      string
	At         time.Time
	// Data is the entity as JSON after the change; nil once deleted.
	Data []byte
}

// Record returns the version as a record, as the entity was after the
// change; nil for a deletion.
func (v *Version) Record() (*Record, error) {
	if v.Data == nil {
		return nil, nil
	}
	var e Entity
	if err := json.Unmarshal(v.Data, &e); err != nil {
		return nil, fmt.Errorf("catalog: decode version %d of %s: %w", v.Seq, v.Ref, err)
	}
	return &Record{
		UID: e.Metadata.UID, Ref: v.Ref, Kind: e.Kind, Namespace: e.Metadata.Namespace, Name: e.Metadata.Name,
		Title: e.Metadata.Title, Description: e.Metadata.Description, SpecType: e.SpecString("type"),
		Lifecycle: e.SpecString("lifecycle"), Etag: v.Etag, Orphan: e.Metadata.Annotations[AnnotationOrphan] == "true",
		LocationID: v.LocationID, Data: v.Data,
	}, nil
}
