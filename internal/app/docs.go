package app

import (
	"bytes"
	"context"

	"github.com/greenroomhq/greenroom/internal/access"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// DocsStore reads built docs sites: internal/store.
type DocsStore interface {
	DocsSite(ctx context.Context, ref string) (*portal.DocsSite, error)
	DocsPage(ctx context.Context, ref, path string) (*portal.DocsPage, error)
	DocsPages(ctx context.Context, ref string) ([]portal.DocsPage, error)
	DocsAsset(ctx context.Context, ref, path string) (*portal.DocsAsset, error)
	DocsAssetPaths(ctx context.Context, ref string) ([]string, error)
}

// DocsQueue builds docs as jobs: internal/jobs.
type DocsQueue interface {
	BuildDocs(ctx context.Context, refs ...string) error
}

// Docs serves entities' TechDocs: reading them needs reading the entity,
// asking for a build needs catalog.entity.refresh on it.
type Docs struct {
	guard *access.Guard
	store DocsStore
	queue DocsQueue
	audit auditor
}

// Site returns the docs of an entity the caller has read: nil when it has
// no docs annotation; a site without pages (Status "") while no build has
// ended.
func (d *Docs) Site(ctx context.Context, rec *catalog.Record) (*portal.DocsSite, error) {
	return SiteOf(ctx, rec, func(ctx context.Context, ref string) (*portal.DocsSite, error) {
		site, err := d.store.DocsSite(ctx, ref)
		if portal.ErrorCode(err) == portal.ENOTFOUND {
			return nil, nil
		}
		return site, err
	})
}

// SiteOf returns the docs of an entity the caller has read, the stored
// site read with stored (nil when there is none): nil when the entity
// has no docs annotation; a site without pages (Status "") while no build
// has ended. Resolvers read the sites of a list's entities together.
func SiteOf(ctx context.Context, rec *catalog.Record, stored func(ctx context.Context, ref string) (*portal.DocsSite, error)) (*portal.DocsSite, error) {
	if !HasDocs(rec) {
		return nil, nil
	}
	site, err := stored(ctx, rec.Ref)
	if err == nil && site == nil {
		site = &portal.DocsSite{EntityRef: rec.Ref}
	}
	return site, err
}

// HasDocs reports whether an entity has a docs annotation; most do not,
// and are told apart without decoding them.
func HasDocs(rec *catalog.Record) bool {
	if !bytes.Contains(rec.Data, []byte(catalog.AnnotationTechDocsRef)) {
		return false
	}
	e, err := rec.Entity()
	return err == nil && e.Metadata.Annotations[catalog.AnnotationTechDocsRef] != ""
}

// EntityOf reads an entity as the caller: ENOTFOUND for one it may not
// read.
func (d *Docs) EntityOf(ctx context.Context, ref string) (*catalog.Record, error) {
	return d.guard.EntityByRef(ctx, ref)
}

// SiteOf reads an entity as the caller, then its docs: ENOTFOUND for an
// entity it may not read, or one without docs.
func (d *Docs) SiteOf(ctx context.Context, ref string) (*portal.DocsSite, error) {
	rec, err := d.guard.EntityByRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	site, err := d.Site(ctx, rec)
	if err == nil && site == nil {
		err = portal.Errorf(portal.ENOTFOUND, "%s has no docs", rec.Ref)
	}
	return site, err
}

// Page returns a page of a site the caller got from Site or SiteOf.
func (d *Docs) Page(ctx context.Context, site *portal.DocsSite, path string) (*portal.DocsPage, error) {
	return d.store.DocsPage(ctx, site.EntityRef, path)
}

// Pages returns the pages of a site the caller got from Site or SiteOf.
func (d *Docs) Pages(ctx context.Context, site *portal.DocsSite) ([]portal.DocsPage, error) {
	return d.store.DocsPages(ctx, site.EntityRef)
}

// Asset returns a file of a site the caller got from Site or SiteOf.
func (d *Docs) Asset(ctx context.Context, site *portal.DocsSite, path string) (*portal.DocsAsset, error) {
	return d.store.DocsAsset(ctx, site.EntityRef, path)
}

// AssetPaths lists the files of a site the caller got from Site or
// SiteOf that are not pages.
func (d *Docs) AssetPaths(ctx context.Context, site *portal.DocsSite) ([]string, error) {
	return d.store.DocsAssetPaths(ctx, site.EntityRef)
}

// Refresh asks for a build of an entity's docs now and returns them as
// they are. It needs catalog.entity.refresh on the entity.
func (d *Docs) Refresh(ctx context.Context, ref string) (site *portal.DocsSite, err error) {
	canonical, perr := parseRef(ref)
	defer d.audit.record(ctx, "refreshDocs", canonical, map[string]any{"ref": ref}, &err)
	if err := perr; err != nil {
		return nil, err
	}
	if err := d.guard.RequireOn(ctx, policy.EntityRefresh, canonical); err != nil {
		return nil, err
	}
	if site, err = d.SiteOf(ctx, canonical); err != nil {
		return nil, err
	}
	if d.queue == nil {
		return nil, portal.Errorf(portal.EUNAVAILABLE, "this process builds no docs")
	}
	return site, d.queue.BuildDocs(ctx, canonical)
}
