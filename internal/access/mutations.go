package access

import (
	"context"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Ingest carries out the catalog's mutations, unchecked.
type Ingest interface {
	RegisterLocation(ctx context.Context, typ, target string, dryRun bool) (*catalog.Location, catalog.ReadResult, error)
	RefreshLocation(ctx context.Context, id string) (catalog.Location, catalog.RefreshStats, error)
	RefreshEntity(ctx context.Context, ref string) (*catalog.Record, error)
	DeleteLocation(ctx context.Context, id string) (int, error)
	DeleteEntity(ctx context.Context, ref string) error
	ValidateYAML(ctx context.Context, data []byte) (catalog.ReadResult, error)
}

// Mutations are the catalog's mutations, each allowed by the policy first.
type Mutations struct {
	guard  *Guard
	ingest Ingest
}

// Mutations returns ingest's mutations, checked by g.
func (g *Guard) Mutations(ingest Ingest) *Mutations {
	return &Mutations{guard: g, ingest: ingest}
}

// RegisterLocation needs catalog.location.create, dry run or not: a dry run
// reads the target as the server, which is what the permission guards.
func (m *Mutations) RegisterLocation(ctx context.Context, typ, target string, dryRun bool) (*catalog.Location, catalog.ReadResult, error) {
	if err := m.guard.require(ctx, policy.LocationCreate, nil); err != nil {
		return nil, catalog.ReadResult{}, err
	}
	return m.ingest.RegisterLocation(ctx, typ, target, dryRun)
}

// RefreshLocation needs catalog.entity.refresh on the location's Location
// entity: refreshing a location refreshes what it emits.
func (m *Mutations) RefreshLocation(ctx context.Context, id string) (catalog.Location, catalog.RefreshStats, error) {
	loc, err := m.guard.Location(ctx, id)
	if err != nil {
		return catalog.Location{}, catalog.RefreshStats{}, err
	}
	r := &policy.Resource{Ref: loc.EntityRef(), Kind: catalog.KindLocation, Namespace: catalog.DefaultNamespace}
	if rec, err := m.guard.EntityByRef(ctx, loc.EntityRef()); err == nil {
		if r, err = m.guard.resource(ctx, rec); err != nil {
			return catalog.Location{}, catalog.RefreshStats{}, err
		}
	} else if portal.ErrorCode(err) != portal.ENOTFOUND {
		return catalog.Location{}, catalog.RefreshStats{}, err
	}
	if err := m.guard.require(ctx, policy.EntityRefresh, r); err != nil {
		return catalog.Location{}, catalog.RefreshStats{}, err
	}
	return m.ingest.RefreshLocation(ctx, id)
}

// RefreshEntity needs catalog.entity.refresh on the entity.
func (m *Mutations) RefreshEntity(ctx context.Context, ref string) (*catalog.Record, error) {
	if err := m.requireOn(ctx, policy.EntityRefresh, ref); err != nil {
		return nil, err
	}
	return m.ingest.RefreshEntity(ctx, ref)
}

// DeleteLocation needs catalog.location.delete.
func (m *Mutations) DeleteLocation(ctx context.Context, id string) (int, error) {
	if err := m.guard.require(ctx, policy.LocationDelete, nil); err != nil {
		return 0, err
	}
	return m.ingest.DeleteLocation(ctx, id)
}

// DeleteEntity needs catalog.entity.delete on the entity.
func (m *Mutations) DeleteEntity(ctx context.Context, ref string) error {
	if err := m.requireOn(ctx, policy.EntityDelete, ref); err != nil {
		return err
	}
	return m.ingest.DeleteEntity(ctx, ref)
}

// ValidateYAML needs no permission: it reads nothing but its argument and
// changes nothing.
func (m *Mutations) ValidateYAML(ctx context.Context, data []byte) (catalog.ReadResult, error) {
	return m.ingest.ValidateYAML(ctx, data)
}

// requireOn checks perm on the entity ref, which the caller must be able to
// read: one it may not read is not found, as if it did not exist.
func (m *Mutations) requireOn(ctx context.Context, perm, ref string) error {
	rec, err := m.guard.EntityByRef(ctx, ref)
	if err != nil {
		return err
	}
	r, err := m.guard.resource(ctx, rec)
	if err != nil {
		return err
	}
	return m.guard.require(ctx, perm, r)
}
