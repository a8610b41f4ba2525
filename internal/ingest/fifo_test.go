//go:build unix

package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// MustMkfifo makes a named pipe that nothing ever writes to: opening it to
// read blocks for ever.
func MustMkfifo(tb testing.TB, dir, name string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// refreshWithin refreshes a location and fails the test, instead of
// hanging it, if the refresh does not end in time.
func refreshWithin(t *testing.T, eng *ingest.Engine, loc catalog.Location, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := eng.Refresh(ctx, loc)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("refresh %s: %v", loc.Key(), err)
		}
	case <-time.After(d + time.Second):
		t.Fatalf("refresh of %s still running after %s", loc.Key(), d)
	}
}

// TestEngine_Refresh_FIFO checks that a named pipe, as a location target,
// inside a glob or behind a $text placeholder, is refused at once with a
// READ error instead of blocking the refresh, and that the files beside it
// are read.
func TestEngine_Refresh_FIFO(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		fifo := MustMkfifo(t, dir, "catalog-info.yaml")
		globbed := MustMkfifo(t, MustDir(t, dir, "teams/b"), "catalog-info.yaml")
		MustWrite(t, dir, "teams/a/catalog-info.yaml", teamA)
		MustMkfifo(t, MustDir(t, dir, "svc"), "openapi.yaml")
		svc := MustWrite(t, dir, "svc/api.yaml", api("piped", "$text", "./openapi.yaml"))
		eng := ingest.NewEngine(db, ingest.Options{})

		direct := MustCreateLocation(t, db, ingest.TypeFile, fifo)
		glob := MustCreateLocation(t, db, ingest.TypeFile, filepath.Join(dir, "teams", "**", "catalog-info.yaml"))
		text := MustCreateLocation(t, db, ingest.TypeFile, svc)
		for _, loc := range []catalog.Location{direct, glob, text} {
			refreshWithin(t, eng, loc, 10*time.Second)
		}

		for _, tt := range []struct {
			loc  catalog.Location
			want problem
		}{
			{direct, problem{Level: "error", Code: catalog.ErrorCodeRead, Key: "file:" + fifo, Ref: direct.EntityRef(), Doc: -1}},
			{glob, problem{Level: "error", Code: catalog.ErrorCodeRead, Key: "file:" + globbed, Ref: glob.EntityRef(), Doc: -1}},
			{text, problem{Level: "error", Code: catalog.ErrorCodePlaceholder, Key: "file:" + svc, Ref: "api:default/piped", Doc: 0, Line: 9}},
		} {
			errs := MustLocationErrors(t, db, tt.loc)
			if diff := cmp.Diff([]problem{tt.want}, problems(errs)); diff != "" {
				t.Errorf("errors of %s mismatch (-want +got):\n%s", tt.loc.Key(), diff)
			}
			mustMention(t, errs, "named pipe", "only regular files")
		}
		refs := MustRefs(t, db)
		for _, ref := range []string{"group:default/team-a", "api:default/piped"} {
			if !slices.Contains(refs, ref) {
				t.Errorf("%s not ingested; have %v", ref, refs)
			}
		}
	})
}

// TestValidate_FIFO checks that offline validation refuses a named pipe at
// once, given as an argument or found in a directory.
func TestValidate_FIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := MustMkfifo(t, MustDir(t, dir, "piped"), "catalog-info.yaml")
	MustWrite(t, dir, "good/catalog-info.yaml", teamA)
	for _, arg := range []string{fifo, dir} {
		done := make(chan ingest.Validation, 1)
		go func() {
			res, err := ingest.Validate(context.Background(), []string{arg}, 0)
			if err != nil {
				t.Error(err)
			}
			done <- res
		}()
		select {
		case res := <-done:
			want := []problem{{Level: "error", Code: catalog.ErrorCodeRead, Key: "file:" + fifo, Doc: -1}}
			if diff := cmp.Diff(want, problems(res.Problems)); diff != "" {
				t.Errorf("Validate(%s) problems mismatch (-want +got):\n%s", arg, diff)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Validate(%s) still running after 10s", arg)
		}
	}
}

// MustDir makes a directory below dir and returns its path.
func MustDir(tb testing.TB, dir, name string) string {
	tb.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(p, 0o755); err != nil {
		tb.Fatal(err)
	}
	return p
}
