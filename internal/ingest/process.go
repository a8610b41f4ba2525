package ingest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// maxDepth bounds how deep Location entities may nest.
const maxDepth = 32

// sink receives the results of one location's refresh.
type sink interface {
	// put takes the location's entities in the order it emits them, each
	// with what the run's encode made of it on the worker that parsed it
	// (nil when the run has no encode, and for the generated Location).
	put(ctx context.Context, e *catalog.Emitted, doc *catalog.EntityDoc) error
	fail(pe catalog.ProcessingError)
	// unreadable marks a file or URL that exists but could not be read or
	// holds a document that names no entity: what it emitted before is kept.
	unreadable(key string)
}

// Defaults of [Options.MaxEntitySize] and [Options.MaxLocationSize].
const (
	// DefaultMaxEntitySize is Backstage-sized: room for any descriptor and a
	// large API definition read through $text.
	DefaultMaxEntitySize = 1 << 20
	// DefaultMaxLocationSize is room for the largest catalogs known, some
	// 100,000 entities of a couple of kilobytes each, in one location.
	DefaultMaxLocationSize = 256 << 20
)

// limits bound the bytes that documents expand to, as [Document.Size]
// counts them, before the memory is spent.
type limits struct {
	entity   int64 // one entity, aliases expanded and placeholders substituted
	location int64 // every entity one pass over a location produces
}

// locationTooLarge ends a pass whose entities together are over the
// location limit.
type locationTooLarge struct{ limit int64 }

func (e *locationTooLarge) Error() string {
	return fmt.Sprintf("the location is over the size limit: its entities take more than %d bytes", e.limit)
}

func (e *locationTooLarge) Unwrap() error { return ErrTooLarge }

// run is one pass over one registered location.
type run struct {
	r     *reader
	rules *Rules
	lim   limits
	// produced counts the bytes of the entities read so far, by every worker.
	produced atomic.Int64
	root     catalog.Location
	origin   string // managed-by-origin-location of every entity
	tree     string // the directory or URL prefix placeholders may read from
	// confine, when set, is the directory every file read must lie in: the
	// tree of a file location registered through the API.
	confine string
	out     sink
	seen    map[string]bool // files and URLs already read in this pass
	// stored returns the Location entities last stored from a file or URL
	// (by key); nil when nothing is stored, as in offline validation.
	stored func(ctx context.Context, key string) ([]*catalog.Entity, error)
	// encode, when set, encodes each entity on the worker that parsed it,
	// so that encoding runs on every core and not in the one goroutine that
	// hands entities to the sink in order.
	encode func(em *catalog.Emitted) (*catalog.EntityDoc, error)
	// inputs are the file targets (globs included, matched or not) and
	// placeholder files the pass read: what a watcher watches.
	inputs inputSet
}

// inputSet collects the files a pass depends on, from every worker.
type inputSet struct {
	mu    sync.Mutex
	paths map[string]bool
}

func (s *inputSet) add(p string) {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paths == nil {
		s.paths = map[string]bool{}
	}
	s.paths[p] = true
}

// list returns the inputs, sorted.
func (s *inputSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Collect(maps.Keys(s.paths))
	slices.Sort(out)
	return out
}

func newRun(r *reader, rules *Rules, lim limits, root catalog.Location, out sink) *run {
	tree := ""
	switch root.Type {
	case TypeFile:
		tree = globBase(root.Target)
	case TypeURL:
		if u, err := url.Parse(root.Target); err == nil {
			u.Path = dirSlash(u.Path)
			u.RawQuery, u.Fragment = "", ""
			tree = u.String()
		}
	}
	p := &run{r: r, rules: rules, lim: lim, root: root, origin: root.Key(), tree: tree, out: out, seen: map[string]bool{}}
	if root.Type == TypeFile && !root.Configured {
		p.confine = tree
	}
	return p
}

// walk emits the generated Location entity of the root, then everything
// its target leads to.
func (p *run) walk(ctx context.Context) error {
	gen := &catalog.Entity{
		APIVersion: "backstage.io/v1alpha1",
		Kind:       catalog.KindLocation,
		Metadata: catalog.Metadata{
			Name:      p.root.GeneratedName(),
			Namespace: catalog.DefaultNamespace,
			Annotations: map[string]string{
				catalog.AnnotationManagedByLocation:       p.origin,
				catalog.AnnotationManagedByOriginLocation: p.origin,
			},
		},
		Spec: map[string]any{"type": p.root.Type, "target": p.root.Target},
	}
	if err := p.out.put(ctx, &catalog.Emitted{Entity: gen, LocationKey: p.origin}, nil); err != nil {
		return err
	}
	return p.readTarget(ctx, p.root.Type, p.root.Target, "required", p.origin, gen.Ref().String(), 0)
}

// readTarget reads one Location target and emits what its files hold.
// A problem reading the target is reported at from, the file of the
// Location entity fromRef that names it.
func (p *run) readTarget(ctx context.Context, typ, target, presence, from, fromRef string, depth int) error {
	if depth > maxDepth {
		p.out.fail(catalog.ProcessingError{Level: catalog.LevelError, LocationKey: from, Document: -1, Code: catalog.ErrorCodeRead,
			Message: fmt.Sprintf("Location %s:%s is nested more than %d levels deep", typ, target, maxDepth)})
		return nil
	}
	var files []string
	switch typ {
	case TypeFile:
		p.inputs.add(target)
		matches, err := p.r.glob(target)
		if err != nil {
			if errors.Is(err, ErrNotFound) && presence == "optional" {
				return nil
			}
			p.out.fail(readError(from, fromRef, err))
			return nil
		}
		files = matches
	case TypeURL:
		files = []string{target}
	default:
		p.out.fail(catalog.ProcessingError{Level: catalog.LevelError, LocationKey: from, Document: -1, EntityRef: fromRef,
			Code: catalog.ErrorCodeRead, Message: fmt.Sprintf("unsupported location type %q for target %q; expected file or url", typ, target)})
		return nil
	}
	var todo []string
	for _, f := range files {
		key := typ + ":" + f
		if typ == TypeFile && p.confine != "" && !within(p.confine, f) {
			p.out.fail(catalog.ProcessingError{Level: catalog.LevelError, LocationKey: from, Document: -1, EntityRef: fromRef,
				Code:    catalog.ErrorCodeForbiddenTarget,
				Message: fmt.Sprintf("%s is outside %s: a file location registered through the API may only read files in its own tree", f, p.confine)})
			continue
		}
		if !p.seen[key] {
			p.seen[key] = true
			todo = append(todo, f)
		}
	}
	for res := range p.parseAll(ctx, typ, todo, fromRef) {
		var tooLarge *locationTooLarge
		if errors.As(res.err, &tooLarge) {
			return res.err
		}
		if res.err != nil {
			if !(errors.Is(res.err, ErrNotFound) && presence == "optional") {
				p.out.fail(readError(res.key, fromRef, res.err))
			}
			if !errors.Is(res.err, ErrNotFound) {
				p.out.unreadable(res.key)
				if err := p.followStored(ctx, typ, res.name, res.key, nil, depth); err != nil {
					return err
				}
			}
			continue
		}
		unreadable := false
		emitted := map[string]bool{}
		for _, d := range res.docs {
			for _, pe := range d.errs {
				p.out.fail(pe)
			}
			if d.emitted == nil {
				if !d.refused {
					p.out.unreadable(res.key)
					unreadable = true
				}
				continue
			}
			if d.encodeErr != nil {
				return d.encodeErr
			}
			emitted[d.emitted.Entity.Ref().String()] = true
			if err := p.out.put(ctx, d.emitted, d.doc); err != nil {
				return err
			}
			if d.emitted.Entity.Kind == catalog.KindLocation && len(d.emitted.Errors) == 0 {
				if err := p.follow(ctx, d.emitted.Entity, typ, res.name, res.key, depth); err != nil {
					return err
				}
			}
		}
		if unreadable {
			if err := p.followStored(ctx, typ, res.name, res.key, emitted, depth); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// followStored follows the Location entities last stored from a file or
// URL that cannot be read now, except those it emitted in this pass, so that
// the files they lead to are read as before instead of being orphaned:
// Backstage too keeps processing the children of an entity that failed.
func (p *run) followStored(ctx context.Context, typ, name, key string, emitted map[string]bool, depth int) error {
	if p.stored == nil {
		return nil
	}
	locs, err := p.stored(ctx, key)
	if err != nil {
		return fmt.Errorf("read the Location entities stored from %s: %w", key, err)
	}
	for _, loc := range locs {
		// Stored before the rules changed, it may no longer be allowed.
		if emitted[loc.Ref().String()] || !p.rules.Allows(p.root.Configured, typ, name, loc.Kind) {
			continue
		}
		if err := p.follow(ctx, loc, typ, name, key, depth); err != nil {
			return err
		}
	}
	return nil
}

// follow reads the targets of a Location entity read from file or URL name.
func (p *run) follow(ctx context.Context, loc *catalog.Entity, parentType, name, key string, depth int) error {
	typ := loc.SpecString("type")
	if typ == "" {
		typ = parentType
	}
	presence := loc.SpecString("presence")
	var targets []string
	if t := loc.SpecString("target"); t != "" {
		targets = append(targets, t)
	}
	if list, ok := loc.Spec["targets"].([]any); ok {
		for _, t := range list {
			if s, ok := t.(string); ok && s != "" {
				targets = append(targets, s)
			}
		}
	}
	for _, t := range targets {
		if err := leadsTo(parentType, typ); err != nil {
			p.out.fail(catalog.ProcessingError{Level: catalog.LevelError, LocationKey: key, Document: -1, EntityRef: loc.Ref().String(),
				Code: catalog.ErrorCodeForbiddenTarget, Message: fmt.Sprintf("target %q is refused: %v", t, err)})
			continue
		}
		resolved, err := resolveTarget(typ, parentType, name, t)
		if err != nil {
			p.out.fail(catalog.ProcessingError{Level: catalog.LevelError, LocationKey: key, Document: -1, EntityRef: loc.Ref().String(),
				Code: catalog.ErrorCodeRead, Message: err.Error()})
			continue
		}
		if err := p.readTarget(ctx, typ, resolved, presence, key, loc.Ref().String(), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// leadsTo reports why a Location entity read from a file or URL of type
// parentType may not name a target of type typ: a location only leads to
// locations of the same trust, so what a URL serves never makes the server
// read its own disk. Files may lead to URLs.
func leadsTo(parentType, typ string) error {
	if parentType != TypeFile && typ == TypeFile {
		return errors.New("a Location read from a URL may not lead to files, only to URLs")
	}
	return nil
}

// resolveTarget resolves a Location entity's target against the file or
// URL the entity was read from (backstage-spec.md §2.2.4): for files only
// targets starting with "." are relative; for URLs every relative reference
// is; a target of another type than its parent is used as written.
func resolveTarget(typ, parentType, parent, target string) (string, error) {
	if typ != parentType {
		if typ == TypeFile && !filepath.IsAbs(target) {
			return filepath.Abs(target)
		}
		return target, nil
	}
	switch typ {
	case TypeFile:
		if strings.HasSuffix(target, "/") || strings.HasSuffix(target, string(filepath.Separator)) {
			return "", fmt.Errorf("file target %q ends with a path separator; name a file or a glob", target)
		}
		if strings.HasPrefix(target, ".") {
			return filepath.Join(filepath.Dir(parent), target), nil
		}
		if !filepath.IsAbs(target) {
			return filepath.Abs(target)
		}
		return target, nil
	case TypeURL:
		base, err := url.Parse(parent)
		if err != nil {
			return "", err
		}
		ref, err := url.Parse(target)
		if err != nil {
			return "", fmt.Errorf("target %q is not a valid URL: %w", target, err)
		}
		return base.ResolveReference(ref).String(), nil
	}
	return target, nil
}

// readError reports a file or URL that could not be read; ref is the
// Location entity that named it. Offline validation skipping a URL is only
// a warning.
func readError(key, ref string, err error) catalog.ProcessingError {
	pe := catalog.ProcessingError{Level: catalog.LevelError, LocationKey: key, Document: -1, EntityRef: ref,
		Code: catalog.ErrorCodeRead, Message: err.Error()}
	switch {
	case errors.Is(err, ErrTooLarge):
		pe.Code = catalog.ErrorCodeTooLarge
	case errors.Is(err, errForbidden):
		pe.Code = catalog.ErrorCodeForbiddenTarget
	case errors.Is(err, errOffline):
		pe.Level = catalog.LevelWarning
	}
	return pe
}

// parsedFile is one file read and processed by a worker.
type parsedFile struct {
	name string // path or URL
	key  string // "type:name"
	docs []parsedDoc
	err  error
}

type parsedDoc struct {
	emitted *catalog.Emitted
	errs    []catalog.ProcessingError // problems that name no entity
	size    int64                     // bytes of the entity, as Document.Size counts them
	// refused is a document of a kind its location may not emit: dropped
	// whole, while its file counts as read.
	refused bool
	// doc and encodeErr are what the run's encode made of the entity.
	doc       *catalog.EntityDoc
	encodeErr error
}

// parseAll reads and processes files on several goroutines and yields the
// results in the order of names, holding at most a small window of results
// in memory. parentRef is the Location entity whose target names them.
func (p *run) parseAll(ctx context.Context, typ string, names []string, parentRef string) <-chan parsedFile {
	out := make(chan parsedFile)
	window := 2 * runtime.GOMAXPROCS(0)
	pending := make(chan chan parsedFile, window)
	go func() {
		defer close(pending)
		for _, name := range names {
			ch := make(chan parsedFile, 1)
			select {
			case pending <- ch:
			case <-ctx.Done():
				return
			}
			go func() { ch <- p.parseFile(ctx, typ, name, parentRef) }()
		}
	}()
	go func() {
		defer close(out)
		for ch := range pending {
			select {
			case out <- <-ch:
			case <-ctx.Done():
				for range pending {
				}
				return
			}
		}
	}()
	return out
}

func (p *run) parseFile(ctx context.Context, typ, name, parentRef string) parsedFile {
	res := parsedFile{name: name, key: typ + ":" + name}
	var data []byte
	if typ == TypeURL {
		data, res.err = p.r.readURL(ctx, name)
	} else {
		data, res.err = p.r.readFile(ctx, name)
	}
	if res.err != nil {
		return res
	}
	for d := range ParseFile(name, data, p.lim.entity) {
		pd, err := p.process(ctx, typ, name, res.key, d)
		if err != nil {
			return parsedFile{name: name, key: res.key, err: err}
		}
		if pe := p.forbidden(typ, name, res.key, pd.emitted); pe != nil {
			pe.Document, pe.Line = d.Index, d.LineOf("kind")
			pd = parsedDoc{errs: append(pd.errs, *pe), refused: true}
		}
		if em := pd.emitted; em != nil {
			em.ParentRef = parentRef
			if p.encode != nil {
				if pd.doc, pd.encodeErr = p.encode(em); pd.encodeErr != nil {
					pd.encodeErr = fmt.Errorf("encode %s: %w", em.Entity.Ref(), pd.encodeErr)
				}
			}
		}
		res.docs = append(res.docs, pd)
	}
	return res
}

// forbidden returns the error refusing an entity its location may not
// emit (see [Rules]), or nil.
func (p *run) forbidden(typ, name, key string, em *catalog.Emitted) *catalog.ProcessingError {
	if em == nil || p.rules.Allows(p.root.Configured, typ, name, em.Entity.Kind) {
		return nil
	}
	ref := em.Entity.Ref().String()
	return &catalog.ProcessingError{Level: catalog.LevelError, LocationKey: key, Document: -1, EntityRef: ref,
		Code: catalog.ErrorCodeForbiddenKind, Message: p.rules.refusal(key, ref, em.Entity.Kind)}
}

// process processes one document and counts its entity against the
// location's limit, shared by every worker of the pass, so that what the
// pass holds at any time is bounded.
func (p *run) process(ctx context.Context, typ, name, key string, d Document) (parsedDoc, error) {
	pd := p.processDoc(ctx, typ, name, key, d)
	if p.produced.Add(pd.size) > p.lim.location {
		return parsedDoc{}, &locationTooLarge{limit: p.lim.location}
	}
	return pd, nil
}

// processDoc turns one document into an entity with its relations and
// problems. Problems that cannot be tied to an entity are returned apart.
func (p *run) processDoc(ctx context.Context, typ, name, key string, d Document) parsedDoc {
	perr := func(ref, code, path, msg string) catalog.ProcessingError {
		return catalog.ProcessingError{Level: catalog.LevelError, LocationKey: key, Document: d.Index, Line: d.LineOf(path), EntityRef: ref, Code: code, Message: msg}
	}
	if d.Err != nil {
		pe := perr("", catalog.ErrorCodeSyntax, "", d.Err.Error())
		var se *SyntaxError
		if errors.As(d.Err, &se) {
			pe.Line = se.Line
		}
		if errors.Is(d.Err, ErrTooLarge) {
			pe.Code = catalog.ErrorCodeTooLarge
		}
		return parsedDoc{errs: []catalog.ProcessingError{pe}}
	}
	src := placeholderSource{typ: typ, name: name, tree: p.tree, r: p.r, inputs: &p.inputs}
	resolved, size, phErrs := src.resolve(ctx, d.Value, d.Size, p.lim.entity)
	doc := resolved.(map[string]any)

	e, problems := catalog.Parse(doc)
	if e == nil {
		ref := guessRef(doc)
		var errs []catalog.ProcessingError
		for _, pr := range problems {
			errs = append(errs, perr(ref, catalog.ErrorCodeInvalid, pr.Path, entityMessage(ref, pr.Message)))
		}
		return parsedDoc{errs: errs}
	}
	ref := e.Ref().String()
	em := &catalog.Emitted{Entity: e, LocationKey: key}
	for _, ph := range phErrs {
		em.Errors = append(em.Errors, perr(ref, ph.code, ph.path, ph.msg))
	}
	for _, pr := range problems {
		if phErrs.covers(pr.Path) {
			continue // the placeholder error already explains this field
		}
		code := catalog.ErrorCodeInvalid
		if strings.Contains(pr.Message, "entity reference") {
			code = catalog.ErrorCodeReference
		}
		em.Errors = append(em.Errors, perr(ref, code, pr.Path, pr.Message))
	}
	em.Relations, _ = catalog.Relations(e)
	p.annotate(e, typ, name, key)
	return parsedDoc{emitted: em, size: size}
}

// annotate sets the location annotations Backstage sets, and the root
// location's own (its provenance). The two managed-by annotations and the
// root's are always overwritten; for URLs the source and view annotations
// are computed under the author's own values.
func (p *run) annotate(e *catalog.Entity, typ, name, key string) {
	e.SetAnnotation(catalog.AnnotationManagedByLocation, key)
	e.SetAnnotation(catalog.AnnotationManagedByOriginLocation, p.origin)
	for k, v := range p.root.Annotations {
		e.SetAnnotation(k, v)
	}
	if typ != TypeURL {
		return
	}
	if _, ok := e.Metadata.Annotations[catalog.AnnotationViewURL]; !ok {
		e.SetAnnotation(catalog.AnnotationViewURL, name)
	}
	if _, ok := e.Metadata.Annotations[catalog.AnnotationSourceLocation]; !ok {
		if u, err := url.Parse(name); err == nil {
			u.Path = dirSlash(u.Path)
			e.SetAnnotation(catalog.AnnotationSourceLocation, "url:"+u.String())
		}
	}
}

// dirSlash returns the directory of a URL path with one trailing slash:
// "/a/b.yaml" gives "/a/", and "/b.yaml" gives "/", not "//".
func dirSlash(p string) string {
	return strings.TrimSuffix(path.Dir(p), "/") + "/"
}

// guessRef names a document that failed its envelope check as well as it
// can, for error messages: "component:default/invalid component".
func guessRef(doc map[string]any) string {
	kind, _ := doc["kind"].(string)
	md, _ := doc["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	if kind == "" || name == "" || !catalog.IsStorableText(kind) || !catalog.IsStorableText(name) || !catalog.IsStorableText(ns) {
		return ""
	}
	return catalog.Ref{Kind: kind, Namespace: ns, Name: name}.String()
}

func entityMessage(ref, msg string) string {
	if ref == "" {
		return msg
	}
	return fmt.Sprintf("Policy check failed for %s: %s", ref, msg)
}
