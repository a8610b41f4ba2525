package watch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// requests records the refreshes a watcher asks for.
type requests chan string

func (r requests) RequestRefresh(_ context.Context, id string) error {
	r <- id
	return nil
}

// expect waits for a request for id; none within a few seconds fails.
func (r requests) expect(t *testing.T, id, what string) {
	t.Helper()
	select {
	case got := <-r:
		if got != id {
			t.Fatalf("%s: refresh of %s asked for, want %s", what, got, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no refresh asked for within 5 s", what)
	}
}

// none checks that no request comes for a while, then drains.
func (r requests) none(t *testing.T, what string) {
	t.Helper()
	select {
	case got := <-r:
		t.Fatalf("%s: refresh of %s asked for, want none", what, got)
	case <-time.After(400 * time.Millisecond):
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newWatcher(t *testing.T) (*Watcher, requests) {
	t.Helper()
	reqs := make(requests, 16)
	w, err := New(reqs, Options{Settle: 50 * time.Millisecond, MaxWait: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, reqs
}

func TestWatcher_File(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog-info.yaml")
	write(t, file, "a")
	write(t, filepath.Join(dir, "other.yaml"), "a")
	w, reqs := newWatcher(t)
	w.Watch(catalog.Location{ID: "1", Type: "file", Target: file}, []string{file})

	write(t, file, "b")
	reqs.expect(t, "1", "file written")

	write(t, filepath.Join(dir, "other.yaml"), "b")
	reqs.none(t, "another file in the directory")

	// An editor's save: a new file renamed over the old one.
	tmp := filepath.Join(dir, ".catalog-info.yaml.swp")
	write(t, tmp, "c")
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	reqs.expect(t, "1", "file replaced by rename")

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	reqs.expect(t, "1", "file removed")

	write(t, file, "d")
	reqs.expect(t, "1", "file made again")
}

func TestWatcher_Settles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog-info.yaml")
	write(t, file, "a")
	w, reqs := newWatcher(t)
	w.Watch(catalog.Location{ID: "1"}, []string{file})
	for i := range 5 {
		write(t, file, string(rune('a'+i)))
	}
	reqs.expect(t, "1", "burst of writes")
	reqs.none(t, "the rest of the burst")
}

func TestWatcher_Glob(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a", "catalog-info.yaml"), "a")
	glob := filepath.Join(dir, "**", "catalog-info.yaml")
	w, reqs := newWatcher(t)
	w.Watch(catalog.Location{ID: "g"}, []string{glob})

	write(t, filepath.Join(dir, "a", "catalog-info.yaml"), "b")
	reqs.expect(t, "g", "matched file written")

	write(t, filepath.Join(dir, "a", "README.md"), "b")
	reqs.none(t, "a file the glob does not match")

	// A new directory with a new matching file: the directory's creation
	// asks for a refresh, and the directory is watched from then on.
	write(t, filepath.Join(dir, "b", "c", "catalog-info.yaml"), "a")
	reqs.expect(t, "g", "new directory with a matching file")
	time.Sleep(100 * time.Millisecond) // let the new directories be watched
	write(t, filepath.Join(dir, "b", "c", "catalog-info.yaml"), "b")
	reqs.expect(t, "g", "file in a new directory written")

	if err := os.RemoveAll(filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	reqs.expect(t, "g", "directory removed")
}

func TestWatcher_GlobBaseMadeLater(t *testing.T) {
	dir := t.TempDir()
	glob := filepath.Join(dir, "services", "*.yaml")
	w, reqs := newWatcher(t)
	w.Watch(catalog.Location{ID: "g"}, []string{glob})
	write(t, filepath.Join(dir, "services", "x.yaml"), "a")
	reqs.expect(t, "g", "glob's base made")
}

func TestWatcher_Unwatch(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog-info.yaml")
	write(t, file, "a")
	w, reqs := newWatcher(t)
	loc := catalog.Location{ID: "1"}
	w.Watch(loc, []string{file})
	w.Watch(loc, nil)
	write(t, file, "b")
	reqs.none(t, "a location no longer watched")
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.dirs) != 0 {
		t.Errorf("directories still watched: %v", w.dirs)
	}
}
