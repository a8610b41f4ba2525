package catalog

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
)

// Error codes of processing errors, so that clients can group them.
const (
	ErrorCodeSyntax      = "SYNTAX"      // the file is not valid YAML
	ErrorCodeInvalid     = "INVALID"     // a document breaks a validation rule
	ErrorCodeReference   = "REFERENCE"   // a reference is malformed, or names no entity (a warning)
	ErrorCodePlaceholder = "PLACEHOLDER" // a $text, $json or $yaml placeholder failed
	ErrorCodeRead        = "READ"        // a file or URL could not be read
	ErrorCodeTooLarge    = "TOO_LARGE"   // a file, URL body or entity is over its size limit
	ErrorCodeConflict    = "CONFLICT"    // another location already emits this entity
	// ErrorCodeForbiddenKind is a document of a kind its location may not
	// emit (catalog rules); nothing of it is stored.
	ErrorCodeForbiddenKind = "FORBIDDEN_KIND"
	// ErrorCodeForbiddenTarget is a Location target its location may not
	// lead to: a file from a URL, a file outside the allowed roots or a
	// host outside the allowed hosts; it is not read.
	ErrorCodeForbiddenTarget = "FORBIDDEN_TARGET"
	// ErrorCodeRefreshFailed says that the last refresh of a location
	// failed: the catalog serves what the one before it stored, and what
	// parts of this one it had applied (its message says).
	ErrorCodeRefreshFailed = "REFRESH_FAILED"
)

// Levels of a [ProcessingError].
const (
	LevelError   = "error"   // the entity or document could not be ingested as written
	LevelWarning = "warning" // ingested, but something is likely wrong, such as a dangling reference
)

// ProcessingError is one problem found while ingesting a location. It is
// attached to the location, and to an entity when one can be named.
type ProcessingError struct {
	Level       string // LevelError, or LevelWarning
	LocationKey string // where the problem is: "file:/path/x.yaml" or "url:https://…"
	Document    int    // index of the YAML document in the file, or -1
	Line        int    // line in the file, from 1; 0 when unknown
	EntityRef   string // canonical ref of the entity concerned, or ""
	Code        string // one of the ErrorCode constants
	Message     string
}

// DanglingReference is the warning that source, read from locationKey,
// has a relation of type typ to target, which is not in the catalog: the
// server computes it over what is stored, offline validation over the files
// it read, and both say it in these words.
func DanglingReference(locationKey, source, typ, target string) ProcessingError {
	return ProcessingError{
		Level: LevelWarning, LocationKey: locationKey, Document: -1, EntityRef: source, Code: ErrorCodeReference,
		Message: fmt.Sprintf("%s has relation %s to %s, which is not in the catalog", source, typ, target),
	}
}

// Emitted is one entity produced by ingesting a location, with everything
// a store needs to write it.
type Emitted struct {
	Entity      *Entity
	Relations   []Relation
	LocationKey string            // the file or URL it was read from (managed-by-location)
	ParentRef   string            // the Location entity whose target led to that file, or ""
	Errors      []ProcessingError // problems of this entity; none means valid
}

// RefreshStats counts what one refresh of a location did.
type RefreshStats struct {
	Emitted   int // entities read from the location
	Added     int // entities stored for the first time
	Updated   int // entities whose stored version changed
	Unchanged int // entities already stored as read
	Kept      int // invalid entities whose last good version was kept
	Orphaned  int // entities newly marked orphan
	Deleted   int // orphans deleted
	Conflicts int // entities another location already owns
	Errors    int // processing errors recorded
}

// Location is a registered location: the root a refresh starts from. Its
// target is an absolute path or glob for type "file", an http(s) URL for
// type "url".
type Location struct {
	ID     string
	Type   string
	Target string
	// Configured is true for a location the operator configured (command
	// line, greenroom.yaml, environment) and false for one registered
	// through the API. It decides what the location may emit and which
	// targets it may lead to; locations reached through its Location
	// entities keep its trust.
	Configured bool
	// Annotations are stamped on every entity it emits, over the
	// descriptors' own: the provenance of what a template's task
	// registered (template, version, task).
	Annotations map[string]string
}

// Key returns the location's "type:target" string, as Backstage writes it
// in the managed-by-location annotations.
func (l Location) Key() string { return l.Type + ":" + l.Target }

// GeneratedName is the name of the Location entity that stands for a
// registered location: "generated-" and the SHA-1 of its key, as Backstage
// names them.
func (l Location) GeneratedName() string {
	sum := sha1.Sum([]byte(l.Key()))
	return "generated-" + hex.EncodeToString(sum[:])
}

// EntityRef returns the canonical ref of the location's generated entity.
func (l Location) EntityRef() string {
	return Ref{Kind: KindLocation, Namespace: DefaultNamespace, Name: l.GeneratedName()}.String()
}

// RefreshOptions says how a refresh treats what a location stopped emitting.
type RefreshOptions struct {
	// DeleteOrphans deletes entities the location no longer emits instead of
	// marking them with the backstage.io/orphan annotation.
	DeleteOrphans bool
	// Remove removes the location itself (it left the configuration): it
	// emits nothing, its generated Location entity is deleted, and it is
	// no longer listed or refreshed.
	Remove bool
}

// ReadResult is what reading a location without storing it, or validating
// YAML, produced.
type ReadResult struct {
	Emitted []*Emitted
	Errors  []ProcessingError // every problem, those of the entities included
}
