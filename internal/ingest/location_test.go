package ingest_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

func TestEngine_Refresh_FileLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		files  map[string]string
		target string // registered, relative to the directory
		// want maps each ref other than the generated location's to the
		// file it was read from
		want map[string]string
		errs []problem // Key holds a file name relative to the directory
		// words are mentioned by every error message
		words []string
	}{
		{
			name:   "SinglePath",
			files:  map[string]string{"catalog-info.yaml": docs(teamA, component("svc")), "other/catalog-info.yaml": component("other")},
			target: "catalog-info.yaml",
			want:   map[string]string{"group:default/team-a": "catalog-info.yaml", "component:default/svc": "catalog-info.yaml"},
		},
		{
			name: "Glob",
			files: map[string]string{
				"catalog-info.yaml":       teamA,
				"a/catalog-info.yaml":     component("a"),
				"a/b/catalog-info.yaml":   component("b"),
				"a/b/other.yaml":          component("not-matched"),
				"c/catalog-info.yml":      component("not-matched-either"),
				"c/d/e/catalog-info.yaml": component("e"),
			},
			target: "**/catalog-info.yaml",
			want: map[string]string{
				"group:default/team-a": "catalog-info.yaml",
				"component:default/a":  "a/catalog-info.yaml",
				"component:default/b":  "a/b/catalog-info.yaml",
				"component:default/e":  "c/d/e/catalog-info.yaml",
			},
		},
		{
			// Each relative target resolves against the file that holds
			// its Location: ../other/y.yaml from teams/x.yaml is
			// root/other/y.yaml, not other/y.yaml beside root/.
			name: "NestedRelative",
			files: map[string]string{
				"root/catalog-info.yaml": docs(teamA, location("root", "targets:", "  - ./teams/x.yaml", "  - ../sibling/s.yaml")),
				"root/teams/x.yaml":      docs(component("x"), location("x", "target: ../other/y.yaml")),
				"root/other/y.yaml":      component("y"),
				"sibling/s.yaml":         component("s"),
				"other/y.yaml":           component("wrong-y"),
			},
			target: "root/catalog-info.yaml",
			want: map[string]string{
				"group:default/team-a":  "root/catalog-info.yaml",
				"location:default/root": "root/catalog-info.yaml",
				"component:default/x":   "root/teams/x.yaml",
				"location:default/x":    "root/teams/x.yaml",
				"component:default/y":   "root/other/y.yaml",
				"component:default/s":   "sibling/s.yaml",
			},
		},
		{
			name: "OptionalMissing",
			files: map[string]string{
				"catalog-info.yaml": docs(teamA,
					location("maybe", "target: ./missing.yaml", "presence: optional"),
					location("maybe-glob", "target: ./nothing/**/*.yaml", "presence: optional")),
			},
			target: "catalog-info.yaml",
			want: map[string]string{
				"group:default/team-a":        "catalog-info.yaml",
				"location:default/maybe":      "catalog-info.yaml",
				"location:default/maybe-glob": "catalog-info.yaml",
			},
		},
		{
			name:   "RequiredMissing",
			files:  map[string]string{"catalog-info.yaml": docs(teamA, location("needed", "target: ./missing.yaml"), component("beside"))},
			target: "catalog-info.yaml",
			want: map[string]string{
				"group:default/team-a":     "catalog-info.yaml",
				"location:default/needed":  "catalog-info.yaml",
				"component:default/beside": "catalog-info.yaml",
			},
			errs:  []problem{{Level: "error", Code: catalog.ErrorCodeRead, Key: "catalog-info.yaml", Ref: "location:default/needed", Doc: -1}},
			words: []string{"missing.yaml", "not found"},
		},
		{
			name: "Cycle",
			files: map[string]string{
				"a.yaml":   docs(teamA, location("a", "target: ./b/b.yaml")),
				"b/b.yaml": docs(location("b", "targets: [../a.yaml, ./b.yaml, ../c.yaml]"), component("b")),
				"c.yaml":   location("c", "target: ./b/../a.yaml"),
			},
			target: "a.yaml",
			want: map[string]string{
				"group:default/team-a": "a.yaml",
				"location:default/a":   "a.yaml",
				"location:default/b":   "b/b.yaml",
				"component:default/b":  "b/b.yaml",
				"location:default/c":   "c.yaml",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
				dir := t.TempDir()
				for name, content := range tt.files {
					MustWrite(t, dir, name, content)
				}
				abs := func(name string) string { return filepath.Join(dir, filepath.FromSlash(name)) }
				loc := MustCreateLocation(t, db, ingest.TypeFile, abs(tt.target))
				eng := ingest.NewEngine(db, ingest.Options{})
				stats := MustRefresh(t, eng, loc)

				want := map[string][2]string{generatedRef(loc): {loc.Key(), loc.Key()}}
				for ref, name := range tt.want {
					want[ref] = [2]string{"file:" + abs(name), loc.Key()}
				}
				got := map[string][2]string{}
				for _, e := range MustEntities(t, db) {
					got[e.Ref().String()] = [2]string{
						e.Metadata.Annotations[catalog.AnnotationManagedByLocation],
						e.Metadata.Annotations[catalog.AnnotationManagedByOriginLocation],
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("entities and their managed-by-location, managed-by-origin-location mismatch (-want +got):\n%s", diff)
				}
				if stats.Emitted != len(want) || stats.Added != len(want) {
					t.Errorf("stats = %+v; want %d emitted and added", stats, len(want))
				}

				wantErrs := []problem{}
				for _, p := range tt.errs {
					p.Key = "file:" + abs(p.Key)
					wantErrs = append(wantErrs, p)
				}
				errs := MustLocationErrors(t, db, loc)
				if diff := cmp.Diff(wantErrs, problems(errs)); diff != "" {
					t.Errorf("location errors mismatch (-want +got):\n%s", diff)
				}
				mustMention(t, errs, tt.words...)
			})
		})
	}
}

// catalogServer serves files over HTTP with an ETag (the content's
// length and a version counter), answering 304 to a matching
// If-None-Match, and records the requests it gets.
type catalogServer struct {
	*httptest.Server

	mu       sync.Mutex
	files    map[string]string
	version  map[string]int
	requests []request
	// hook, when set, runs before a path is served; it may write the
	// response itself and return true.
	hook func(w http.ResponseWriter, r *http.Request) bool
}

type request struct {
	Path, IfNoneMatch string
	Status            int
}

// MustServe starts a server for files, keyed by path ("/a/b.yaml").
func MustServe(tb testing.TB, files map[string]string) *catalogServer {
	tb.Helper()
	s := &catalogServer{files: map[string]string{}, version: map[string]int{}}
	for p, c := range files {
		s.set(p, c)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

func (s *catalogServer) set(path, content string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = content
	s.version[path]++
}

func (s *catalogServer) etag(path string) string {
	return `"v` + strings.Repeat("1", s.version[path]) + `"`
}

func (s *catalogServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hook := s.hook
	s.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	req := request{Path: r.URL.Path, IfNoneMatch: r.Header.Get("If-None-Match")}
	content, ok := s.files[r.URL.Path]
	switch {
	case !ok:
		req.Status = http.StatusNotFound
		http.NotFound(w, r)
	case req.IfNoneMatch == s.etag(r.URL.Path):
		req.Status = http.StatusNotModified
		w.WriteHeader(http.StatusNotModified)
	default:
		req.Status = http.StatusOK
		w.Header().Set("ETag", s.etag(r.URL.Path))
		w.Write([]byte(content))
	}
	s.requests = append(s.requests, req)
}

// takeRequests returns the requests served since the last call, sorted by path.
func (s *catalogServer) takeRequests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.requests
	s.requests = nil
	slices.SortFunc(out, func(a, b request) int { return strings.Compare(a.Path, b.Path) })
	return out
}

func TestEngine_Refresh_URLLocation(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, map[string]string{
			"/repo/catalog-info.yaml": docs(teamA, location("root", "targets: [./svc/catalog-info.yaml, ../shared/lib.yaml, /abs/abs.yaml, /top.yaml]")),
			"/repo/svc/catalog-info.yaml": docs(
				component("svc", "dependsOn: [component:lib]"),
				// An author's view-url wins over the computed one.
				strings.Replace(component("docs"), "  name: docs\n", "  name: docs\n  annotations:\n    backstage.io/view-url: https://example.com/docs\n", 1),
				location("svc", "target: api.yaml")),
			"/repo/svc/api.yaml": component("api"),
			"/shared/lib.yaml":   component("lib"),
			"/abs/abs.yaml":      component("abs"),
			// At the root, the source location is "url:http://host/", not "//".
			"/top.yaml": component("top"),
		})
		rootURL := srv.URL + "/repo/catalog-info.yaml"
		loc := MustCreateLocation(t, db, ingest.TypeURL, rootURL)
		eng := ingest.NewEngine(db, ingest.Options{})
		stats := MustRefresh(t, eng, loc)

		// ref → the URL it was read from, its view-url and source-location
		type annotations struct{ ManagedBy, Origin, ViewURL, Source string }
		from := func(path, view string) annotations {
			src := srv.URL + path[:strings.LastIndex(path, "/")+1]
			if view == "" {
				view = srv.URL + path
			}
			return annotations{"url:" + srv.URL + path, "url:" + rootURL, view, "url:" + src}
		}
		want := map[string]annotations{
			generatedRef(loc):        {ManagedBy: "url:" + rootURL, Origin: "url:" + rootURL},
			"group:default/team-a":   from("/repo/catalog-info.yaml", ""),
			"location:default/root":  from("/repo/catalog-info.yaml", ""),
			"component:default/svc":  from("/repo/svc/catalog-info.yaml", ""),
			"component:default/docs": from("/repo/svc/catalog-info.yaml", "https://example.com/docs"),
			"location:default/svc":   from("/repo/svc/catalog-info.yaml", ""),
			"component:default/api":  from("/repo/svc/api.yaml", ""),
			"component:default/lib":  from("/shared/lib.yaml", ""),
			"component:default/abs":  from("/abs/abs.yaml", ""),
			"component:default/top":  from("/top.yaml", ""),
		}
		got := map[string]annotations{}
		first := MustEntities(t, db)
		for _, e := range first {
			a := e.Metadata.Annotations
			got[e.Ref().String()] = annotations{a[catalog.AnnotationManagedByLocation], a[catalog.AnnotationManagedByOriginLocation], a[catalog.AnnotationViewURL], a[catalog.AnnotationSourceLocation]}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("entities and annotations mismatch (-want +got):\n%s", diff)
		}
		if errs := MustLocationErrors(t, db, loc); len(errs) != 0 {
			t.Errorf("location errors = %+v; want none", errs)
		}
		if stats.Added != len(want) {
			t.Errorf("stats = %+v; want %d added", stats, len(want))
		}
		paths := []string{"/abs/abs.yaml", "/repo/catalog-info.yaml", "/repo/svc/api.yaml", "/repo/svc/catalog-info.yaml", "/shared/lib.yaml", "/top.yaml"}
		var wantReqs []request
		for _, p := range paths {
			wantReqs = append(wantReqs, request{Path: p, Status: http.StatusOK})
		}
		if diff := cmp.Diff(wantReqs, srv.takeRequests()); diff != "" {
			t.Errorf("first refresh requests mismatch (-want +got):\n%s", diff)
		}

		t.Run("NotModified", func(t *testing.T) {
			stats := MustRefresh(t, eng, loc)
			if diff := cmp.Diff(catalog.RefreshStats{Emitted: len(want), Unchanged: len(want)}, stats); diff != "" {
				t.Errorf("stats mismatch (-want +got):\n%s", diff)
			}
			var wantReqs []request
			for _, p := range paths {
				wantReqs = append(wantReqs, request{Path: p, IfNoneMatch: `"v1"`, Status: http.StatusNotModified})
			}
			if diff := cmp.Diff(wantReqs, srv.takeRequests()); diff != "" {
				t.Errorf("second refresh requests mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(first, MustEntities(t, db)); diff != "" {
				t.Errorf("entities changed (-want +got):\n%s", diff)
			}
		})

		t.Run("Modified", func(t *testing.T) {
			srv.set("/repo/svc/api.yaml", strings.Replace(component("api"), "production", "deprecated", 1))
			stats := MustRefresh(t, eng, loc)
			if diff := cmp.Diff(catalog.RefreshStats{Emitted: len(want), Updated: 1, Unchanged: len(want) - 1}, stats); diff != "" {
				t.Errorf("stats mismatch (-want +got):\n%s", diff)
			}
			reqs := srv.takeRequests()
			if i := slices.IndexFunc(reqs, func(r request) bool { return r.Path == "/repo/svc/api.yaml" }); i < 0 || reqs[i].Status != http.StatusOK || reqs[i].IfNoneMatch != `"v1"` {
				t.Errorf("requests = %+v; want api.yaml fetched again after a 304 check failed", reqs)
			}
			if got := MustEntity(t, db, "component:default/api").SpecString("lifecycle"); got != "deprecated" {
				t.Errorf("lifecycle = %q; want deprecated", got)
			}
		})
	})
}

// TestEngine_Refresh_URLNotFound checks that a missing URL is a READ error
// unless its Location says it is optional.
func TestEngine_Refresh_URLNotFound(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, map[string]string{
			"/catalog-info.yaml": docs(teamA, location("maybe", "target: ./gone.yaml", "presence: optional"), location("needed", "target: ./missing.yaml")),
		})
		loc := MustCreateLocation(t, db, ingest.TypeURL, srv.URL+"/catalog-info.yaml")
		MustRefresh(t, ingest.NewEngine(db, ingest.Options{}), loc)
		errs := MustLocationErrors(t, db, loc)
		want := []problem{{Level: "error", Code: catalog.ErrorCodeRead, Key: "url:" + srv.URL + "/missing.yaml", Ref: "location:default/needed", Doc: -1}}
		if diff := cmp.Diff(want, problems(errs)); diff != "" {
			t.Errorf("location errors mismatch (-want +got):\n%s", diff)
		}
		mustMention(t, errs, srv.URL+"/missing.yaml", "404")
	})
}
