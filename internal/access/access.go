// Package access applies the permission policy to everything the API reads
// and changes, for the caller in the request's context: reads of entities
// are narrowed by SQL filters, so lists, counts, facets, traversals and
// related fields hold only what the caller may see; changes are decided one
// by one ([Guard.Require], [Guard.RequireOn]) by the services of
// internal/app, and refused with FORBIDDEN and the policy's reason.
//
// Every read that can show an entity's ref or content is narrowed by the
// read policy, processing errors included: an error names an entity and
// tells of its content, so it shows only to those who may read that entity
// (an error naming no entity is about a file, and shows to whoever may read
// locations). An entity's relations are part of the entity, as in
// Backstage, so they show their targets' refs to its readers; the targets
// themselves are read through the guard.
//
// Guard sits between the services and the store, so neither resolvers nor
// commands make permission decisions and every transport gets the same
// ones.
//
// It imports internal/catalog, internal/policy, internal/audit and
// internal/portal.
package access

import (
	"context"
	"time"

	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Store is the catalog storage the guard reads through.
type Store interface {
	EntityByRef(ctx context.Context, ref string) (*catalog.Record, error)
	EntitiesByRefs(ctx context.Context, refs []string) ([]*catalog.Record, error)
	EntitiesByRefsWhere(ctx context.Context, refs []string, f catalog.EntityFilter) ([]*catalog.Record, error)
	FindEntities(ctx context.Context, q catalog.EntityQuery) (catalog.EntityPage, error)
	CountEntities(ctx context.Context, f catalog.EntityFilter) (int, error)
	Traverse(ctx context.Context, q catalog.TraversalQuery) (catalog.TraversalPage, error)
	Facet(ctx context.Context, facet string, f catalog.EntityFilter) ([]catalog.FacetValue, error)
	PathFacet(ctx context.Context, path string, f catalog.EntityFilter) ([]catalog.FacetValue, error)
	ScanEntities(ctx context.Context, f catalog.EntityFilter, after string, limit int) ([]*catalog.Record, []catalog.RelationRow, error)
	Locations(ctx context.Context) ([]catalog.Location, error)
	Location(ctx context.Context, id string) (catalog.Location, error)
	LocationErrors(ctx context.Context, id string) ([]catalog.ProcessingError, error)
	LocationErrorsWhere(ctx context.Context, id string, f catalog.EntityFilter) ([]catalog.ProcessingError, error)
	LocationsByIDs(ctx context.Context, ids []string) ([]catalog.Location, error)
	RelationsBySources(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error)
	RelationsByTargets(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error)
	EntityErrors(ctx context.Context, refs []string) (map[string][]catalog.ProcessingError, error)
	EntityErrorsWhere(ctx context.Context, refs []string, f catalog.EntityFilter) (map[string][]catalog.ProcessingError, error)
	AuditEvents(ctx context.Context, f audit.Filter, after string, limit int) ([]audit.Event, bool, error)
	EntityHistory(ctx context.Context, ref string, before int64, limit int) ([]catalog.Version, error)
	EntityAsOf(ctx context.Context, ref string, t time.Time) (*catalog.Version, error)
	LastContent(ctx context.Context, ref string) (*catalog.Version, error)
	DocsSites(ctx context.Context, refs []string) (map[string]*portal.DocsSite, error)
}

// Policies gives the policy in force; it changes when its file does.
type Policies interface {
	Current() *policy.Policy
}

// Guard checks the caller's permissions on every read and change.
type Guard struct {
	store    Store
	policies Policies
}

// New returns a guard over store that applies the policies.
func New(store Store, policies Policies) *Guard {
	return &Guard{store: store, policies: policies}
}

// visible returns the filter of the entities the caller may read, and
// whether it may read none at all.
func (g *Guard) visible(ctx context.Context) (f *catalog.EntityFilter, none bool) {
	vf, all, none := g.policies.Current().Filter(policy.EntityRead, portal.PrincipalFromContext(ctx))
	if all || none {
		return nil, none
	}
	return &vf, false
}

// narrow returns f restricted to what the caller may read.
func (g *Guard) narrow(ctx context.Context, f catalog.EntityFilter) (catalog.EntityFilter, bool) {
	vf, none := g.visible(ctx)
	if none {
		return f, false
	}
	if vf == nil {
		return f, true
	}
	return catalog.EntityFilter{And: []catalog.EntityFilter{f, *vf}}, true
}

// Require returns FORBIDDEN, with the policy's reason, unless the caller
// may use perm on r (nil for a permission about no entity).
func (g *Guard) Require(ctx context.Context, perm string, r *policy.Resource) error {
	d := g.policies.Current().Decide(perm, portal.PrincipalFromContext(ctx), r)
	if !d.Allowed {
		return portal.Errorf(portal.EFORBIDDEN, "%s", d.Reason)
	}
	return nil
}

// RequireOn returns FORBIDDEN unless the caller may use perm on the entity
// ref, which it must be able to read: one it may not read is not found
// (ENOTFOUND), as if it did not exist.
func (g *Guard) RequireOn(ctx context.Context, perm, ref string) error {
	rec, err := g.EntityByRef(ctx, ref)
	if err != nil {
		return err
	}
	r, err := g.resource(ctx, rec)
	if err != nil {
		return err
	}
	return g.Require(ctx, perm, r)
}

// RequireOnLocation returns FORBIDDEN unless the caller may use perm on
// the Location entity of the location id: acting on a location acts on
// what it emits. Returns ENOTFOUND for a location the caller cannot see.
func (g *Guard) RequireOnLocation(ctx context.Context, perm, id string) error {
	loc, err := g.Location(ctx, id)
	if err != nil {
		return err
	}
	r := &policy.Resource{Ref: loc.EntityRef(), Kind: catalog.KindLocation, Namespace: catalog.DefaultNamespace}
	if rec, err := g.EntityByRef(ctx, loc.EntityRef()); err == nil {
		if r, err = g.resource(ctx, rec); err != nil {
			return err
		}
	} else if portal.ErrorCode(err) != portal.ENOTFOUND {
		return err
	}
	return g.Require(ctx, perm, r)
}

// resource returns what the policy checks of an entity: its metadata and
// the owners its ownedBy relations name.
func (g *Guard) resource(ctx context.Context, rec *catalog.Record) (*policy.Resource, error) {
	e, err := rec.Entity()
	if err != nil {
		return nil, err
	}
	rows, err := g.store.RelationsBySources(ctx, []string{rec.Ref}, []string{catalog.RelationOwnedBy})
	if err != nil {
		return nil, err
	}
	owners := make([]string, len(rows))
	for i, r := range rows {
		owners[i] = r.Target
	}
	return policy.EntityResource(e, owners), nil
}

// EntityByRef returns an entity the caller may read. Returns ENOTFOUND for
// one it may not, as for one that does not exist.
func (g *Guard) EntityByRef(ctx context.Context, ref string) (*catalog.Record, error) {
	recs, err := g.EntitiesByRefs(ctx, []string{ref})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, portal.Errorf(portal.ENOTFOUND, "no entity %s", ref)
	}
	return recs[0], nil
}

// EntitiesByRefs returns the entities among refs that exist and that the
// caller may read, in any order.
func (g *Guard) EntitiesByRefs(ctx context.Context, refs []string) ([]*catalog.Record, error) {
	vf, none := g.visible(ctx)
	if none {
		return nil, nil
	}
	if vf == nil {
		return g.store.EntitiesByRefs(ctx, refs)
	}
	return g.store.EntitiesByRefsWhere(ctx, refs, *vf)
}

// EntitiesMatching returns the entities among refs that f selects and the
// caller may read, in any order, read past the cache.
func (g *Guard) EntitiesMatching(ctx context.Context, refs []string, f catalog.EntityFilter) ([]*catalog.Record, error) {
	f, ok := g.narrow(ctx, f)
	if !ok {
		return nil, nil
	}
	return g.store.EntitiesByRefsWhere(ctx, refs, f)
}

// DocsSites returns the built docs sites of refs, by ref. It decides
// nothing: its callers (the loaders) ask only for the docs of entities
// the caller has read through the guard, whose docs it may read.
func (g *Guard) DocsSites(ctx context.Context, refs []string) (map[string]*portal.DocsSite, error) {
	return g.store.DocsSites(ctx, refs)
}

// Policy returns the policy in force.
func (g *Guard) Policy() *policy.Policy { return g.policies.Current() }

// ReadFilter returns f narrowed to what the caller may read, and false when
// it may read nothing: two callers with the same narrowed filter see the
// same entities, which lets subscriptions share their reads. It also
// returns the policy it was decided by: for one caller and f, the result
// changes only when the policy does.
func (g *Guard) ReadFilter(ctx context.Context, f catalog.EntityFilter) (catalog.EntityFilter, bool, *policy.Policy) {
	pol := g.policies.Current()
	vf, all, none := pol.Filter(policy.EntityRead, portal.PrincipalFromContext(ctx))
	switch {
	case none:
		return f, false, pol
	case all:
		return f, true, pol
	}
	return catalog.EntityFilter{And: []catalog.EntityFilter{f, vf}}, true, pol
}

// FindEntities returns a page of the entities q selects that the caller may
// read.
func (g *Guard) FindEntities(ctx context.Context, q catalog.EntityQuery) (catalog.EntityPage, error) {
	f, ok := g.narrow(ctx, q.Filter)
	if !ok {
		return catalog.EntityPage{}, nil
	}
	q.Filter = f
	return g.store.FindEntities(ctx, q)
}

// CountEntities counts the entities f selects that the caller may read.
func (g *Guard) CountEntities(ctx context.Context, f catalog.EntityFilter) (int, error) {
	f, ok := g.narrow(ctx, f)
	if !ok {
		return 0, nil
	}
	return g.store.CountEntities(ctx, f)
}

// Traverse walks relations through the entities the caller may read only.
func (g *Guard) Traverse(ctx context.Context, q catalog.TraversalQuery) (catalog.TraversalPage, error) {
	vf, none := g.visible(ctx)
	if none {
		return catalog.TraversalPage{}, nil
	}
	q.Visible = vf
	return g.store.Traverse(ctx, q)
}

// Facet counts the values of a facet over the entities the caller may read.
func (g *Guard) Facet(ctx context.Context, facet string, f catalog.EntityFilter) ([]catalog.FacetValue, error) {
	f, ok := g.narrow(ctx, f)
	if !ok {
		return nil, nil
	}
	return g.store.Facet(ctx, facet, f)
}

// PathFacet counts the values of the field at a Backstage path over the
// entities the caller may read.
func (g *Guard) PathFacet(ctx context.Context, path string, f catalog.EntityFilter) ([]catalog.FacetValue, error) {
	f, ok := g.narrow(ctx, f)
	if !ok {
		return nil, nil
	}
	return g.store.PathFacet(ctx, path, f)
}

// ScanEntities returns, in ref order, up to limit of the entities f
// selects after the ref after that the caller may read, with their
// relations, for an export that pages through the catalog.
func (g *Guard) ScanEntities(ctx context.Context, f catalog.EntityFilter, after string, limit int) ([]*catalog.Record, []catalog.RelationRow, error) {
	f, ok := g.narrow(ctx, f)
	if !ok {
		return nil, nil, nil
	}
	return g.store.ScanEntities(ctx, f, after, limit)
}

// Locations returns every registered location. Returns EFORBIDDEN when the
// caller may not read locations.
func (g *Guard) Locations(ctx context.Context) ([]catalog.Location, error) {
	if err := g.Require(ctx, policy.LocationRead, nil); err != nil {
		return nil, err
	}
	return g.store.Locations(ctx)
}

// Location returns a registered location. Returns EFORBIDDEN when the
// caller may not read locations.
func (g *Guard) Location(ctx context.Context, id string) (catalog.Location, error) {
	if err := g.Require(ctx, policy.LocationRead, nil); err != nil {
		return catalog.Location{}, err
	}
	return g.store.Location(ctx, id)
}

// LocationErrors returns a location's problems: those about its files, and
// those about the entities the caller may read. A problem names an entity
// and tells of its content, so it is the entity's to show. Returns
// EFORBIDDEN when the caller may not read locations.
func (g *Guard) LocationErrors(ctx context.Context, id string) ([]catalog.ProcessingError, error) {
	if err := g.Require(ctx, policy.LocationRead, nil); err != nil {
		return nil, err
	}
	vf, none := g.visible(ctx)
	switch {
	case none:
		return g.store.LocationErrorsWhere(ctx, id, noEntity)
	case vf == nil:
		return g.store.LocationErrors(ctx, id)
	}
	return g.store.LocationErrorsWhere(ctx, id, *vf)
}

// noEntity selects no entity: NOT of the filter that selects them all.
var noEntity = catalog.EntityFilter{Not: &catalog.EntityFilter{}}

// LocationsByIDs returns the registered locations among ids, or none when
// the caller may not read locations: an entity's sourceLocation is then
// null rather than an error on every item of a list.
func (g *Guard) LocationsByIDs(ctx context.Context, ids []string) ([]catalog.Location, error) {
	if g.Require(ctx, policy.LocationRead, nil) != nil {
		return nil, nil
	}
	return g.store.LocationsByIDs(ctx, ids)
}

// RelationsBySources returns relations from refs. The relations of an
// entity are part of what reading it shows, as in Backstage; the entities
// they name are read through the guard.
func (g *Guard) RelationsBySources(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error) {
	return g.store.RelationsBySources(ctx, refs, types)
}

// RelationsByTargets returns relations to refs, from the entities the
// caller may read only: who points at an entity is the pointer's data.
func (g *Guard) RelationsByTargets(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error) {
	rows, err := g.store.RelationsByTargets(ctx, refs, types)
	if err != nil {
		return nil, err
	}
	vf, none := g.visible(ctx)
	if none {
		return nil, nil
	}
	if vf == nil || len(rows) == 0 {
		return rows, nil
	}
	sources := make([]string, 0, len(rows))
	for _, r := range rows {
		sources = append(sources, r.Source)
	}
	seen, err := g.store.EntitiesByRefsWhere(ctx, sources, *vf)
	if err != nil {
		return nil, err
	}
	ok := make(map[string]bool, len(seen))
	for _, r := range seen {
		ok[r.Ref] = true
	}
	kept := rows[:0]
	for _, r := range rows {
		if ok[r.Source] {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// EntityErrors returns the processing errors of the entities among refs
// that the caller may read. Callers pass entities read through the guard,
// but the problems of an entity are its content, so they are filtered
// again rather than trusted to the caller.
func (g *Guard) EntityErrors(ctx context.Context, refs []string) (map[string][]catalog.ProcessingError, error) {
	vf, none := g.visible(ctx)
	switch {
	case none:
		return map[string][]catalog.ProcessingError{}, nil
	case vf == nil:
		return g.store.EntityErrors(ctx, refs)
	}
	return g.store.EntityErrorsWhere(ctx, refs, *vf)
}

// AuditEvents lists the audit log. Returns EFORBIDDEN unless the caller may
// read it.
func (g *Guard) AuditEvents(ctx context.Context, f audit.Filter, after string, limit int) ([]audit.Event, bool, error) {
	if err := g.Require(ctx, policy.AuditRead, nil); err != nil {
		return nil, false, err
	}
	return g.store.AuditEvents(ctx, f, after, limit)
}

// Explain returns the decision the policy makes for the caller on perm,
// about the entity ref when the permission is about an entity and ref is
// not "". An entity the caller may not read is reported as not found.
func (g *Guard) Explain(ctx context.Context, perm, ref string) (policy.Decision, error) {
	var r *policy.Resource
	if ref != "" {
		rec, err := g.EntityByRef(ctx, ref)
		if err != nil {
			return policy.Decision{}, err
		}
		if r, err = g.resource(ctx, rec); err != nil {
			return policy.Decision{}, err
		}
	}
	return g.policies.Current().Decide(perm, portal.PrincipalFromContext(ctx), r), nil
}

// EntityHistory returns the versions of the entity ref (canonical), newest
// first, numbered below before (0: from the newest), at most limit of
// them. The history of an entity shows to those who may read the entity
// as it is now or, once it is deleted, as it last was; to others it is not
// found, as the entity is not.
func (g *Guard) EntityHistory(ctx context.Context, ref string, before int64, limit int) ([]catalog.Version, error) {
	if err := g.mayReadHistory(ctx, ref); err != nil {
		return nil, err
	}
	return g.store.EntityHistory(ctx, ref, before, limit)
}

// EntityAsOf returns the version of the entity ref (canonical) in force at
// t, to those who may read its history. Returns ENOTFOUND when it did not
// exist then.
func (g *Guard) EntityAsOf(ctx context.Context, ref string, t time.Time) (*catalog.Version, error) {
	if err := g.mayReadHistory(ctx, ref); err != nil {
		return nil, err
	}
	v, err := g.store.EntityAsOf(ctx, ref, t)
	if err != nil {
		return nil, err
	}
	if v.Data == nil {
		return nil, portal.Errorf(portal.ENOTFOUND, "%s was deleted at %s", ref, v.At.Format(time.RFC3339))
	}
	return v, nil
}

// mayReadHistory returns ENOTFOUND unless the caller may read the entity
// ref as it is now or, when it no longer exists, as it last was.
func (g *Guard) mayReadHistory(ctx context.Context, ref string) error {
	_, err := g.EntityByRef(ctx, ref)
	if portal.ErrorCode(err) != portal.ENOTFOUND {
		return err
	}
	notFound := portal.Errorf(portal.ENOTFOUND, "no entity %s", ref)
	switch _, err := g.store.EntityByRef(ctx, ref); {
	case err == nil:
		return notFound // there, and not for the caller
	case portal.ErrorCode(err) != portal.ENOTFOUND:
		return err
	}
	v, err := g.store.LastContent(ctx, ref)
	if err != nil {
		return err
	}
	rec, err := v.Record()
	if err != nil {
		return err
	}
	e, err := rec.Entity()
	if err != nil {
		return err
	}
	rels, _ := catalog.Relations(e)
	var owners []string
	for _, r := range rels {
		if r.Type == catalog.RelationOwnedBy && r.Source.String() == rec.Ref {
			owners = append(owners, r.Target.String())
		}
	}
	if !g.policies.Current().Decide(policy.EntityRead, portal.PrincipalFromContext(ctx), policy.EntityResource(e, owners)).Allowed {
		return notFound
	}
	return nil
}
