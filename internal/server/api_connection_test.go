package server_test

import (
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// sortKeys returns, for every entity, the key each EntityOrderField sorts
// it by, read from its fields as served.
func sortKeys(t *testing.T, srv *httptest.Server) map[string]map[string]string {
	t.Helper()
	var got struct {
		Entities struct {
			Edges []struct {
				Node struct {
					Ref, Name, Kind, Namespace string
					Title                      *string
					Spec                       map[string]any
				}
			}
		}
	}
	MustQuery(t, srv, `{ entities(first: 1000) { edges { node { ref name kind namespace title spec } } } }`, nil, &got)
	keys := map[string]map[string]string{}
	for _, e := range got.Entities.Edges {
		n := e.Node
		typ, _ := n.Spec["type"].(string)
		lifecycle, _ := n.Spec["lifecycle"].(string)
		keys[n.Ref] = map[string]string{
			"REF": n.Ref, "NAME": strings.ToLower(n.Name), "KIND": strings.ToLower(n.Kind), "NAMESPACE": n.Namespace,
			"TITLE": strings.ToLower(deref(n.Title)), "TYPE": strings.ToLower(typ), "LIFECYCLE": strings.ToLower(lifecycle),
		}
	}
	return keys
}

// expectedOrder sorts refs as the API must: by the field's key, then ref.
func expectedOrder(keys map[string]map[string]string, field string, desc bool) []string {
	refs := make([]string, 0, len(keys))
	for ref := range keys {
		refs = append(refs, ref)
	}
	slices.SortFunc(refs, func(a, b string) int {
		c := strings.Compare(keys[a][field], keys[b][field])
		if c == 0 {
			c = strings.Compare(a, b)
		}
		if desc {
			c = -c
		}
		return c
	})
	return refs
}

// pageForward pages through entities with first/after and returns their
// refs, checking each page's info on the way.
func pageForward(t *testing.T, srv *httptest.Server, vars map[string]any, size, total int) []string {
	t.Helper()
	var refs []string
	var after any
	for pages := 0; ; pages++ {
		v := map[string]any{"first": size, "after": after}
		for k, x := range vars {
			v[k] = x
		}
		p := MustList(t, srv, v)
		checkPage(t, p, pages, total)
		if len(p.Edges) > size {
			t.Fatalf("page %d has %d edges; first is %d", pages, len(p.Edges), size)
		}
		if p.PageInfo.HasPreviousPage != (pages > 0) {
			t.Errorf("page %d: hasPreviousPage %v; want %v", pages, p.PageInfo.HasPreviousPage, pages > 0)
		}
		refs = append(refs, p.refs()...)
		if !p.PageInfo.HasNextPage {
			return refs
		}
		if pages > total {
			t.Fatal("pagination does not end")
		}
		after = *p.PageInfo.EndCursor
	}
}

// pageBackward pages through entities with last/before from the end, and
// returns their refs in order.
func pageBackward(t *testing.T, srv *httptest.Server, vars map[string]any, size, total int) []string {
	t.Helper()
	var pages [][]string
	var before any
	for n := 0; ; n++ {
		v := map[string]any{"last": size, "before": before}
		for k, x := range vars {
			v[k] = x
		}
		p := MustList(t, srv, v)
		checkPage(t, p, n, total)
		if len(p.Edges) > size {
			t.Fatalf("page %d has %d edges; last is %d", n, len(p.Edges), size)
		}
		if p.PageInfo.HasNextPage != (n > 0) {
			t.Errorf("page %d from the end: hasNextPage %v; want %v", n, p.PageInfo.HasNextPage, n > 0)
		}
		pages = append(pages, p.refs())
		if !p.PageInfo.HasPreviousPage {
			break
		}
		if n > total {
			t.Fatal("pagination does not end")
		}
		before = *p.PageInfo.StartCursor
	}
	var refs []string
	for i := len(pages) - 1; i >= 0; i-- {
		refs = append(refs, pages[i]...)
	}
	return refs
}

func checkPage(t *testing.T, p entityPage, n, total int) {
	t.Helper()
	if p.TotalCount != total {
		t.Errorf("page %d: totalCount %d; want %d", n, p.TotalCount, total)
	}
	if len(p.Edges) == 0 {
		if p.PageInfo.StartCursor != nil || p.PageInfo.EndCursor != nil {
			t.Errorf("page %d is empty but has cursors", n)
		}
		return
	}
	if deref(p.PageInfo.StartCursor) != p.Edges[0].Cursor || deref(p.PageInfo.EndCursor) != p.Edges[len(p.Edges)-1].Cursor {
		t.Errorf("page %d: start and end cursors are not those of its first and last edges", n)
	}
}

// TestQuery_EntitiesConnection pages through the example catalog in every
// order, both ways.
func TestQuery_EntitiesConnection(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServe(t, db)
		keys := sortKeys(t, srv)
		if len(keys) != 44 {
			t.Fatalf("%d entities; want 44", len(keys))
		}

		t.Run("TotalCount", func(t *testing.T) {
			for _, c := range []struct {
				filter map[string]any
				want   int
			}{
				{nil, 44},
				{map[string]any{"kind": []string{"user"}}, 9},
				{map[string]any{"kind": []string{"user"}, "not": map[string]any{"name": []string{"sam.rivera"}}}, 8},
				{map[string]any{"kind": []string{"nothing"}}, 0},
			} {
				// totalCount counts every page, whatever the page size.
				p := MustList(t, srv, map[string]any{"filter": c.filter, "first": 2})
				if p.TotalCount != c.want {
					t.Errorf("filter %v: totalCount %d; want %d", c.filter, p.TotalCount, c.want)
				}
			}
		})

		for _, field := range []string{"REF", "NAME", "KIND", "NAMESPACE", "TITLE", "TYPE", "LIFECYCLE"} {
			for _, dir := range []string{"ASC", "DESC"} {
				t.Run(field+"_"+dir, func(t *testing.T) {
					want := expectedOrder(keys, field, dir == "DESC")
					vars := map[string]any{"orderBy": map[string]any{"field": field, "direction": dir}}
					if diff := cmp.Diff(want, pageForward(t, srv, vars, 7, 44)); diff != "" {
						t.Errorf("forward mismatch (-want +got):\n%s", diff)
					}
					if diff := cmp.Diff(want, pageBackward(t, srv, vars, 7, 44)); diff != "" {
						t.Errorf("backward mismatch (-want +got):\n%s", diff)
					}
				})
			}
		}

		t.Run("DefaultOrderIsRefAscending", func(t *testing.T) {
			if diff := cmp.Diff(expectedOrder(keys, "REF", false), pageForward(t, srv, nil, 10, 44)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			// A direction alone keeps the default field.
			vars := map[string]any{"orderBy": map[string]any{"direction": "DESC"}}
			if diff := cmp.Diff(expectedOrder(keys, "REF", true), pageForward(t, srv, vars, 10, 44)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})

		t.Run("FilteredPages", func(t *testing.T) {
			vars := map[string]any{
				"filter":  map[string]any{"kind": []string{"component", "api"}},
				"orderBy": map[string]any{"field": "LIFECYCLE", "direction": "DESC"},
			}
			var want []string
			for _, ref := range expectedOrder(keys, "LIFECYCLE", true) {
				if strings.HasPrefix(ref, "component:") || strings.HasPrefix(ref, "api:") {
					want = append(want, ref)
				}
			}
			if diff := cmp.Diff(want, pageForward(t, srv, vars, 3, 14)); diff != "" {
				t.Errorf("forward mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, pageBackward(t, srv, vars, 4, 14)); diff != "" {
				t.Errorf("backward mismatch (-want +got):\n%s", diff)
			}
		})

		t.Run("BeforeAndAfter", func(t *testing.T) {
			want := expectedOrder(keys, "NAME", false)
			vars := map[string]any{"orderBy": map[string]any{"field": "NAME"}, "first": 10}
			p := MustList(t, srv, vars)
			// The entities strictly between the 2nd and the 9th.
			vars["after"], vars["before"] = p.Edges[1].Cursor, p.Edges[8].Cursor
			if diff := cmp.Diff(want[2:8], MustList(t, srv, vars).refs()); diff != "" {
				t.Errorf("first/after/before mismatch (-want +got):\n%s", diff)
			}
			delete(vars, "first")
			vars["last"] = 3
			if diff := cmp.Diff(want[5:8], MustList(t, srv, vars).refs()); diff != "" {
				t.Errorf("last/after/before mismatch (-want +got):\n%s", diff)
			}
		})

		t.Run("Errors", func(t *testing.T) {
			cursorOf := func(vars map[string]any) string {
				p := MustList(t, srv, vars)
				return *p.PageInfo.EndCursor
			}
			byRef := cursorOf(map[string]any{"first": 3})
			byUsers := cursorOf(map[string]any{"first": 3, "filter": map[string]any{"kind": []string{"user"}}})
			forged := base64.RawURLEncoding.EncodeToString([]byte(`{"p":{"k":"a","r":"a"},"q":"0000000000000000"}`))
			tests := []struct {
				name string
				vars map[string]any
			}{
				{"FirstAndLast", map[string]any{"first": 1, "last": 1}},
				{"FirstOverCap", map[string]any{"first": 1001}},
				{"FirstNegative", map[string]any{"first": -1}},
				{"LastOverCap", map[string]any{"last": 1001}},
				{"LastNegative", map[string]any{"last": -5}},
				{"CursorOfAnotherFilter", map[string]any{"after": byUsers, "filter": map[string]any{"kind": []string{"group"}}}},
				{"CursorOfNoFilter", map[string]any{"after": byRef, "filter": map[string]any{"kind": []string{"user"}}}},
				{"CursorOfAnotherField", map[string]any{"after": byRef, "orderBy": map[string]any{"field": "NAME"}}},
				{"CursorOfAnotherDirection", map[string]any{"after": byRef, "orderBy": map[string]any{"field": "REF", "direction": "DESC"}}},
				{"BeforeOfAnotherOrder", map[string]any{"last": 2, "before": byRef, "orderBy": map[string]any{"field": "KIND"}}},
				{"MalformedCursor", map[string]any{"after": "not a cursor!"}},
				{"MalformedCursorJSON", map[string]any{"after": base64.RawURLEncoding.EncodeToString([]byte("{nope"))}},
				{"MalformedBefore", map[string]any{"last": 2, "before": "%%%"}},
				{"ForgedCursor", map[string]any{"after": forged}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					wantCode(t, srv, "INVALID", listQuery, tt.vars)
				})
			}
			t.Run("MessageNamesCap", func(t *testing.T) {
				if _, msg := MustFail(t, srv, listQuery, map[string]any{"first": 5000}); !strings.Contains(msg, "1000") {
					t.Errorf("message %q; want it to name the cap of 1000", msg)
				}
			})
		})
	})
}

// apiYAML returns an API descriptor owned by team-data.
func apiYAML(name string) string {
	return fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: %s
spec:
  type: openapi
  lifecycle: production
  owner: team-data
  definition: "openapi: 3.0.0"
`, name)
}

const registerFile = `mutation($target: String!) { registerLocation(type: "file", target: $target) { location { id } entities { ref } } }`

// TestQuery_EntitiesPagingStability adds entities that sort before the
// cursor of a first page, and checks that the second page continues
// exactly after the first.
func TestQuery_EntitiesPagingStability(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, exampleCatalog(t))
		dir := t.TempDir()
		const size = 5
		tests := []struct {
			name    string
			orderBy map[string]any
			added   []string // refs that sort before the first page's end
			change  func(t *testing.T)
		}{
			{
				name: "RegisterBeforeCursorByRef", orderBy: map[string]any{"field": "REF"},
				added: []string{"api:default/aaa-early"},
				change: func(t *testing.T) {
					MustQuery(t, srv, registerFile, map[string]any{"target": MustWriteFile(t, dir, "early.yaml", apiYAML("aaa-early"))}, &struct{}{})
				},
			},
			{
				name: "RefreshBeforeCursorByName", orderBy: map[string]any{"field": "NAME"},
				added: []string{"api:default/aab-early"},
				change: func(t *testing.T) {
					p := MustWriteFile(t, dir, "early.yaml", yamlDocs(apiYAML("aaa-early"), apiYAML("aab-early")))
					if st := MustRefresh(t, srv, MustLocationID(t, srv, p)); st.Added != 1 {
						t.Errorf("refresh added %d; want 1", st.Added)
					}
				},
			},
			{
				name: "RegisterBeforeCursorByNameDescending", orderBy: map[string]any{"field": "NAME", "direction": "DESC"},
				added: []string{"component:default/zz-late"},
				change: func(t *testing.T) {
					MustQuery(t, srv, registerFile, map[string]any{"target": MustWriteFile(t, dir, "late.yaml", component("zz-late"))}, &struct{}{})
				},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := MustList(t, srv, map[string]any{"orderBy": tt.orderBy, "first": 2 * size}).refs()
				page1 := MustList(t, srv, map[string]any{"orderBy": tt.orderBy, "first": size})
				tt.change(t)
				// The new entities do sort before the cursor...
				again := MustList(t, srv, map[string]any{"orderBy": tt.orderBy, "first": size}).refs()
				for _, ref := range tt.added {
					if !slices.Contains(again, ref) {
						t.Fatalf("%s is not on the first page now (%v): the test does not test", ref, again)
					}
				}
				// ...and the second page continues after the first page's last.
				page2 := MustList(t, srv, map[string]any{"orderBy": tt.orderBy, "first": size, "after": *page1.PageInfo.EndCursor})
				if diff := cmp.Diff(before[size:], page2.refs()); diff != "" {
					t.Errorf("second page mismatch (-want +got):\n%s", diff)
				}
				if !page2.PageInfo.HasPreviousPage {
					t.Error("second page: hasPreviousPage false")
				}
			})
		}
	})
}
