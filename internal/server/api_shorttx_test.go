package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// TestMutation_NotBehindSlowRefresh checks that writes never wait on a
// refresh's reads: while a URL location is being read from a server that
// answers after 5 s, deleting another location and registering a third,
// through the API and audited, each complete in under 100 ms. A refresh
// that held its write transaction while it read would hold SQLite's one
// writer, or the location rows, for the 5 s.
func TestMutation_NotBehindSlowRefresh(t *testing.T) {
	t.Parallel()
	const answerAfter, limit = 5 * time.Second, 100 * time.Millisecond
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		doomed := MustWriteFile(t, dir, "doomed.yaml", component("doomed-service"))
		srv := MustServeFiles(t, db, doomed)

		requested := make(chan struct{})
		var once sync.Once
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(requested) })
			select {
			case <-time.After(answerAfter):
			case <-r.Context().Done():
				return
			}
			io.WriteString(w, component("slow-service"))
		}))
		t.Cleanup(slow.Close)
		slowLoc, _, err := db.CreateLocation(ctx, ingest.TypeURL, slow.URL+"/catalog-info.yaml")
		if err != nil {
			t.Fatal(err)
		}
		refreshed := make(chan refreshStats, 1)
		go func() {
			var got struct{ RefreshLocation struct{ Stats refreshStats } }
			r := send(t, srv, refreshMutation, map[string]any{"id": slowLoc.ID})
			if len(r.Errors) > 0 {
				t.Errorf("refresh of the slow location: %+v", r.Errors)
			} else {
				mustData(t, r, &got)
			}
			refreshed <- got.RefreshLocation.Stats
		}()
		select {
		case <-requested:
		case <-time.After(answerAfter):
			t.Fatal("the refresh did not read the slow URL")
		}

		var doomedID string
		locs, err := db.Locations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range locs {
			if l.Target == doomed {
				doomedID = l.ID
			}
		}
		start := time.Now()
		var deleted struct{ DeleteLocation struct{ DeletedEntities int } }
		MustQuery(t, srv, deleteLocationMutation, map[string]any{"id": doomedID}, &deleted)
		if d := time.Since(start); d > limit {
			t.Errorf("deleteLocation took %v while a URL was being read; want under %v", d, limit)
		}
		if deleted.DeleteLocation.DeletedEntities != 2 {
			t.Errorf("deleteLocation deleted %d entities; want 2 (the component and the generated Location)", deleted.DeleteLocation.DeletedEntities)
		}

		fresh := MustWriteFile(t, dir, "fresh.yaml", component("fresh-service"))
		start = time.Now()
		if got := MustRegister(t, srv, fresh, false); got.Location == nil {
			t.Errorf("registerLocation: no location")
		}
		if d := time.Since(start); d > limit {
			t.Errorf("registerLocation took %v while a URL was being read; want under %v", d, limit)
		}

		select {
		case stats := <-refreshed:
			if stats.Added != 2 {
				t.Errorf("slow refresh stats %+v; want 2 added", stats)
			}
		case <-time.After(4 * answerAfter):
			t.Fatal("the slow refresh did not finish")
		}
		for ref, want := range map[string]bool{
			"component:default/slow-service":   true,
			"component:default/fresh-service":  true,
			"component:default/doomed-service": false,
			slowLoc.EntityRef():                true,
		} {
			if got := MustEntityRef(t, srv, ref) != ""; got != want {
				t.Errorf("%s stored: %v; want %v", ref, got, want)
			}
		}
		errs, err := db.LocationErrors(ctx, slowLoc.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, pe := range errs {
			if pe.Level == catalog.LevelError {
				t.Errorf("error of the slow location %+v; want none", pe)
			}
		}
	})
}
