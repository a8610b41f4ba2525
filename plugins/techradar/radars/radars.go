// Package radars is the Tech Radar plugin's service: the radars it serves,
// each read from a file or URL, kept as snapshots in the plugin's database
// (package store), and indexed for the GraphQL resolvers: entries by id and
// by the catalog tags that link entities to them.
//
// A source is read at start and then polled; a version that does not parse
// is logged with the entry at fault and the last good radar keeps serving.
// Radars are small (Backstage's example has 30 entries; the parser refuses
// more than 10,000), so each snapshot read is parsed once and kept in memory.
package radars

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/greenroomhq/greenroom/plugins/techradar/radar"
	"github.com/greenroomhq/greenroom/plugins/techradar/store"
)

// Source is where a radar is read: a file, or an http(s) URL.
type Source struct {
	ID       string // the radar's id
	Location string
}

var radarID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ParseSource reads a --radar flag: [ID=]FILE|URL. Without an ID, the
// file's name without its extension is the id.
func ParseSource(s string) (Source, error) {
	id, loc, ok := strings.Cut(s, "=")
	if !ok || strings.Contains(id, "/") || strings.Contains(id, ":") {
		loc = s
		id = strings.ToLower(strings.TrimSuffix(path.Base(loc), path.Ext(loc)))
	}
	if loc == "" {
		return Source{}, fmt.Errorf("radar %q: no file or URL", s)
	}
	if !radarID.MatchString(id) {
		return Source{}, fmt.Errorf("radar %q: its id %q must be lower-case letters, digits, '.', '_' and '-' (name it: ID=%s)", s, id, loc)
	}
	return Source{ID: id, Location: loc}, nil
}

func (s Source) remote() bool {
	return strings.HasPrefix(s.Location, "http://") || strings.HasPrefix(s.Location, "https://")
}

// View is a radar as one snapshot has it, indexed.
type View struct {
	ID       string
	Snapshot store.Snapshot
	Radar    *radar.Radar
	Entries  []*Entry // by title
	// Backstage is the snapshot as Backstage's GET /api/tech-radar/data
	// answers it.
	Backstage []byte
	byID      map[string]*Entry
	byTag     map[string]*Entry // by lower-case id: the tag that links to it
	rings     map[string]*radar.Ring
	quadrants map[string]*radar.Quadrant
}

// Entry is an entry of a radar view.
type Entry struct {
	radar.Entry
	View *View
}

// Ring returns the ring with that id, or nil.
func (v *View) Ring(id string) *radar.Ring { return v.rings[id] }

// Quadrant returns the quadrant with that id, or nil.
func (v *View) Quadrant(id string) *radar.Quadrant { return v.quadrants[id] }

// Entry returns the entry with that id, or nil.
func (v *View) Entry(id string) *Entry { return v.byID[id] }

// Filter returns the entries in quadrant and ring (ids; "" for any) whose
// title, id or description holds text, any case.
func (v *View) Filter(quadrant, ring, text string) []*Entry {
	text = strings.ToLower(strings.TrimSpace(text))
	var out []*Entry
	for _, e := range v.Entries {
		if quadrant != "" && e.Quadrant != quadrant || ring != "" && e.Timeline[0].RingID != ring {
			continue
		}
		if text != "" && !strings.Contains(strings.ToLower(e.Title), text) && !strings.Contains(strings.ToLower(e.ID), text) &&
			!strings.Contains(strings.ToLower(e.Description), text) {
			continue
		}
		out = append(out, e)
	}
	return out
}

func newView(id string, snap store.Snapshot, data []byte) (*View, error) {
	r, err := radar.Parse(id+".json", data)
	if err != nil {
		return nil, err
	}
	v := &View{ID: id, Snapshot: snap, Radar: r, Backstage: data, byID: map[string]*Entry{}, byTag: map[string]*Entry{},
		rings: map[string]*radar.Ring{}, quadrants: map[string]*radar.Quadrant{}}
	for i := range r.Rings {
		v.rings[r.Rings[i].ID] = &r.Rings[i]
	}
	for i := range r.Quadrants {
		v.quadrants[r.Quadrants[i].ID] = &r.Quadrants[i]
	}
	for _, e := range r.Entries {
		entry := &Entry{Entry: e, View: v}
		v.Entries = append(v.Entries, entry)
		v.byID[e.ID] = entry
		v.byTag[strings.ToLower(e.ID)] = entry
	}
	slices.SortFunc(v.Entries, func(a, b *Entry) int {
		return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
	})
	return v, nil
}

// Service serves the radars of its sources.
type Service struct {
	store   *store.Store
	sources []Source
	log     *slog.Logger
	client  *http.Client

	mu      sync.RWMutex
	current map[string]*View // by radar id: the latest snapshot
	old     map[int64]*View  // snapshots read back, by snapshot id
	stamps  map[string]stamp // what each file was when last read
}

// stamp is what a file was when it was read, to read it again only when
// it changes.
type stamp struct {
	mod  time.Time
	size int64
}

// New returns the service of sources over st. Call Load before serving.
func New(st *store.Store, sources []Source, log *slog.Logger) *Service {
	return &Service{store: st, sources: sources, log: log, client: &http.Client{Timeout: 30 * time.Second},
		current: map[string]*View{}, old: map[int64]*View{}, stamps: map[string]stamp{}}
}

// Load reads every source, saving a snapshot of each radar that changed.
// A source that cannot be read or does not parse leaves its radar as it
// was: the stored latest snapshot after a restart, or none. The errors are
// returned joined, each naming its source.
func (s *Service) Load(ctx context.Context) error {
	var errs []error
	for _, src := range s.sources {
		if err := s.load(ctx, src); err != nil {
			errs = append(errs, err)
			s.log.Error("radar not read; the last good version keeps serving", "radar", src.ID, "source", src.Location, "err", err)
		}
	}
	return errors.Join(errs...)
}

func (s *Service) load(ctx context.Context, src Source) error {
	s.mu.RLock()
	_, serving := s.current[src.ID]
	s.mu.RUnlock()
	if !serving { // after a restart, the last good snapshot first
		if err := s.restore(ctx, src.ID); err != nil {
			return err
		}
	}
	data, changed, err := s.read(ctx, src)
	if err != nil || !changed {
		return err
	}
	r, err := radar.Parse(src.Location, data)
	if err != nil {
		return err
	}
	doc, err := r.Backstage()
	if err != nil {
		return err
	}
	snap, isNew, err := s.store.Save(ctx, src.ID, src.Location, len(r.Entries), doc)
	if err != nil {
		return fmt.Errorf("radar %s: save: %w", src.ID, err)
	}
	v, err := newView(src.ID, snap, doc)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.current[src.ID] = v
	s.mu.Unlock()
	if isNew {
		s.log.Info("radar loaded", "radar", src.ID, "source", src.Location, "entries", len(r.Entries), "snapshot", snap.ID)
	}
	return nil
}

// restore serves a radar's latest stored snapshot, if it has one.
func (s *Service) restore(ctx context.Context, id string) error {
	snap, err := s.store.Latest(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	_, data, err := s.store.Data(ctx, id, snap.ID)
	if err != nil {
		return err
	}
	v, err := newView(id, snap, data)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.current[id] = v
	s.mu.Unlock()
	return nil
}

// read returns a source's content and whether it may have changed since
// it was last read (a file's time or size; a URL is always read).
func (s *Service) read(ctx context.Context, src Source) ([]byte, bool, error) {
	if !src.remote() {
		fi, err := os.Stat(src.Location)
		if err != nil {
			return nil, false, err
		}
		st := stamp{fi.ModTime(), fi.Size()}
		s.mu.RLock()
		same := s.stamps[src.ID] == st
		s.mu.RUnlock()
		if same {
			return nil, false, nil
		}
		if fi.Size() > radar.MaxFileSize {
			return nil, false, fmt.Errorf("%s: %d bytes, more than the %d a radar file may have", src.Location, fi.Size(), radar.MaxFileSize)
		}
		data, err := os.ReadFile(src.Location)
		s.mu.Lock()
		s.stamps[src.ID] = st // a bad file is not read again until it changes
		s.mu.Unlock()
		return data, err == nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.Location, nil)
	if err != nil {
		return nil, false, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, false, fmt.Errorf("%s: %s", src.Location, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, radar.MaxFileSize+1))
	if err == nil && len(data) > radar.MaxFileSize {
		err = fmt.Errorf("%s: more than the %d bytes a radar may have", src.Location, radar.MaxFileSize)
	}
	return data, err == nil, err
}

// Poll loads the sources every interval until ctx is done.
func (s *Service) Poll(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Load(ctx) // logged
		}
	}
}

// Radars returns the radars served, by id.
func (s *Service) Radars() []*View {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*View, 0, len(s.current))
	for _, v := range s.current {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b *View) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Radar returns the radar with that id, or nil.
func (s *Service) Radar(id string) *View {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.current[id]
}

// Snapshots returns a radar's snapshots, newest first.
func (s *Service) Snapshots(ctx context.Context, id string, limit int) ([]store.Snapshot, error) {
	return s.store.Snapshots(ctx, id, limit)
}

// maxOld bounds the past snapshots kept parsed in memory.
const maxOld = 64

// AtSnapshot returns the radar as a snapshot had it, or nil when the radar
// has no such snapshot.
func (s *Service) AtSnapshot(ctx context.Context, id string, snapshot int64) (*View, error) {
	s.mu.RLock()
	v := s.old[snapshot]
	s.mu.RUnlock()
	if v != nil && v.ID == id {
		return v, nil
	}
	snap, data, err := s.store.Data(ctx, id, snapshot)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if v, err = newView(id, snap, data); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.old) >= maxOld {
		clear(s.old)
	}
	s.old[snapshot] = v
	s.mu.Unlock()
	return v, nil
}

// Used returns the entries that an entity with these tags uses: an entry
// is used when a tag is its id. By radar id, then title.
func (s *Service) Used(tags []string) []*Entry {
	out := []*Entry{} // none is a list, not null: null says the plugin did not answer
	for _, v := range s.Radars() {
		start := len(out)
		for _, t := range tags {
			if e := v.byTag[strings.ToLower(t)]; e != nil && !slices.Contains(out[start:], e) {
				out = append(out, e)
			}
		}
		slices.SortFunc(out[start:], func(a, b *Entry) int { return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title)) })
	}
	return out
}

// Moment is a snapshot of an entry's timeline, with the radar that
// names its ring.
type Moment struct {
	radar.Snapshot
	View *View
}

// Moments returns the entry's timeline, newest first.
func (e *Entry) Moments() []*Moment {
	out := make([]*Moment, len(e.Timeline))
	for i, s := range e.Timeline {
		out[i] = &Moment{Snapshot: s, View: e.View}
	}
	return out
}
