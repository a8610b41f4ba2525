// Package catalog is the Backstage descriptor model as Greenroom reads it:
// entities and their envelope, entity references, the validation rules of
// each field and kind, and the relations each kind emits.
//
// The rules follow Backstage's catalog-model package exactly (see
// shared/backstage-spec.md §1), with one deliberate difference: an entity of
// a kind Greenroom does not know is kept as a generic entity when its
// envelope is valid, where Backstage rejects it.
//
// It imports only the standard library and internal/portal, and does no I/O.
package catalog
