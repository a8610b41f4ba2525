package ingest

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// PlanReader is what planning reads of what is stored: plain reads, with
// no transaction open.
type PlanReader interface {
	// StoredState returns the location's stamp and entities, and the
	// entities of other locations among refs. Returns ENOTFOUND if the
	// location has been deleted; locationID "" reads only refs.
	StoredState(ctx context.Context, locationID string, refs []string) (catalog.StoredState, error)
	// EntityData returns the stored documents of entities, by id.
	EntityData(ctx context.Context, ids []string) (map[string]string, error)
	// StoredErrors returns the location's stored processing errors that
	// name an entity, by entity ref.
	StoredErrors(ctx context.Context, locationID string) (map[string][]catalog.ProcessingError, error)
}

// readSet is what one pass over a location read, or one part of it: its
// entities, encoded, in the order the location emits them, and its
// problems.
type readSet struct {
	docs []*catalog.EntityDoc
	// errs are the problems that belong to no emitted entity.
	errs []catalog.ProcessingError
	// unreadable lists files whose earlier entities must be kept.
	unreadable []string
	// part marks a part of the pass, planned and applied while the reading
	// goes on: its documents' own changes only (see [catalog.ChangeSet.Part]).
	part bool
	// before is what the parts applied earlier in the same pass planned;
	// nil when there were none.
	before *applied
	// inputs are the files the pass depends on (see [Watcher]).
	inputs []string
}

// applied is what the parts of a pass applied so far planned: the refs
// they took, the errors of their entities, and their counts.
type applied struct {
	seen   map[string]bool
	errs   []catalog.ProcessingError
	stats  catalog.RefreshStats
	writes int
}

// add records a part's change set, planned from docs, as applied.
func (a *applied) add(docs []*catalog.EntityDoc, cs *catalog.ChangeSet) {
	for _, d := range docs {
		a.seen[d.Ref] = true
	}
	a.errs = append(a.errs, cs.Errors...)
	a.stats = cs.Stats
	a.writes += len(cs.Writes)
}

// partSize is how many documents a refresh reads before it plans and
// applies them as a part, while it reads on. Applying as it reads lets
// the database's work run beside the parsing, as it did when a refresh
// wrote inside one long transaction (10,000 entities: 4.7 s on PostgreSQL
// read then applied whole, against 3.2 s), and keeps each transaction
// short. Each commit rewrites the index pages the part touched, so smaller
// parts cost throughput: 100,000 entities took 56 s on SQLite in parts of
// 1,000, 47 s of 2,000 and 45 s of 4,000, and 40 s against 26 s on
// PostgreSQL (1,000 against 2,000); but the parts are held in memory, and
// at 10,000 entities parts of 4,000 took SQLite's peak RSS from 111 MB to
// 140 MB. Other writes do not wait for a whole part: on SQLite a part
// hands the writer over (see store.DB.ApplyChangeSet).
const partSize = 2000

// readSink is the sink of a refresh: it holds the entities as they
// arrive, encoded, and hands each full part of them to parts, when set.
type readSink struct {
	set   readSet
	parts chan<- []*catalog.EntityDoc
}

func (s *readSink) put(ctx context.Context, em *catalog.Emitted, d *catalog.EntityDoc) error {
	if d == nil {
		var err error
		if d, err = encodeEntity(em); err != nil {
			return fmt.Errorf("encode %s: %w", em.Entity.Ref(), err)
		}
	}
	s.set.docs = append(s.set.docs, d)
	if s.parts == nil || len(s.set.docs) < partSize {
		return nil
	}
	select {
	case s.parts <- s.set.docs:
		s.set.docs = nil
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// encodeEntity encodes an entity read for a refresh, with a new uid.
func encodeEntity(em *catalog.Emitted) (*catalog.EntityDoc, error) {
	return catalog.NewEntityDoc(em.Entity, uuid.NewString(), em.LocationKey, em.ParentRef, em.Relations, em.Errors)
}

func (s *readSink) fail(pe catalog.ProcessingError) { s.set.errs = append(s.set.errs, pe) }

func (s *readSink) unreadable(key string) { s.set.unreadable = append(s.set.unreadable, key) }

// dataChunk is how many stored documents planning reads at a time.
const dataChunk = 1000

// plan decides what a refresh of loc that read set changes in the
// catalog, against what r reads is stored now. It is the one place where
// ingestion's rules are decided, for refreshes and dry runs alike:
//
//   - Conflicts: the first location to emit a ref keeps it, and within a
//     location the first document; a later one gets a CONFLICT error on
//     the entity, and the stored entity stays as it is. An orphan is no
//     one's: a location that emits it takes it.
//   - Last good version: an entity that stops validating keeps its last
//     valid version, with the errors of the new one.
//   - Orphans: an entity the location stored before and no longer emits
//     is marked with backstage.io/orphan or deleted (opts.DeleteOrphans),
//     except those last read from a file or URL that could not be read
//     now, which stay as they were, with the errors of that file copied
//     onto them. A location removed (opts.Remove, with an empty set) emits
//     nothing, and its generated Location entity is deleted either way.
//
// A part of a pass (set.part) is planned for its documents alone, after
// the parts before it (set.before): conflicts, last good versions, creates
// and updates. The last set of the pass, planned with what the parts
// before it took, decides what the location stopped emitting and its
// errors.
//
// The set's documents are not consumed: when the change set turns out
// stale as it applies, planning again from the same set is right.
func plan(ctx context.Context, r PlanReader, loc catalog.Location, opts catalog.RefreshOptions, set *readSet) (*catalog.ChangeSet, error) {
	refs := make([]string, len(set.docs))
	for i, d := range set.docs {
		refs[i] = d.Ref
	}
	before := set.before
	if before == nil {
		before = &applied{}
	}
	whose := loc.ID // whose stamp and entities to read: none for a part
	if set.part {
		whose = ""
	}
	st, err := r.StoredState(ctx, whose, refs)
	if err != nil {
		return nil, err
	}
	cs := &catalog.ChangeSet{Location: loc, LocationStamp: st.LocationStamp, Part: set.part, Remove: opts.Remove, Stats: before.stats, EarlierWrites: before.writes}
	p := planner{cs: cs, r: r}
	seen := make(map[string]bool, len(set.docs))
	var entityErrs []catalog.ProcessingError
	for _, d := range set.docs {
		cs.Stats.Emitted++
		ex, found := st.Entities[d.Ref]
		earlier := seen[d.Ref] || before.seen[d.Ref]
		if earlier || (found && ex.LocationID != loc.ID && !ex.Orphan) {
			owner := ex.LocationKey
			if earlier {
				owner = "an earlier document of this location"
			} else {
				cs.Conflicts = append(cs.Conflicts, ex)
			}
			cs.Stats.Conflicts++
			entityErrs = append(entityErrs, conflictError(d, owner))
			continue
		}
		seen[d.Ref] = true
		entityErrs = append(entityErrs, d.Errors...)
		switch {
		case found && !d.Valid && ex.Valid && ex.LocationID == loc.ID:
			// The entity stopped validating: keep serving its last good version.
			cs.Stats.Kept++
			if ex.Orphan {
				p.flip(ex, false)
			}
		case found && ex.Hash == d.Hash && ex.Valid == d.Valid && !ex.Orphan && ex.LocationID == loc.ID &&
			ex.LocationKey == d.LocationKey && ex.ParentRef == d.ParentRef:
			cs.Stats.Unchanged++
		case found:
			cs.Stats.Updated++
			d.SetUID(ex.ID)
			p.update(ex, d)
		default:
			cs.Stats.Added++
			cs.Writes = append(cs.Writes, catalog.EntityWrite{Op: catalog.OpCreated, Ref: d.Ref, ID: d.UID, Etag: d.Etag, Doc: d})
		}
	}

	if set.part {
		cs.Errors = entityErrs
		return cs, p.load(ctx)
	}

	keep := make(map[string]bool, len(set.unreadable))
	for _, k := range set.unreadable {
		keep[k] = true
	}
	kept := map[string][]string{} // refs kept from each unreadable file, by key
	var own []catalog.StoredEntity
	for _, ex := range st.Entities {
		if loc.ID != "" && ex.LocationID == loc.ID && !seen[ex.Ref] && !before.seen[ex.Ref] {
			own = append(own, ex)
		}
	}
	slices.SortFunc(own, func(a, b catalog.StoredEntity) int { return strings.Compare(a.Ref, b.Ref) })
	for _, ex := range own {
		switch {
		case keep[ex.LocationKey]:
			cs.Stats.Kept++
			kept[ex.LocationKey] = append(kept[ex.LocationKey], ex.Ref)
		case opts.DeleteOrphans || (opts.Remove && ex.Ref == loc.EntityRef()):
			// A location removed takes its generated Location entity, which
			// stands for it, with it, as Backstage does.
			cs.Stats.Deleted++
			prev := ex
			cs.Writes = append(cs.Writes, catalog.EntityWrite{Op: catalog.OpDeleted, Ref: ex.Ref, ID: ex.ID, Prev: &prev})
		case !ex.Orphan:
			cs.Stats.Orphaned++
			p.flip(ex, true)
		}
	}
	if err := p.load(ctx); err != nil {
		return nil, err
	}

	cs.Errors = slices.Concat(set.errs, before.errs, entityErrs)
	cs.Stats.Errors = len(cs.Errors)
	for _, pe := range set.errs {
		if pe.Level == catalog.LevelWarning {
			continue
		}
		for _, ref := range kept[pe.LocationKey] {
			if ref != pe.EntityRef {
				c := pe
				c.EntityRef = ref
				cs.KeptErrors = append(cs.KeptErrors, c)
			}
		}
	}
	if loc.ID != "" {
		if err := errorChanges(ctx, r, cs); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

// conflictError is the error of a document whose ref owner emits already.
func conflictError(d *catalog.EntityDoc, owner string) catalog.ProcessingError {
	doc, line := -1, 0
	if len(d.Errors) > 0 {
		doc, line = d.Errors[0].Document, d.Errors[0].Line
	}
	return catalog.ProcessingError{
		Level: catalog.LevelError, LocationKey: d.LocationKey, Document: doc, Line: line, EntityRef: d.Ref,
		Code: catalog.ErrorCodeConflict,
		Message: fmt.Sprintf("Detected conflicting entityRef %s already referenced by %s and now also %s",
			d.Ref, owner, d.LocationKey),
	}
}

// planner collects the changes that need the stored documents: updates,
// whose changed paths compare them, and orphan flips, which edit them.
// The documents are read in chunks, so that a location whose every entity
// changes is not held twice.
type planner struct {
	cs      *catalog.ChangeSet
	r       PlanReader
	pending []int // indexes into cs.Writes
}

func (p *planner) update(ex catalog.StoredEntity, d *catalog.EntityDoc) {
	p.add(catalog.EntityWrite{Op: catalog.OpUpdated, Ref: d.Ref, ID: ex.ID, Etag: d.Etag, Doc: d, Prev: &ex})
}

// flip adds or removes backstage.io/orphan on a stored entity.
func (p *planner) flip(ex catalog.StoredEntity, orphan bool) {
	op := catalog.OpUnorphaned
	if orphan {
		op = catalog.OpOrphaned
	}
	p.add(catalog.EntityWrite{Op: op, Ref: ex.Ref, ID: ex.ID, Prev: &ex, Fields: []string{catalog.FieldOrphan}})
}

func (p *planner) add(c catalog.EntityWrite) {
	p.pending = append(p.pending, len(p.cs.Writes))
	p.cs.Writes = append(p.cs.Writes, c)
}

// load reads the stored documents of the pending changes and completes
// them.
func (p *planner) load(ctx context.Context) error {
	for start := 0; start < len(p.pending); start += dataChunk {
		idx := p.pending[start:min(start+dataChunk, len(p.pending))]
		ids := make([]string, len(idx))
		for i, j := range idx {
			ids[i] = p.cs.Writes[j].ID
		}
		data, err := p.r.EntityData(ctx, ids)
		if err != nil {
			return err
		}
		for _, j := range idx {
			c := &p.cs.Writes[j]
			old, ok := data[c.ID]
			if !ok {
				return fmt.Errorf("ingest: %w: %s was deleted while it was planned", catalog.ErrStale, c.Ref)
			}
			if err := p.complete(c, old); err != nil {
				return err
			}
		}
	}
	return nil
}

// complete fills in a change from the stored document old.
func (p *planner) complete(c *catalog.EntityWrite, old string) error {
	var e catalog.Entity
	if err := e.UnmarshalJSON([]byte(old)); err != nil {
		return fmt.Errorf("decode stored entity %s: %w", c.Ref, err)
	}
	if c.Op == catalog.OpUpdated {
		if prev := c.Prev; prev.Orphan && prev.LocationID == p.cs.Location.ID &&
			c.Doc.Hash == prev.Hash && c.Doc.Valid == prev.Valid && c.Doc.LocationKey == prev.LocationKey && c.Doc.ParentRef == prev.ParentRef {
			// Emitted again as it was read: only the orphan annotation goes.
			c.Op, c.Fields = catalog.OpUnorphaned, []string{catalog.FieldOrphan}
			return nil
		}
		rels, _ := catalog.Relations(&e)
		c.Fields = catalog.UpdatedFields(old, c.Doc.Data, catalog.DedupeRelations(rels), c.Doc.Relations)
		return nil
	}
	orphan := c.Op == catalog.OpOrphaned
	if orphan {
		e.SetAnnotation(catalog.AnnotationOrphan, "true")
	} else {
		delete(e.Metadata.Annotations, catalog.AnnotationOrphan)
	}
	e.Metadata.Etag = ""
	e.Metadata.Etag = e.ContentHash()
	prev := c.Prev
	d, err := catalog.NewEntityDoc(&e, prev.ID, prev.LocationKey, prev.ParentRef, nil, nil)
	if err != nil {
		return fmt.Errorf("encode %s: %w", c.Ref, err)
	}
	// The hash stays the content as read, so that the next refresh compares
	// what it reads with what was read, not with the annotation.
	d.Hash, d.Valid, d.Orphan = prev.Hash, prev.Valid, orphan
	c.Doc, c.Etag = d, d.Etag
	return nil
}

// errorChanges lists the entities whose processing errors the change set
// changes, stored or not.
func errorChanges(ctx context.Context, r PlanReader, cs *catalog.ChangeSet) error {
	old, err := r.StoredErrors(ctx, cs.Location.ID)
	if err != nil {
		return err
	}
	now := map[string][]catalog.ProcessingError{}
	for _, list := range [][]catalog.ProcessingError{cs.Errors, cs.KeptErrors} {
		for _, pe := range list {
			if pe.EntityRef != "" {
				now[pe.EntityRef] = append(now[pe.EntityRef], pe)
			}
		}
	}
	for ref := range now {
		if !sameErrors(old[ref], now[ref]) {
			cs.ErrorRefs = append(cs.ErrorRefs, ref)
		}
	}
	for ref := range old {
		if _, ok := now[ref]; !ok {
			cs.ErrorRefs = append(cs.ErrorRefs, ref)
		}
	}
	slices.Sort(cs.ErrorRefs)
	return nil
}

// sameErrors reports whether two lists hold the same errors, in any order.
func sameErrors(a, b []catalog.ProcessingError) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(pe catalog.ProcessingError) string {
		return fmt.Sprintf("%s\x00%d\x00%d\x00%s\x00%s", pe.LocationKey, pe.Document, pe.Line, pe.Code, pe.Message)
	}
	count := map[string]int{}
	for _, pe := range a {
		count[key(pe)]++
	}
	for _, pe := range b {
		k := key(pe)
		if count[k] == 0 {
			return false
		}
		count[k]--
	}
	return true
}
