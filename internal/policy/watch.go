package policy

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// settle is how long a file must stay quiet before it is reloaded: an
// editor's save is several events (truncate, write, chmod, or write a
// temporary file and rename it), and the file is only whole after the last.
const settle = 100 * time.Millisecond

// Watcher holds the policy of one file and reloads it when the file
// changes, so that permissions can change without a restart. A new file
// that does not parse is logged and ignored: the last good policy stays in
// force, rather than a typo denying everyone everything.
type Watcher struct {
	path    string
	log     *slog.Logger
	current atomic.Pointer[Policy]
	fsw     *fsnotify.Watcher
	done    chan struct{}
	close   sync.Once

	// Touched only by the run goroutine.
	last    []byte // the content last parsed, good or bad; nil after a failed read
	missing bool   // the last read failed, and was logged
}

// NewWatcher loads the policy at path and watches it for changes until
// [Watcher.Close]. It fails when the file does not load, so a server never
// starts without a policy. logger receives reloads and problems; nil
// discards them.
//
// It watches the directory rather than the file: editors and Kubernetes
// ConfigMaps replace a file by renaming another over it (or swapping a
// symlink), which a watch on the old file would not see. Every event in
// the directory rereads the file, which is reparsed only if its content
// changed.
func NewWatcher(path string, logger *slog.Logger) (*Watcher, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	pol, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("policy: watch %s: %w", path, err)
	}
	if err := fsw.Add(filepath.Dir(path)); err != nil {
		fsw.Close()
		return nil, fmt.Errorf("policy: watch %s: %w", path, err)
	}
	w := &Watcher{path: path, log: logger, fsw: fsw, done: make(chan struct{}), last: data}
	w.current.Store(pol)
	go w.run()
	return w, nil
}

// Current returns the policy in force. Callers should fetch it once per
// request, so that one request sees one policy throughout.
func (w *Watcher) Current() *Policy { return w.current.Load() }

// Close stops watching. The policy in force stays readable.
func (w *Watcher) Close() error {
	var err error
	w.close.Do(func() {
		err = w.fsw.Close()
		<-w.done
	})
	return err
}

func (w *Watcher) run() {
	defer close(w.done)
	timer := time.NewTimer(settle)
	timer.Stop()
	for {
		select {
		case _, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			timer.Reset(settle)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			w.log.Error("policy watch failed", "path", w.path, "err", err)
		case <-timer.C:
			w.reload()
		}
	}
}

// reload rereads the file and puts its policy in force if it changed and
// parses.
func (w *Watcher) reload() {
	data, err := os.ReadFile(w.path)
	if err != nil {
		// A file that is gone stays gone for many events; say so once.
		if !w.missing {
			w.log.Error("policy file unreadable; keeping the previous policy", "path", w.path, "err", err)
		}
		w.missing, w.last = true, nil
		return
	}
	w.missing = false
	if w.last != nil && bytes.Equal(data, w.last) {
		return
	}
	w.last = data
	pol, err := Parse(data, w.path)
	if err != nil {
		w.log.Error("policy file invalid; keeping the previous policy", "path", w.path, "err", err)
		return
	}
	w.current.Store(pol)
	w.log.Info("policy reloaded", "path", w.path, "rules", pol.Len())
}
