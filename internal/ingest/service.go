package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Registry is what the catalog's mutations need from storage, beyond a
// refresh.
type Registry interface {
	Store
	// RegisterLocation registers a location through the API (not
	// configured: see [catalog.Location]), or returns the one registered
	// with the same type and target; created says which. with, when not
	// nil, runs in the transaction that creates it.
	RegisterLocation(ctx context.Context, typ, target string, with func(*sql.Tx, catalog.Location) error) (loc catalog.Location, created bool, err error)
	// RegisterAnnotatedLocation is RegisterLocation for a location that
	// stamps annotations on what it emits (see [catalog.Location]).
	RegisterAnnotatedLocation(ctx context.Context, typ, target string, annotations map[string]string, with func(*sql.Tx, catalog.Location) error) (loc catalog.Location, created bool, err error)
	// Location returns a registered location. Returns ENOTFOUND if there is none.
	Location(ctx context.Context, id string) (catalog.Location, error)
	// DeleteLocation removes a location and what it emitted, and returns how
	// many entities went with it. Returns ENOTFOUND if there is none.
	DeleteLocation(ctx context.Context, id string) (int, error)
	// EntityByRef returns an entity. Returns ENOTFOUND if there is none.
	EntityByRef(ctx context.Context, ref string) (*catalog.Record, error)
	// EntitiesByRefs returns the entities that exist among refs, in any order.
	EntitiesByRefs(ctx context.Context, refs []string) ([]*catalog.Record, error)
	// DeleteOrphan removes an orphaned entity and the relations it
	// originated. Returns ENOTFOUND if there is none, ECONFLICT if it is not
	// an orphan.
	DeleteOrphan(ctx context.Context, ref string) error
}

// Service carries out the catalog's mutations: registering, refreshing and
// deleting locations and entities, and validating descriptors.
type Service struct {
	engine *Engine
	// refresher refreshes a location now: the engine, or the jobs that
	// run it on whichever replica takes them (see [Service.RefreshThrough]).
	refresher Refresher
	// scheduler, with jobs, takes on the locations registered.
	scheduler Scheduler
	// jobs, when set, start refreshes that are not waited for.
	jobs Jobs
	reg  Registry
	// allowedTypes are the location types that may be registered through
	// the API; Backstage allows only url by default, since a file location
	// reads the server's own disk.
	allowedTypes []string
}

// NewService returns a service over reg that refreshes with engine.
func NewService(engine *Engine, reg Registry, allowedTypes []string) *Service {
	if len(allowedTypes) == 0 {
		allowedTypes = []string{TypeURL}
	}
	return &Service{engine: engine, refresher: engine, reg: reg, allowedTypes: allowedTypes}
}

// Refresher refreshes one location now and says how it went.
type Refresher interface {
	Refresh(ctx context.Context, loc catalog.Location) (catalog.RefreshStats, error)
}

// Scheduler takes on the refreshes of a location registered.
type Scheduler interface {
	// ScheduleRefreshTx has loc refreshed every interval from when tx
	// commits, the first time an interval from now: tx is the one that
	// stores loc, so the location and its job commit together.
	ScheduleRefreshTx(ctx context.Context, tx *sql.Tx, loc catalog.Location) error
}

// Jobs run refreshes in the background, on whichever replica takes them.
type Jobs interface {
	Refresher
	Scheduler
	// StartRefresh asks for a refresh of loc by its job without waiting
	// for it, and returns the job's id.
	StartRefresh(ctx context.Context, loc catalog.Location) (jobID string, err error)
}

// RefreshThrough makes the service's refreshes (refreshLocation,
// refreshEntity) go through j rather than the engine itself: in a server,
// the location's job, so that replicas never refresh one location twice
// at once. A location registered is refreshed by the engine at once, as it
// has no job yet, and then handed to j.
func (s *Service) RefreshThrough(j Jobs) *Service {
	s.refresher, s.scheduler, s.jobs = j, j, j
	return s
}

// RegisterLocation registers a location and refreshes it at once, or, with
// dryRun, reads it and reports what would result without storing anything.
// Returns EINVALID for a type the API may not register or a malformed
// target, ECONFLICT for a location registered already.
func (s *Service) RegisterLocation(ctx context.Context, typ, target string, dryRun bool) (*catalog.Location, catalog.ReadResult, error) {
	return s.register(ctx, typ, target, dryRun, nil)
}

// RegisterAnnotatedLocation registers a location as RegisterLocation
// does, one that stamps annotations on every entity it emits.
func (s *Service) RegisterAnnotatedLocation(ctx context.Context, typ, target string, annotations map[string]string) (*catalog.Location, error) {
	loc, _, err := s.register(ctx, typ, target, false, annotations)
	return loc, err
}

func (s *Service) register(ctx context.Context, typ, target string, dryRun bool, annotations map[string]string) (*catalog.Location, catalog.ReadResult, error) {
	typ, target = strings.TrimSpace(typ), strings.TrimSpace(target)
	if !slices.Contains(s.allowedTypes, typ) {
		return nil, catalog.ReadResult{}, portal.Errorf(portal.EINVALID, "location type %q may not be registered here; allowed: %s (catalog.registerTypes)", typ, strings.Join(s.allowedTypes, ", "))
	}
	switch typ {
	case TypeURL:
		u, err := CheckLocationURL(target)
		if err != nil {
			return nil, catalog.ReadResult{}, portal.Errorf(portal.EINVALID, "%v", err)
		}
		if !s.engine.reader.hostAllowed(u.Hostname()) {
			return nil, catalog.ReadResult{}, portal.Errorf(portal.EINVALID, "host %s is not among the hosts locations may be read from (catalog.allowedHosts)", u.Hostname())
		}
	case TypeFile:
		if !filepath.IsAbs(target) {
			return nil, catalog.ReadResult{}, portal.Errorf(portal.EINVALID, "target %q must be an absolute path", target)
		}
		target = filepath.Clean(target)
	}
	loc := catalog.Location{Type: typ, Target: target, Annotations: annotations}
	if dryRun {
		res, err := s.engine.DryRun(ctx, loc)
		return nil, res, err
	}
	var schedule func(*sql.Tx, catalog.Location) error
	if s.scheduler != nil {
		schedule = func(tx *sql.Tx, loc catalog.Location) error { return s.scheduler.ScheduleRefreshTx(ctx, tx, loc) }
	}
	stored, created, err := s.reg.RegisterAnnotatedLocation(ctx, typ, target, annotations, schedule)
	if err != nil {
		return nil, catalog.ReadResult{}, err
	}
	if !created {
		return nil, catalog.ReadResult{}, portal.Errorf(portal.ECONFLICT, "location %s is registered already, with id %s", loc.Key(), stored.ID)
	}
	// The first refresh runs here: waiting for a job to be taken would add
	// up to a poll interval to the mutation. Its job is due an interval
	// from now.
	if _, err := s.engine.Refresh(ctx, stored); err != nil {
		return &stored, catalog.ReadResult{}, err
	}
	return &stored, catalog.ReadResult{}, nil
}

// RefreshLocation reads a registered location again now. Returns ENOTFOUND
// if there is none with that id.
func (s *Service) RefreshLocation(ctx context.Context, id string) (catalog.Location, catalog.RefreshStats, error) {
	loc, err := s.reg.Location(ctx, id)
	if err != nil {
		return loc, catalog.RefreshStats{}, err
	}
	st, err := s.refresher.Refresh(ctx, loc)
	return loc, st, err
}

// StartRefreshLocation asks for a refresh of a registered location by its
// job and returns at once with the job's id. Returns ENOTFOUND if there is
// no location with that id, and EUNAVAILABLE in a process without jobs
// (a command), whose refreshes run in the call.
func (s *Service) StartRefreshLocation(ctx context.Context, id string) (catalog.Location, string, error) {
	loc, err := s.reg.Location(ctx, id)
	if err != nil {
		return loc, "", err
	}
	if s.jobs == nil {
		return loc, "", portal.Errorf(portal.EUNAVAILABLE, "this process has no background jobs: refresh and wait")
	}
	jobID, err := s.jobs.StartRefresh(ctx, loc)
	return loc, jobID, err
}

// RefreshEntity reads the location of an entity again now and returns the
// fresh entity. Returns ENOTFOUND if the entity does not exist, before or
// after the refresh.
func (s *Service) RefreshEntity(ctx context.Context, ref string) (*catalog.Record, catalog.RefreshStats, error) {
	rec, err := s.reg.EntityByRef(ctx, ref)
	if err != nil {
		return nil, catalog.RefreshStats{}, err
	}
	_, st, err := s.RefreshLocation(ctx, rec.LocationID)
	if err != nil {
		return nil, st, err
	}
	rec, err = s.reg.EntityByRef(ctx, ref)
	return rec, st, err
}

// StartRefreshEntity asks for a refresh of the location of an entity by
// its job, and returns at once with the entity as it is now and the job's
// id (see [Service.StartRefreshLocation]).
func (s *Service) StartRefreshEntity(ctx context.Context, ref string) (*catalog.Record, string, error) {
	rec, err := s.reg.EntityByRef(ctx, ref)
	if err != nil {
		return nil, "", err
	}
	_, jobID, err := s.StartRefreshLocation(ctx, rec.LocationID)
	return rec, jobID, err
}

// DeleteLocation unregisters a location and removes what it emitted.
func (s *Service) DeleteLocation(ctx context.Context, id string) (int, error) {
	return s.reg.DeleteLocation(ctx, id)
}

// DeleteEntity removes an orphaned entity. An entity its location still
// emits would come back on the next refresh, so deleting one is refused
// with ECONFLICT, naming the file to change.
func (s *Service) DeleteEntity(ctx context.Context, ref string) error {
	rec, err := s.reg.EntityByRef(ctx, ref)
	if err != nil {
		return err
	}
	if !rec.Orphan {
		e, err := rec.Entity()
		if err != nil {
			return err
		}
		return portal.Errorf(portal.ECONFLICT,
			"%s is still emitted by %s (location %s), so it would come back on the next refresh: remove it from that file, or delete the location",
			rec.Ref, e.Metadata.Annotations[catalog.AnnotationManagedByLocation], rec.LocationID)
	}
	return s.reg.DeleteOrphan(ctx, ref)
}

// ValidateYAML checks descriptor documents as ingestion would, offline and
// without storing anything: it reads no file and no URL, so placeholders
// fail and Location entities are not followed. The YAML comes from the API,
// so it is held to the rules of a location registered through the API, but
// as warnings, since the same YAML may be meant for a configured location:
// an entity of a kind such a location may not emit, and a Location entity
// naming files, which a URL location may not lead to.
// Anyone may call it, so what the documents expand to together is bounded
// by twice the file size limit, the JSON of a descriptor being rarely
// larger than its YAML: YAML that expands further is refused with EINVALID.
func (s *Service) ValidateYAML(ctx context.Context, data []byte) (catalog.ReadResult, error) {
	maxSize := s.engine.reader.maxSize
	if int64(len(data)) > maxSize {
		return catalog.ReadResult{}, portal.Errorf(portal.EINVALID, "the YAML is over the size limit of %d bytes", maxSize)
	}
	r := newReader(nil, maxSize)
	r.offline = true
	c := &collector{seen: map[string]string{}, read: map[string]bool{}}
	const key = typeInline + ":input"
	lim := s.engine.limits()
	lim.location = 2 * maxSize
	run := newRun(r, s.engine.rules, lim, catalog.Location{Type: typeInline, Target: "input"}, c)
	for d := range ParseYAML(data, lim.entity) {
		pd, err := run.process(ctx, typeInline, "input", key, d)
		if err != nil {
			return catalog.ReadResult{}, portal.Errorf(portal.EINVALID, "the YAML is over the size limit: its documents expand to more than %d bytes together", lim.location)
		}
		for _, pe := range pd.errs {
			c.fail(pe)
		}
		if pd.emitted == nil {
			continue
		}
		if pe := run.forbidden(typeInline, "input", key, pd.emitted); pe != nil {
			pe.Level, pe.Document, pe.Line = catalog.LevelWarning, d.Index, d.LineOf("kind")
			pd.emitted.Errors = append(pd.emitted.Errors, *pe)
		}
		if e := pd.emitted.Entity; e.Kind == catalog.KindLocation && e.SpecString("type") == TypeFile {
			pd.emitted.Errors = append(pd.emitted.Errors, catalog.ProcessingError{Level: catalog.LevelWarning, LocationKey: key,
				Document: d.Index, Line: d.LineOf("spec.type"), EntityRef: e.Ref().String(), Code: catalog.ErrorCodeForbiddenTarget,
				Message: "file targets are not followed here, and " + leadsTo(TypeURL, TypeFile).Error()})
		}
		c.put(ctx, pd.emitted, nil)
	}
	return catalog.ReadResult{Emitted: c.emitted, Errors: c.result.Problems}, nil
}

// DryRun reads a location as a refresh would and returns what it emits,
// storing nothing: the entities it emits, with the errors a refresh would
// record, conflicts with what other locations emit included, planned by
// the same rules as a refresh.
func (e *Engine) DryRun(ctx context.Context, loc catalog.Location) (catalog.ReadResult, error) {
	ctx, cancel := context.WithCancel(ctx) // stops the workers of a pass that ends early
	defer cancel()
	c := &collector{seen: map[string]string{}, read: map[string]bool{}}
	if err := newRun(e.reader, e.rules, e.limits(), loc, c).walk(ctx); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return catalog.ReadResult{}, err
		}
		var tooLarge *locationTooLarge
		if errors.As(err, &tooLarge) {
			return catalog.ReadResult{}, portal.Errorf(portal.EINVALID, "%s (catalog.maxLocationSize)", tooLarge.Error())
		}
		return catalog.ReadResult{}, fmt.Errorf("ingest: dry run of %s: %w", loc.Key(), err)
	}
	res := catalog.ReadResult{Emitted: c.emitted, Errors: c.result.Problems}
	set := &readSet{docs: make([]*catalog.EntityDoc, len(c.emitted))}
	byRef := make(map[string]*catalog.Emitted, len(c.emitted))
	for i, em := range c.emitted {
		ent := *em.Entity // encoding sets uid and etag, which a dry run does not show
		d, err := catalog.NewEntityDoc(&ent, "", em.LocationKey, em.ParentRef, em.Relations, em.Errors)
		if err != nil {
			return catalog.ReadResult{}, fmt.Errorf("ingest: dry run of %s: encode %s: %w", loc.Key(), ent.Ref(), err)
		}
		set.docs[i], byRef[d.Ref] = d, em
	}
	cs, err := plan(ctx, e.store, loc, catalog.RefreshOptions{DeleteOrphans: e.opts.DeleteOrphans}, set)
	if err != nil {
		return catalog.ReadResult{}, fmt.Errorf("ingest: dry run of %s: %w", loc.Key(), err)
	}
	for _, pe := range cs.Errors {
		if em := byRef[pe.EntityRef]; em != nil && pe.Code == catalog.ErrorCodeConflict {
			em.Errors = append(em.Errors, pe)
			res.Errors = append(res.Errors, pe)
		}
	}
	return res, nil
}
