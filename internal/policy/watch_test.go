package policy_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/policy"
)

// recorder is a slog handler that hands each record to the test.
type recorder chan slog.Record

func (r recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r recorder) Handle(_ context.Context, rec slog.Record) error {
	r <- rec.Clone()
	return nil
}
func (r recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r recorder) WithGroup(string) slog.Handler      { return r }

// next waits for the watcher's next log record.
func (r recorder) next(tb testing.TB) slog.Record {
	tb.Helper()
	select {
	case rec := <-r:
		return rec
	case <-time.After(10 * time.Second):
		tb.Fatal("no log record within 10 s")
		return slog.Record{}
	}
}

// attr returns the value of a record's attribute.
func attr(rec slog.Record, key string) string {
	var v string
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}

// replaceFile writes content next to path and renames it over path, as
// editors and ConfigMap updates do, so the watcher never reads half a file.
func replaceFile(tb testing.TB, path, content string) {
	tb.Helper()
	tmp := path + ".tmp"
	mustWrite(tb, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
}

const (
	readPolicy   = "rules:\n  - {name: readers, allow: [catalog.entity.read], to: [anyone]}\n"
	deletePolicy = "rules:\n  - {name: deleters, allow: [catalog.entity.delete], to: [anyone]}\n"
	createPolicy = "rules:\n  - {name: creators, allow: [catalog.location.create], to: [anyone]}\n"
)

// ruleFor returns the rule of the watcher's current policy that decides perm.
func ruleFor(w *policy.Watcher, perm string) string {
	return w.Current().Decide(perm, anon, unowned).Rule
}

func TestWatcher(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	mustWrite(t, path, readPolicy)
	logs := make(recorder, 64)
	w, err := policy.NewWatcher(path, slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	})
	if got := ruleFor(w, policy.EntityRead); got != "readers" {
		t.Fatalf("initial policy: read decided by %q; want readers", got)
	}

	t.Run("RenameWrite", func(t *testing.T) {
		replaceFile(t, path, deletePolicy)
		if rec := logs.next(t); rec.Message != "policy reloaded" || attr(rec, "rules") != "1" {
			t.Fatalf("log %q %v; want policy reloaded", rec.Message, attr(rec, "err"))
		}
		if got := ruleFor(w, policy.EntityDelete); got != "deleters" {
			t.Errorf("delete decided by %q; want deleters", got)
		}
	})
	t.Run("InvalidKeepsOld", func(t *testing.T) {
		replaceFile(t, path, "rules:\n  - {name: x, allow: [catalog.entity.read], to: [everyone]}\n")
		rec := logs.next(t)
		if rec.Level != slog.LevelError || rec.Message != "policy file invalid; keeping the previous policy" {
			t.Fatalf("log %s %q; want the invalid file reported", rec.Level, rec.Message)
		}
		if got, want := attr(rec, "err"), path+`:2: rule x: unknown subject "everyone"`; !strings.HasPrefix(got, want) {
			t.Errorf("err = %q; want it to start %q", got, want)
		}
		if got := ruleFor(w, policy.EntityDelete); got != "deleters" {
			t.Errorf("delete decided by %q; want deleters still", got)
		}
	})
	t.Run("InPlaceWrite", func(t *testing.T) {
		// Truncate-then-write can be seen half done; only the end state,
		// a reload of the new policy, is certain.
		mustWrite(t, path, createPolicy)
		for {
			if rec := logs.next(t); rec.Message == "policy reloaded" {
				break
			}
		}
		if got := ruleFor(w, policy.LocationCreate); got != "creators" {
			t.Errorf("location create decided by %q; want creators", got)
		}
	})
	t.Run("RemovedKeepsOld", func(t *testing.T) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if rec := logs.next(t); rec.Message != "policy file unreadable; keeping the previous policy" {
			t.Fatalf("log %q; want the missing file reported", rec.Message)
		}
		if got := ruleFor(w, policy.LocationCreate); got != "creators" {
			t.Errorf("location create decided by %q; want creators still", got)
		}
		replaceFile(t, path, readPolicy)
		if rec := logs.next(t); rec.Message != "policy reloaded" {
			t.Fatalf("log %q %v; want policy reloaded", rec.Message, attr(rec, "err"))
		}
		if got := ruleFor(w, policy.EntityRead); got != "readers" {
			t.Errorf("read decided by %q; want readers", got)
		}
	})
	t.Run("OtherFilesIgnored", func(t *testing.T) {
		mustWrite(t, filepath.Join(filepath.Dir(path), "notes.txt"), "not a policy")
		select {
		case rec := <-logs:
			t.Errorf("unexpected log %q after another file changed", rec.Message)
		case <-time.After(500 * time.Millisecond):
		}
	})
}

func TestNewWatcher(t *testing.T) {
	t.Run("ErrInvalid", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "policy.yaml")
		mustWrite(t, path, "rules: []\n")
		if _, err := policy.NewWatcher(path, nil); err == nil || !strings.HasPrefix(err.Error(), path+":1: ") {
			t.Errorf("err = %v; want the file's problem", err)
		}
	})
	t.Run("ErrNotExist", func(t *testing.T) {
		if _, err := policy.NewWatcher(filepath.Join(t.TempDir(), "policy.yaml"), nil); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v; want not exist", err)
		}
	})
	t.Run("CloseTwice", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "policy.yaml")
		mustWrite(t, path, readPolicy)
		w, err := policy.NewWatcher(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if got := ruleFor(w, policy.EntityRead); got != "readers" {
			t.Errorf("after Close, read decided by %q; want readers", got)
		}
	})
}
