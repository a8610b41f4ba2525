// Package watch refreshes file locations as soon as their files change,
// rather than at the next refresh interval: a saved, added or removed
// catalog file is in the catalog within a second.
//
// What a location depends on is what its last refresh read (ingest tells
// the [Watcher] through ingest.Watcher): file targets, globs included
// whether they matched or not, and the files its placeholders read. The
// watcher watches the directories those live in with fsnotify (a file's
// directory, a glob's base and, for a glob that reaches into
// subdirectories, every directory below it), since editors save by
// renaming a new file over the old one, which a watch on the file itself
// would miss. An event on one of those paths, or on a new file a glob
// matches, asks for a refresh of the location through its job
// ([Refresher]), once the location's files have been quiet for Settle (an
// editor's save is several events), and at most MaxWait after the first
// event, so that a file written without pause is still refreshed. The
// refresh then tells the watcher what the location depends on now.
//
// Polling stays: every location is still refreshed at its interval, which
// covers what cannot be watched (network file systems without inotify,
// more directories than MaxDirs, a process that did not run the location's
// last refresh: with replicas, the one that ran it watches it).
package watch

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/fsnotify/fsnotify"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Refresher asks for the refresh of a location now: internal/jobs, which
// runs it on whichever process takes the location's job.
type Refresher interface {
	RequestRefresh(ctx context.Context, locationID string) error
}

// Options tunes a [Watcher]; zero values take the defaults.
type Options struct {
	// Settle is how long a location's files must stay quiet before it is
	// refreshed: 100 ms.
	Settle time.Duration
	// MaxWait bounds how long after the first event the refresh is asked
	// for, however many events follow: 500 ms.
	MaxWait time.Duration
	// MaxDirs bounds the directories watched, since each costs an inotify
	// watch (fs.inotify.max_user_watches is 8192 on many systems): 4096.
	// Beyond it, the shallowest are watched and a warning is logged.
	MaxDirs int
	Logger  *slog.Logger
}

// Watcher watches the files of file locations (see the package doc).
type Watcher struct {
	fsw  *fsnotify.Watcher
	ref  Refresher
	opts Options
	log  *slog.Logger

	ctx    context.Context // the requests' context, cancelled by Close
	cancel context.CancelFunc
	done   chan struct{}
	fires  sync.WaitGroup

	syncMu sync.Mutex // one sync of the watched directories at a time
	mu     sync.Mutex
	locs   map[string]*watched // by location id
	dirs   map[string]bool     // directories watched now
	capped bool                // MaxDirs was reached, and logged
}

// watched is one location and what it depends on.
type watched struct {
	id     string
	key    string
	inputs []input
	timer  *time.Timer // set while a refresh is pending
	first  time.Time   // the first event since the last request
}

// input is one file or glob a location depends on.
type input struct {
	path    string // the file, or a glob's base directory
	pattern string // the glob below path, slash-separated; "" for a file
}

// deep reports whether a glob may match below its base's own entries.
func (in input) deep() bool {
	return strings.Contains(in.pattern, "/") || strings.Contains(in.pattern, "**")
}

// New starts a watcher that asks ref for refreshes, until [Watcher.Close].
func New(ref Refresher, opts Options) (*Watcher, error) {
	if opts.Settle <= 0 {
		opts.Settle = 100 * time.Millisecond
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 500 * time.Millisecond
	}
	if opts.MaxDirs <= 0 {
		opts.MaxDirs = 4096
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{fsw: fsw, ref: ref, opts: opts, log: opts.Logger.With("component", "watch"),
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		locs: map[string]*watched{}, dirs: map[string]bool{}}
	go w.run()
	return w, nil
}

// Watch replaces what loc is watched for with files (absolute paths or
// globs, as ingest reports them); none stops watching it. It implements
// ingest.Watcher.
func (w *Watcher) Watch(loc catalog.Location, files []string) {
	inputs := make([]input, 0, len(files))
	for _, f := range files {
		in := input{path: filepath.Clean(f)}
		if strings.ContainsAny(f, "*?[{") {
			base, pattern := doublestar.SplitPattern(filepath.ToSlash(f))
			in = input{path: filepath.Clean(filepath.FromSlash(base)), pattern: pattern}
		}
		inputs = append(inputs, in)
	}
	w.mu.Lock()
	if len(inputs) == 0 {
		if l := w.locs[loc.ID]; l != nil && l.timer != nil && l.timer.Stop() {
			w.fires.Done()
		}
		delete(w.locs, loc.ID)
	} else if l := w.locs[loc.ID]; l != nil {
		l.inputs = inputs
	} else {
		w.locs[loc.ID] = &watched{id: loc.ID, key: loc.Key(), inputs: inputs}
	}
	w.mu.Unlock()
	w.sync()
}

// Close stops watching; refreshes already asked for go on.
func (w *Watcher) Close() error {
	w.cancel()
	err := w.fsw.Close()
	<-w.done
	w.mu.Lock()
	for _, l := range w.locs {
		if l.timer != nil && l.timer.Stop() {
			w.fires.Done()
		}
	}
	w.mu.Unlock()
	w.fires.Wait()
	return err
}

// sync makes the directories watched those the locations depend on now.
func (w *Watcher) sync() {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	var inputs []input
	for _, l := range w.locs {
		inputs = append(inputs, l.inputs...)
	}
	w.mu.Unlock()

	want := map[string]bool{}
	for _, in := range inputs {
		dir := in.path
		if in.pattern == "" {
			dir = filepath.Dir(in.path)
		}
		// A directory still to be made is seen from the nearest one there is.
		for !isDir(dir) && filepath.Dir(dir) != dir {
			dir = filepath.Dir(dir)
		}
		want[dir] = true
		if in.pattern != "" && in.deep() && dir == in.path {
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				switch {
				case err != nil:
					return nil // unreadable: skipped, as the glob skips it
				case !d.IsDir():
				case d.Name() == ".git" && p != dir:
					return filepath.SkipDir // churns on every commit, holds no descriptors
				case len(want) >= 2*w.opts.MaxDirs:
					return filepath.SkipAll
				default:
					want[p] = true
				}
				return nil
			})
		}
	}
	dirs := slices.Collect(func(yield func(string) bool) {
		for d := range want {
			if !yield(d) {
				return
			}
		}
	})
	// The shallowest first, so that a cap keeps the tops of the trees.
	slices.SortFunc(dirs, func(a, b string) int {
		if c := strings.Count(a, string(filepath.Separator)) - strings.Count(b, string(filepath.Separator)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	if len(dirs) > w.opts.MaxDirs {
		if !w.capped {
			w.log.Warn("too many directories to watch: changes in the others are read at the refresh interval",
				"directories", len(dirs), "watched", w.opts.MaxDirs)
		}
		w.capped = true
		dirs = dirs[:w.opts.MaxDirs]
	}
	keep := make(map[string]bool, len(dirs))
	for _, d := range dirs {
		keep[d] = true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for d := range w.dirs {
		if !keep[d] {
			w.fsw.Remove(d) // fails for a directory removed since, whose watch went with it
			delete(w.dirs, d)
		}
	}
	for _, d := range dirs {
		if w.dirs[d] {
			continue
		}
		if err := w.fsw.Add(d); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				w.log.Warn("cannot watch a directory: its changes are read at the refresh interval", "dir", d, "err", err)
			}
			continue
		}
		w.dirs[d] = true
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func (w *Watcher) run() {
	defer close(w.done)
	for {
		select {
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			w.event(ev)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			// An overflow loses events: refresh every location to be sure.
			w.log.Warn("file watch error", "err", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.mu.Lock()
				for _, l := range w.locs {
					w.schedule(l)
				}
				w.mu.Unlock()
			}
		}
	}
}

// event schedules a refresh of every location that depends on the path
// an event names, and watches a new directory a glob reaches into.
func (w *Watcher) event(ev fsnotify.Event) {
	if ev.Op == fsnotify.Chmod {
		return // editors and backups touch modes; content is what counts
	}
	name := filepath.Clean(ev.Name)
	w.mu.Lock()
	wasDir := w.dirs[name]
	w.mu.Unlock()
	isNewDir := ev.Has(fsnotify.Create) && isDir(name)
	resync := isNewDir || wasDir
	w.mu.Lock()
	for _, l := range w.locs {
		for _, in := range l.inputs {
			if in.matches(name, wasDir || isNewDir) {
				w.schedule(l)
				break
			}
		}
	}
	w.mu.Unlock()
	if resync {
		w.sync()
	}
}

// matches reports whether a change of path bears on in: the file itself, a
// directory on the way to it, or below a glob's base a path it matches (or
// a directory, which may hold or have held matches).
func (in input) matches(path string, dir bool) bool {
	if path == in.path || strings.HasPrefix(in.path, path+string(filepath.Separator)) {
		return true
	}
	if in.pattern == "" {
		return false
	}
	rel, err := filepath.Rel(in.path, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return false
	}
	if dir {
		return in.deep()
	}
	ok, _ := doublestar.Match(in.pattern, filepath.ToSlash(rel))
	return ok
}

// schedule asks for a refresh of l once its files settle. w.mu is held.
func (w *Watcher) schedule(l *watched) {
	now := time.Now()
	if l.timer == nil {
		l.first = now
		w.fires.Add(1)
		l.timer = time.AfterFunc(w.opts.Settle, func() { w.fire(l) })
		return
	}
	if now.Sub(l.first)+w.opts.Settle <= w.opts.MaxWait && l.timer.Stop() {
		l.timer.Reset(w.opts.Settle)
	}
}

// fire asks for the refresh of l.
func (w *Watcher) fire(l *watched) {
	defer w.fires.Done()
	w.mu.Lock()
	l.timer = nil
	w.mu.Unlock()
	if w.ctx.Err() != nil {
		return
	}
	w.log.Debug("files changed: refreshing", "location", l.key)
	err := w.ref.RequestRefresh(w.ctx, l.id)
	switch {
	case err == nil:
	case portal.ErrorCode(err) == portal.ENOTFOUND:
		w.Watch(catalog.Location{ID: l.id}, nil)
	case w.ctx.Err() == nil:
		w.log.Error("could not ask for the refresh of a changed location", "location", l.key, "err", err)
	}
}
