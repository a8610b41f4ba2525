package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
	"github.com/greenroomhq/greenroom/resolvers"
)

// MustServe ingests the example catalog into db and serves the API over a
// real HTTP server.
func MustServe(t *testing.T, db *store.DB) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	target, err := filepath.Abs(filepath.Join("..", "..", "examples", "catalog", "all.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateLocation(ctx, ingest.TypeFile, target); err != nil {
		t.Fatal(err)
	}
	eng := ingest.NewEngine(db, ingest.Options{})
	if err := eng.RefreshAll(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(optionsRegistering(t, db, eng, allowAll)))
	t.Cleanup(srv.Close)
	return srv
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// post sends a GraphQL request and decodes the response.
func post(t *testing.T, srv *httptest.Server, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(srv.URL+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustData(t *testing.T, r gqlResponse, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatal(err)
	}
}

func errorCode(t *testing.T, r gqlResponse) string {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Fatalf("expected an error, got data %s", r.Data)
	}
	code, _ := r.Errors[0].Extensions["code"].(string)
	return code
}

func TestQuery_Entity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, db)
		const q = `query($ref: String!) { entity(ref: $ref) { ref uid kind namespace name title etag raw errors { code } } }`
		t.Run("OK", func(t *testing.T) {
			var got struct {
				Entity struct {
					Ref, UID, Kind, Namespace, Name, Etag string
					Title                                 *string
					Raw                                   map[string]any
				}
			}
			// Case and a left-out namespace do not matter.
			mustData(t, post(t, srv, q, map[string]any{"ref": "Group:Platform-Admins"}), &got)
			e := got.Entity
			if e.Ref != "group:default/platform-admins" || e.Kind != "Group" || e.Namespace != "default" || e.Name != "platform-admins" {
				t.Errorf("got %+v", e)
			}
			if e.UID == "" || e.Etag == "" {
				t.Errorf("uid %q etag %q; want both set", e.UID, e.Etag)
			}
			md, _ := e.Raw["metadata"].(map[string]any)
			if md["uid"] != e.UID {
				t.Errorf("raw metadata.uid %v; want %s", md["uid"], e.UID)
			}
		})
		t.Run("NotFound", func(t *testing.T) {
			r := post(t, srv, q, map[string]any{"ref": "component:default/no-such-thing"})
			if len(r.Errors) > 0 || string(r.Data) != `{"entity":null}` {
				t.Errorf("got data %s errors %+v; want a null entity", r.Data, r.Errors)
			}
		})
		t.Run("ErrInvalidRef", func(t *testing.T) {
			for _, ref := range []string{"no-kind", "component:", ":x"} {
				if code := errorCode(t, post(t, srv, q, map[string]any{"ref": ref})); code != "INVALID" {
					t.Errorf("ref %q: code %q; want INVALID", ref, code)
				}
			}
		})
	})
}

func TestQuery_Entities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, db)
		const q = `query($first: Int, $after: String, $kind: [String!]) {
			entities(first: $first, after: $after, filter: {kind: $kind}) {
				edges { cursor node { ref kind } }
				pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
			}
		}`
		type page struct {
			Entities struct {
				Edges []struct {
					Cursor string
					Node   struct{ Ref, Kind string }
				}
				PageInfo struct {
					HasNextPage, HasPreviousPage bool
					StartCursor, EndCursor       *string
				}
			}
		}
		t.Run("PagesCoverEverything", func(t *testing.T) {
			seen := map[string]bool{}
			var after any
			for pages := 0; ; pages++ {
				var p page
				mustData(t, post(t, srv, q, map[string]any{"first": 10, "after": after}), &p)
				for _, e := range p.Entities.Edges {
					if seen[e.Node.Ref] {
						t.Fatalf("%s listed twice", e.Node.Ref)
					}
					seen[e.Node.Ref] = true
				}
				if pages > 0 != p.Entities.PageInfo.HasPreviousPage {
					t.Errorf("page %d: hasPreviousPage %v", pages, p.Entities.PageInfo.HasPreviousPage)
				}
				if !p.Entities.PageInfo.HasNextPage {
					break
				}
				after = *p.Entities.PageInfo.EndCursor
			}
			ents, _, err := db.Counts(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != ents {
				t.Errorf("paged through %d entities; %d stored", len(seen), ents)
			}
		})
		t.Run("FilterByKind", func(t *testing.T) {
			var p page
			mustData(t, post(t, srv, q, map[string]any{"first": 100, "kind": []string{"user", "GROUP"}}), &p)
			if len(p.Entities.Edges) == 0 {
				t.Fatal("no users or groups")
			}
			for _, e := range p.Entities.Edges {
				if e.Node.Kind != "User" && e.Node.Kind != "Group" {
					t.Errorf("%s has kind %s", e.Node.Ref, e.Node.Kind)
				}
			}
		})
		t.Run("Empty", func(t *testing.T) {
			var p page
			mustData(t, post(t, srv, q, map[string]any{"kind": []string{"NoSuchKind"}}), &p)
			if len(p.Entities.Edges) != 0 || p.Entities.PageInfo.HasNextPage || p.Entities.PageInfo.EndCursor != nil {
				t.Errorf("got %+v; want an empty page", p)
			}
		})
		t.Run("ErrCursorOfAnotherFilter", func(t *testing.T) {
			var p page
			mustData(t, post(t, srv, q, map[string]any{"first": 2, "kind": []string{"user"}}), &p)
			cursor := *p.Entities.PageInfo.EndCursor
			r := post(t, srv, q, map[string]any{"first": 2, "after": cursor, "kind": []string{"group"}})
			if code := errorCode(t, r); code != "INVALID" {
				t.Errorf("code %q; want INVALID", code)
			}
		})
		t.Run("ErrBadCursor", func(t *testing.T) {
			if code := errorCode(t, post(t, srv, q, map[string]any{"after": "not-a-cursor"})); code != "INVALID" {
				t.Errorf("code %q; want INVALID", code)
			}
		})
		t.Run("ErrFirstOverCap", func(t *testing.T) {
			r := post(t, srv, q, map[string]any{"first": 1001})
			if code := errorCode(t, r); code != "INVALID" || !strings.Contains(r.Errors[0].Message, "1000") {
				t.Errorf("code %q message %q; want INVALID naming the cap", code, r.Errors[0].Message)
			}
		})
	})
}

func TestFederation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, db)
		t.Run("Service", func(t *testing.T) {
			var got struct {
				Service struct{ SDL string } `json:"_service"`
			}
			mustData(t, post(t, srv, `{ _service { sdl } }`, nil), &got)
			for _, want := range []string{`@link(`, `federation/v2.3`, `type Component implements CatalogEntity @key(fields: "ref")`, `type PageInfo @shareable`} {
				if !strings.Contains(got.Service.SDL, want) {
					t.Errorf("sdl lacks %q", want)
				}
			}
			if strings.Contains(got.Service.SDL, "_entities") {
				t.Error("sdl includes the federation machinery")
			}
		})
		t.Run("Entities", func(t *testing.T) {
			var got struct {
				Entities []*struct{ Ref, Name string } `json:"_entities"`
			}
			mustData(t, post(t, srv, `query($r: [_Any!]!) { _entities(representations: $r) { ... on CatalogEntity { ref name } } }`,
				map[string]any{"r": []map[string]any{
					{"__typename": "Group", "ref": "group:default/platform-admins"},
					{"__typename": "Component", "ref": "component:default/missing"},
					{"__typename": "User", "ref": "user:default/jane.doe"},
				}}), &got)
			if len(got.Entities) != 3 || got.Entities[0] == nil || got.Entities[1] != nil || got.Entities[2] == nil {
				t.Fatalf("got %+v; want platform-admins, null, jane.doe", got.Entities)
			}
			if got.Entities[0].Name != "platform-admins" || got.Entities[2].Name != "jane.doe" {
				t.Errorf("got %+v, %+v", got.Entities[0], got.Entities[2])
			}
		})
	})
}

func TestProbes(t *testing.T) {
	var notReady atomic.Bool
	srv := httptest.NewServer(server.New(server.Options{
		Resolver: &resolvers.Resolver{},
		Ready: func(context.Context) error {
			if notReady.Load() {
				return errors.New("first ingestion pass still running")
			}
			return nil
		},
	}))
	defer srv.Close()
	get := func(path string) int {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("/healthz"); got != http.StatusOK {
		t.Errorf("/healthz %d; want 200", got)
	}
	if got := get("/readyz"); got != http.StatusOK {
		t.Errorf("/readyz %d; want 200", got)
	}
	notReady.Store(true)
	if got := get("/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz when not ready %d; want 503", got)
	}
	if got := get("/"); got != http.StatusOK {
		t.Errorf("GraphiQL at / %d; want 200", got)
	}
	if got := get("/favicon.ico"); got != http.StatusOK {
		t.Errorf("/favicon.ico %d; want 200", got)
	}
}
