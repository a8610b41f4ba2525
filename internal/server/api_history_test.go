package server_test

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// described is a Component owned by team-data with a description.
func described(name, description string) string {
	return fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
  description: %s
spec:
  type: service
  lifecycle: production
  owner: team-data
`, name, description)
}

type versionNode struct {
	Operation string
	Actor     *string
	Etag      *string
	Changes   []struct {
		Path          string
		Before, After any
	}
	Raw *struct {
		Metadata struct{ Description string }
	}
}

type versionPage struct {
	Edges []struct {
		Cursor string
		Node   versionNode
	}
	PageInfo struct {
		HasNextPage bool
		EndCursor   *string
	}
}

func (p versionPage) ops() []string {
	var out []string
	for _, e := range p.Edges {
		out = append(out, e.Node.Operation)
	}
	return out
}

const versionFields = `edges { cursor node { operation actor etag changes { path before after } raw } } pageInfo { hasNextPage endCursor }`

// TestQuery_History takes an entity through create → update → orphan →
// delete on each database and checks its history (operations, actors,
// field changes, paging), entity(asOf:) at each stage, entityHistory once
// it is deleted, and that a caller who may not read the entity sees none
// of it.
func TestQuery_History(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		target := MustWriteFile(t, dir, "svc.yaml", yamlDocs(described("hist", "first"), described("stays", "x")))
		srv := MustServeFiles(t, db, target)
		id := MustLocationID(t, srv, target)
		const ref = "component:default/hist"
		stamp := func() time.Time {
			time.Sleep(20 * time.Millisecond)
			defer time.Sleep(20 * time.Millisecond)
			return time.Now().UTC()
		}
		asOf := func(at time.Time) *string {
			t.Helper()
			var got struct {
				Entity *struct{ Description *string }
			}
			MustQuery(t, srv, `query($ref: String!, $at: DateTime) { entity(ref: $ref, asOf: $at) { description } }`,
				map[string]any{"ref": ref, "at": at.Format(time.RFC3339Nano)}, &got)
			if got.Entity == nil {
				return nil
			}
			return got.Entity.Description
		}

		t1 := stamp() // created before
		MustWriteFile(t, dir, "svc.yaml", yamlDocs(described("hist", "second"), described("stays", "x")))
		MustRefresh(t, srv, id)
		t2 := stamp()
		MustWriteFile(t, dir, "svc.yaml", described("stays", "x"))
		MustRefresh(t, srv, id)
		t3 := stamp()

		var live struct {
			Entity struct{ History versionPage }
		}
		MustQuery(t, srv, `query($ref: String!) { entity(ref: $ref) { history { `+versionFields+` } } }`, map[string]any{"ref": ref}, &live)
		h := live.Entity.History
		if diff := cmp.Diff([]string{"ORPHANED", "UPDATED", "CREATED"}, h.ops()); diff != "" {
			t.Fatalf("history operations (-want +got):\n%s", diff)
		}
		upd := h.Edges[1].Node
		if len(upd.Changes) != 1 || upd.Changes[0].Path != "metadata.description" || upd.Changes[0].Before != "first" || upd.Changes[0].After != "second" {
			t.Errorf("UPDATED changes %+v; want metadata.description first → second", upd.Changes)
		}
		if upd.Actor == nil || *upd.Actor != "location:"+id || upd.Etag == nil || upd.Raw == nil || upd.Raw.Metadata.Description != "second" {
			t.Errorf("UPDATED version %+v; want actor location:%s, an etag, described second", upd, id)
		}
		if orph := h.Edges[0].Node; len(orph.Changes) != 1 || orph.Changes[0].Path != "metadata.annotations.backstage.io/orphan" {
			t.Errorf("ORPHANED changes %+v; want the orphan annotation", orph.Changes)
		}
		var created []string
		for _, c := range h.Edges[2].Node.Changes {
			if c.Before != nil {
				t.Errorf("first version's change %s has a before %v", c.Path, c.Before)
			}
			created = append(created, c.Path)
		}
		if diff := cmp.Diff([]string{"apiVersion", "kind", "metadata", "spec"}, created); diff != "" {
			t.Errorf("first version's changes (-want +got):\n%s", diff)
		}

		var del struct{ DeleteEntity struct{ Ref string } }
		MustQuery(t, srv, `mutation($ref: String!) { deleteEntity(ref: $ref) { ref } }`, map[string]any{"ref": ref}, &del)
		t4 := stamp()

		for _, c := range []struct {
			at   time.Time
			want string // "" for null
		}{{t1.Add(-time.Hour), ""}, {t1, "first"}, {t2, "second"}, {t3, "second"}, {t4, ""}} {
			got := asOf(c.at)
			if (got == nil) != (c.want == "") || got != nil && *got != c.want {
				t.Errorf("entity as of %s: %v; want %q (null for empty)", c.at.Format(time.RFC3339Nano), got, c.want)
			}
		}
		var gone struct{ Entity *struct{ Ref string } }
		MustQuery(t, srv, `query($ref: String!) { entity(ref: $ref) { ref } }`, map[string]any{"ref": ref}, &gone)
		if gone.Entity != nil {
			t.Errorf("deleted entity still served: %+v", gone.Entity)
		}

		// A deleted entity's history, a page at a time.
		var all []string
		var after *string
		for range 3 {
			var got struct{ EntityHistory versionPage }
			MustQuery(t, srv, `query($ref: String!, $after: String) { entityHistory(ref: $ref, first: 2, after: $after) { `+versionFields+` } }`,
				map[string]any{"ref": "Component:hist", "after": after}, &got)
			all = append(all, got.EntityHistory.ops()...)
			if !got.EntityHistory.PageInfo.HasNextPage {
				break
			}
			after = got.EntityHistory.PageInfo.EndCursor
		}
		if diff := cmp.Diff([]string{"DELETED", "ORPHANED", "UPDATED", "CREATED"}, all); diff != "" {
			t.Errorf("entityHistory pages (-want +got):\n%s", diff)
		}
		var last struct{ EntityHistory versionPage }
		MustQuery(t, srv, `query($ref: String!) { entityHistory(ref: $ref, first: 1) { `+versionFields+` } }`, map[string]any{"ref": ref}, &last)
		if d := last.EntityHistory.Edges[0].Node; d.Raw != nil || d.Etag != nil || len(d.Changes) == 0 {
			t.Errorf("DELETED version %+v; want no raw, no etag, the fields it had as changes", d)
		}
		wantCode(t, srv, "INVALID", `{ entityHistory(ref: "component:hist", after: "x") { edges { cursor } } }`, nil)
		wantCode(t, srv, "INVALID", `{ entity(ref: "component:hist", asOf: "last tuesday") { ref } }`, nil)

		// Someone who may read groups only sees nothing of it, live or deleted.
		eng := ingest.NewEngine(db, ingest.Options{})
		groups := httptest.NewServer(server.New(serverOptions(t, db, eng, `rules:
  - name: groups-only
    allow: [catalog.entity.read]
    to: [anyone]
    when: {kind: [Group]}
`)))
		t.Cleanup(groups.Close)
		for _, r := range []string{ref, "component:default/stays"} {
			wantCode(t, groups, "NOT_FOUND", `query($ref: String!) { entityHistory(ref: $ref) { edges { cursor } } }`, map[string]any{"ref": r})
			var got struct{ Entity *struct{ Ref string } }
			MustQuery(t, groups, `query($ref: String!, $at: DateTime) { entity(ref: $ref, asOf: $at) { ref } }`,
				map[string]any{"ref": r, "at": t2.Format(time.RFC3339Nano)}, &got)
			if got.Entity != nil {
				t.Errorf("%s as of %s shown to a caller who may not read it", r, t2)
			}
		}
	})
}
