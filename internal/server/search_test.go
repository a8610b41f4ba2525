package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/identity"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
	"github.com/greenroomhq/greenroom/internal/techdocs"
)

// mustBuildDocs builds the docs of every entity of db that has them.
func mustBuildDocs(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	refs, err := db.EntitiesWithAnnotation(ctx, "", catalog.AnnotationTechDocsRef)
	if err != nil {
		t.Fatal(err)
	}
	b := &techdocs.Builder{Store: db, Entity: func(ctx context.Context, ref string) (map[string]any, error) {
		rec, err := db.EntityByRef(ctx, ref)
		if err != nil {
			return nil, err
		}
		var doc map[string]any
		return doc, json.Unmarshal(rec.Data, &doc)
	}}
	for _, ref := range refs {
		if out, err := b.BuildEntity(ctx, ref); err != nil || out.Error != "" {
			t.Fatalf("docs of %s: %+v %v", ref, out, err)
		}
	}
}

// searchHits are a search's hits as `{ref}` or `{ref}#{docsLocation}`.
type searchHits struct {
	Search struct {
		TotalCount int
		MatchedBy  string
		Nodes      []struct {
			Kind         string
			Title        string
			Snippet      string
			DocsLocation *string
			Location     string
			Entity       struct{ Ref string }
		}
	}
}

func (h searchHits) ids() []string {
	var out []string
	for _, n := range h.Search.Nodes {
		id := n.Entity.Ref
		if n.DocsLocation != nil {
			id += "#" + *n.DocsLocation
		}
		out = append(out, id)
	}
	return out
}

const searchQuery = `query($q: String!, $f: SearchFilter, $first: Int, $after: String) {
  search(query: $q, filter: $f, first: $first, after: $after) {
    totalCount matchedBy
    nodes { kind title snippet docsLocation location entity { ref } }
  }
}`

// labelledQueries are what people type to find things in the example
// catalog and its docs, each with the hit they want: an entity ref, or a
// ref and a docs location. Names, titles, words of descriptions,
// keywords, parts of words, typos, templates and docs sections.
var labelledQueries = []struct{ query, want string }{
	{"playback service", "component:default/playback-service"},
	{"playback-service", "component:default/playback-service"},
	{"catalog api", "api:default/catalog-api"},
	{"search api", "api:default/search-api"},
	{"web player", "component:default/web-player"},
	{"label portal", "component:default/label-portal"},
	{"top charts", "component:default/top-charts-legacy"},
	{"go kit", "component:default/larkspur-go-kit"},
	{"recommendations service", "component:default/recommendations-service"},
	{"catalog database", "resource:default/catalog-db"},
	{"read replica", "resource:default/catalog-db-replica"},
	{"listening history", "resource:default/listening-history-db"},
	{"audio assets", "resource:default/audio-assets"},
	{"playback events queue", "resource:default/playback-events"},
	{"music catalog", "system:default/music-catalog"},
	{"discovery", "system:default/discovery"},
	{"content platform", "domain:default/content-platform"},
	{"listening experience", "domain:default/listening-experience"},
	{"data team", "group:default/team-data"},
	{"platform admins", "group:default/platform-admins"},
	{"ada okafor", "user:default/ada.okafor"},
	{"jane", "user:default/jane.doe"},
	{"sofia", "user:default/sofia.lindqvist"},
	{"mei tanaka", "user:default/mei.tanaka"},
	{"ddex deliveries", "component:default/catalog-ingest-worker"},
	{"type-ahead", "component:default/search-service"},
	{"kafka topic", "resource:default/playback-events"},
	{"cassandra", "resource:default/listening-history-db"},
	{"opus aac", "resource:default/audio-assets"},
	{"royalties", "resource:default/listening-history-db"},
	{"personalised recommendations", "api:default/recommendations-api"},
	{"machine learning engineer", "user:default/mei.tanaka"},
	{"vp of engineering", "user:default/ada.okafor"},
	{"server-rendered charts", "component:default/top-charts-legacy"},
	{"upload releases", "component:default/label-portal"},
	{"health-check helpers", "component:default/larkspur-go-kit"},
	{"kotlin", "component:default/search-service"},
	{"php deprecated", "component:default/top-charts-legacy"},
	{"asyncapi", "api:default/playback-events-api"},
	{"s3-bucket", "resource:default/audio-assets"},
	{"python ml", "component:default/recommendations-service"},
	{"react frontend", "component:default/web-player"},
	{"ayback serv", "component:default/playback-service"},
	{"commendations serv", "component:default/recommendations-service"},
	{"ingest work", "component:default/catalog-ingest-worker"},
	{"lindqvist", "user:default/sofia.lindqvist"},
	{"kafor", "user:default/ada.okafor"},
	{"playbak service", "component:default/playback-service"},
	{"recomendations api", "api:default/recommendations-api"},
	{"catalgo database", "resource:default/catalog-db"},
	{"kotln", "component:default/search-service"},
	{"listning history", "resource:default/listening-history-db"},
	{"templete", "template:default/go-service"},
	{"go microservice", "template:default/go-service"},
	{"new go service", "template:default/go-service"},
	{"template", "template:default/go-service"},
	{"starting a session", "component:default/playback-service#sessions/#starting-a-session"},
	{"session lifecycle", "component:default/playback-service#sessions/#lifecycle"},
	{"streams fail to start", "component:default/playback-service#operations/#streams-fail-to-start"},
	{"catalog-db unavailable", "component:default/catalog-service#runbook/#catalog-db-is-unavailable"},
	{"ingest backlog", "component:default/catalog-service#runbook/#ingest-backlog-growing"},
	{"data model", "component:default/catalog-service##data-model"},
	{"isrc", "component:default/catalog-service##data-model"},
	{"why not scale up", "component:default/playback-service#operations/#streams-fail-to-start"},
	{"playfinished", "component:default/playback-service#sessions/#lifecycle"},
}

// TestSearch_Relevance runs the labelled queries and requires the wanted
// hit in the top three for at least 90% of them on each database.
func TestSearch_Relevance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, exampleCatalog(t))
		mustBuildDocs(t, db)
		found := 0
		for _, c := range labelledQueries {
			var out searchHits
			MustQuery(t, srv, searchQuery, map[string]any{"q": c.query, "first": 3}, &out)
			hit := false
			for _, id := range out.ids() {
				hit = hit || id == c.want
			}
			if hit {
				found++
			} else {
				t.Logf("%q (%s): want %s in the top 3, got %v", c.query, out.Search.MatchedBy, c.want, out.ids())
			}
		}
		rate := float64(found) / float64(len(labelledQueries))
		t.Logf("hit@3 %d/%d = %.1f%%", found, len(labelledQueries), 100*rate)
		if len(labelledQueries) < 50 || rate < 0.9 {
			t.Errorf("hit@3 %.1f%% over %d queries, want at least 90%% over 50 or more", 100*rate, len(labelledQueries))
		}
	})
}

// searchCatalog has two teams' components, each owned by its team, a
// payment gateway among them.
const searchCatalog = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: [], members: [alice]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b}
spec: {type: team, children: [], members: [bob]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: bob}
spec: {memberOf: [team-b]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: payment-gateway, description: Takes card payments., tags: [java]}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: payment-ledger, description: Records every payment.}
spec: {type: library, lifecycle: experimental, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: payout-service, description: "Pays sellers out, for every payment settled."}
spec: {type: service, lifecycle: production, owner: team-b}
`

// TestSearch_ReadPolicy checks that each caller's pages, counts and facets
// hold exactly what it may read, docs hits included, on GraphQL and on
// Backstage's REST endpoint.
func TestSearch_ReadPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		file := MustWriteFile(t, t.TempDir(), "catalog.yaml", searchCatalog)
		srv := MustServeSecure(t, db, MustIngest(t, db, file), readOwnPolicy, identity.Options{})
		now := time.Now()
		page := portal.DocsPage{Path: "", Title: "Payout", HTML: "<h1>Payout</h1>", TOC: json.RawMessage("[]"), Hash: "h",
			Sections: []portal.DocsSection{{Location: "", Title: "Payout", Text: "How payouts settle each payment."}}}
		if _, err := db.SaveDocs(ctx, portal.DocsSite{EntityRef: "component:default/payout-service", Name: "Payout", Etag: "e",
			BuiltAt: &now, CheckedAt: now}, []portal.DocsPage{page}, nil); err != nil {
			t.Fatal(err)
		}
		const q = `{ search(query: "payment") { totalCount nodes { kind entity { ref } }
			facets { hits { value count } owners { value count } lifecycles { value count } } } }`
		type facet struct {
			Value string
			Count int
		}
		var out struct {
			Search struct {
				TotalCount int
				Nodes      []struct {
					Kind   string
					Entity struct{ Ref string }
				}
				Facets struct{ Hits, Owners, Lifecycles []facet }
			}
		}
		as(t, srv, "user:default/alice").MustQuery(t, q, nil, &out)
		var refs []string
		for _, n := range out.Search.Nodes {
			refs = append(refs, n.Entity.Ref)
		}
		slices.Sort(refs)
		if want := []string{"component:default/payment-gateway", "component:default/payment-ledger"}; !slices.Equal(refs, want) || out.Search.TotalCount != 2 {
			t.Errorf("alice found %v (%d); want %v", refs, out.Search.TotalCount, want)
		}
		if f := out.Search.Facets; !slices.Equal(f.Owners, []facet{{"group:default/team-a", 2}}) ||
			!slices.Equal(f.Lifecycles, []facet{{"experimental", 1}, {"production", 1}}) || !slices.Equal(f.Hits, []facet{{"entity", 2}}) {
			t.Errorf("alice's facets %+v", f)
		}
		as(t, srv, "user:default/bob").MustQuery(t, q, nil, &out)
		if out.Search.TotalCount != 2 || len(out.Search.Nodes) != 2 || !slices.Equal(out.Search.Facets.Hits, []facet{{"docs", 1}, {"entity", 1}}) {
			t.Errorf("bob found %+v; want payout-service and its docs", out.Search)
		}
		var none struct{ Search struct{ TotalCount int } }
		anonymous(srv).MustQuery(t, `{ search(query: "payment") { totalCount } }`, nil, &none)
		if none.Search.TotalCount != 0 {
			t.Errorf("an anonymous caller found %d hits", none.Search.TotalCount)
		}

		// Backstage's endpoint: the same hits for the same caller.
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/search/query?term=payment&types%5B0%5D=techdocs", nil)
		req.Header.Set("Authorization", "Bearer "+MustToken(t, "user:default/bob"))
		var rest struct {
			Results []struct {
				Type     string
				Document struct{ Title, Text, Location, Path string }
				Rank     int
			}
			NumberOfResults int
		}
		mustGetJSON(t, req, http.StatusOK, &rest)
		if len(rest.Results) != 1 || rest.NumberOfResults != 1 || rest.Results[0].Type != "techdocs" ||
			rest.Results[0].Document.Location != "/docs/default/component/payout-service/" || rest.Results[0].Rank != 1 {
			t.Errorf("bob's techdocs results %+v", rest)
		}
	})
}

// mustGetJSON sends req and decodes its JSON body, which must come with
// status.
func mustGetJSON(t *testing.T, req *http.Request, status int, out any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d: %s", req.URL, resp.StatusCode, status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("%s: %v: %s", req.URL, err, body)
	}
}

// TestSearch_Current checks that a search sees each change as soon as it
// is written, finds parts of words and typos, and pages.
func TestSearch_Current(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		file := MustWriteFile(t, dir, "catalog.yaml", searchCatalog)
		srv := MustServeFiles(t, db, file)
		find := func(q string) searchHits {
			t.Helper()
			var out searchHits
			MustQuery(t, srv, searchQuery, map[string]any{"q": q}, &out)
			return out
		}
		if h := find("atewa"); h.Search.MatchedBy != "PARTS" || !slices.Equal(h.ids(), []string{"component:default/payment-gateway"}) {
			t.Errorf("atewa: %s %v", h.Search.MatchedBy, h.ids())
		}
		if h := find("paymnet gatway"); h.Search.MatchedBy != "TYPOS" || len(h.ids()) == 0 || h.ids()[0] != "component:default/payment-gateway" {
			t.Errorf("paymnet gatway: %s %v", h.Search.MatchedBy, h.ids())
		}
		if h := find("payment gateway"); h.Search.Nodes[0].Snippet != "Takes card <mark>payments</mark>." {
			t.Errorf("snippet %q", h.Search.Nodes[0].Snippet)
		}
		for filter, want := range map[string]string{
			`{owners: ["team-b"]}`:                                       "component:default/payout-service",
			`{owners: ["group:default/team-b"]}`:                         "component:default/payout-service",
			`{lifecycles: ["experimental"]}`:                             "component:default/payment-ledger",
			`{types: ["library"]}`:                                       "component:default/payment-ledger",
			`{tags: ["java"]}`:                                           "component:default/payment-gateway",
			`{kinds: ["component"], types: ["service"], tags: ["java"]}`: "component:default/payment-gateway",
		} {
			var out searchHits
			MustQuery(t, srv, `{ search(query: "pay", filter: `+filter+`) { totalCount nodes { entity { ref } } } }`, nil, &out)
			if got := out.ids(); !slices.Equal(got, []string{want}) || out.Search.TotalCount != 1 {
				t.Errorf("pay with %s: %v (%d); want %s", filter, got, out.Search.TotalCount, want)
			}
		}

		// Paging: three hits for "pay", two pages.
		var p1, p2 struct {
			Search struct {
				TotalCount int
				Edges      []struct {
					Cursor string
					Node   struct{ Entity struct{ Ref string } }
				}
				PageInfo struct{ HasNextPage, HasPreviousPage bool }
			}
		}
		const paged = `query($after: String) { search(query: "pay", first: 2, after: $after) { totalCount
			edges { cursor node { entity { ref } } } pageInfo { hasNextPage hasPreviousPage } } }`
		MustQuery(t, srv, paged, nil, &p1)
		MustQuery(t, srv, paged, map[string]any{"after": p1.Search.Edges[1].Cursor}, &p2)
		if p1.Search.TotalCount != 3 || len(p1.Search.Edges) != 2 || !p1.Search.PageInfo.HasNextPage ||
			len(p2.Search.Edges) != 1 || p2.Search.PageInfo.HasNextPage || !p2.Search.PageInfo.HasPreviousPage {
			t.Errorf("pages %+v, %+v", p1.Search, p2.Search)
		}
		wantCode(t, srv, "INVALID", `{ search(query: "pay", after: "bm9wZQ") { totalCount } }`, nil)

		// An edit is found by the refresh that stores it: the old words go.
		MustWriteFile(t, dir, "catalog.yaml", strings.Replace(searchCatalog, "Takes card payments.", "Settles wallet top-ups.", 1))
		MustRefresh(t, srv, MustLocationID(t, srv, file))
		if h := find("wallet"); !slices.Equal(h.ids(), []string{"component:default/payment-gateway"}) {
			t.Errorf("after the edit, wallet finds %v", h.ids())
		}
		if h := find("card"); len(h.ids()) != 0 {
			t.Errorf("after the edit, card still finds %v", h.ids())
		}
		// An orphan is still found, as in Backstage; a deleted entity is not.
		MustWriteFile(t, dir, "catalog.yaml", strings.Split(searchCatalog, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: payment-gateway")[0])
		MustRefresh(t, srv, MustLocationID(t, srv, file))
		if h := find("gateway"); len(h.ids()) != 1 {
			t.Errorf("the orphan gateway finds %v", h.ids())
		}
		var deleted struct{ DeleteEntity struct{ Ref string } }
		MustQuery(t, srv, `mutation { deleteEntity(ref: "component:default/payment-gateway") { ref } }`, nil, &deleted)
		if h := find("gateway"); len(h.ids()) != 0 {
			t.Errorf("after the removal, gateway finds %v", h.ids())
		}
	})
}

// TestSearch_BadInput sends what a search box can be sent: each gets a
// sane result or a clear error, never a database's.
func TestSearch_BadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, MustWriteFile(t, t.TempDir(), "catalog.yaml", searchCatalog))
		for _, q := range []string{`"`, `"payment`, `payment"*`, `pay* OR`, `NEAR(pay gate)`, `{name}: pay`, `-pay`, `^pay`,
			`pay AND NOT gate`, `'; DROP TABLE entities; --`, `%`, `_`, `\`, `:*`, `!&|`, "pay\x00ment", "ペイメント", "🙂", `(((`} {
			var out searchHits
			MustQuery(t, srv, searchQuery, map[string]any{"q": q}, &out)
		}
		var out searchHits
		MustQuery(t, srv, searchQuery, map[string]any{"q": `"payment-gateway"`}, &out)
		if len(out.ids()) == 0 || out.ids()[0] != "component:default/payment-gateway" {
			t.Errorf(`"payment-gateway" finds %v`, out.ids())
		}
		MustQuery(t, srv, searchQuery, map[string]any{"q": "   "}, &out)
		if out.Search.MatchedBy != "ALL" || out.Search.TotalCount != 8 {
			t.Errorf("a blank query: %s, %d hits; want ALL, 8 (the location's entity too)", out.Search.MatchedBy, out.Search.TotalCount)
		}
		wantCode(t, srv, "INVALID", searchQuery, map[string]any{"q": strings.Repeat("pay ", 26)})
		wantCode(t, srv, "INVALID", searchQuery, map[string]any{"q": "pay", "first": 101})
		wantCode(t, srv, "INVALID", searchQuery, map[string]any{"q": "pay", "first": -1})
		wantCode(t, srv, "INVALID", searchQuery, map[string]any{"q": "pay", "f": map[string]any{"owners": []string{"::"}}})

		for path, status := range map[string]int{
			"/api/search/query?term=" + strings.Repeat("x", 101): http.StatusBadRequest,
			"/api/search/query?term=pay&types[0]=nope":           http.StatusBadRequest,
			"/api/search/query?term=pay&filters[color]=red":      http.StatusBadRequest,
			"/api/search/query?term=pay&pageLimit=0":             http.StatusBadRequest,
			"/api/search/query?term=pay&pageCursor=bm9wZQ":       http.StatusBadRequest,
			"/api/search/query?term=pay&pageCursor=LTE":          http.StatusBadRequest,
			"/api/search/nope":                                   http.StatusNotFound,
		} {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			var body struct {
				Error struct{ Name, Message string }
			}
			mustGetJSON(t, req, status, &body)
			if body.Error.Name == "" || body.Error.Message == "" {
				t.Errorf("%s: error %+v; want Backstage's error body", path, body.Error)
			}
		}
		// Backstage's paging.
		var rest struct {
			Results []struct {
				Type     string
				Document struct{ Title, Location string }
				Rank     int
			}
			NextPageCursor, PreviousPageCursor string
			NumberOfResults                    int
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/search/query?term=pay&filters%5Bkind%5D=Component&pageLimit=2", nil)
		mustGetJSON(t, req, http.StatusOK, &rest)
		if len(rest.Results) != 2 || rest.NumberOfResults != 3 || rest.NextPageCursor == "" || rest.Results[1].Rank != 2 ||
			rest.Results[0].Type != "software-catalog" {
			t.Fatalf("first page %+v", rest)
		}
		req, _ = http.NewRequest(http.MethodGet, srv.URL+"/api/search/query?term=pay&filters%5Bkind%5D=Component&pageLimit=2&pageCursor="+rest.NextPageCursor, nil)
		rest.NextPageCursor = ""
		mustGetJSON(t, req, http.StatusOK, &rest)
		if len(rest.Results) != 1 || rest.Results[0].Rank != 3 || rest.NextPageCursor != "" || rest.PreviousPageCursor == "" {
			t.Errorf("second page %+v", rest)
		}
	})
}

// TestSearch_Docs checks that a docs build writes its sections to the
// index with the pages: a changed page's sections replaced, a removed
// page's gone, and those of pages that had none (built before the index)
// written.
func TestSearch_Docs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		MustWriteFile(t, dir, "mkdocs.yml", "site_name: Payments\n")
		MustWriteFile(t, dir, "docs/index.md", "# Payments\n\n## Refunds\n\nHow refunds settle.\n")
		MustWriteFile(t, dir, "docs/guide.md", "# Guide\n\n## Setup\n\nInstall the agent.\n")
		srv := MustServeFiles(t, db, MustWriteFile(t, dir, "catalog-info.yaml", `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: payments, annotations: {backstage.io/techdocs-ref: "dir:."}}
spec: {type: service, lifecycle: production, owner: team-a}
`))
		find := func(q string) []string {
			t.Helper()
			var out searchHits
			MustQuery(t, srv, searchQuery, map[string]any{"q": q, "f": map[string]any{"hits": []string{"DOCS"}}}, &out)
			return out.ids()
		}
		mustBuildDocs(t, db)
		if got := find("setup agent"); !slices.Equal(got, []string{"component:default/payments#guide/#setup", "component:default/payments#guide/"}) {
			t.Errorf("setup agent: %v", got)
		}
		MustWriteFile(t, dir, "docs/guide.md", "# Guide\n\n## Install\n\nRun the installer.\n")
		mustBuildDocs(t, db)
		if got := find("setup"); len(got) != 0 {
			t.Errorf("the changed page's old section is still found: %v", got)
		}
		if got := find("installer"); !slices.Contains(got, "component:default/payments#guide/#install") {
			t.Errorf("the changed page's new section: %v", got)
		}
		if err := os.Remove(filepath.Join(dir, "docs", "guide.md")); err != nil {
			t.Fatal(err)
		}
		mustBuildDocs(t, db)
		if got := find("installer"); len(got) != 0 {
			t.Errorf("a removed page is still found: %v", got)
		}
		// Sites built before the index: their rows are written by the next
		// build, though their pages did not change.
		storetest.MustExec(t, db, `DELETE FROM search_docs WHERE type = 'docs'`, `UPDATE docs_site SET etag = ''`)
		mustBuildDocs(t, db)
		if got := find("refunds"); !slices.Contains(got, "component:default/payments##refunds") {
			t.Errorf("rows of an unchanged page, after the index was emptied: %v", got)
		}
	})
}

// TestSearch_StatementCount pins what a search costs: for whole words,
// one statement listing each word's terms, one count per tier and one
// page per tier the page reaches (entities are read for the hits only
// when the query asks for them, through the read cache); parts of words
// first count the words, then their own tiers; typos first the words and
// the parts, then ask the vocabulary, list and count again.
func TestSearch_StatementCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := MustServeFiles(t, db, MustWriteFile(t, t.TempDir(), "catalog.yaml", searchCatalog))
		for _, c := range []struct {
			query string
			want  int64
		}{
			{"payment gateway", 2 + 2 + 1}, // terms of two words, two counts, one page
			{"pay", 1 + 2 + 1},
			{"atewa", 1 + 2 + 1 + 1},                   // words: terms, counts; parts: a count, a page
			{"paymnet", 1 + 2 + 1 + 1 + 2 + 1 + 2 + 2}, // words; parts; vocabulary, candidates of p and a; terms, counts, pages of both tiers
			{"zzzzzz", 1 + 2 + 1 + 1 + 1},              // words; parts; vocabulary, candidates of z: none
			{"", 2},                                    // every hit: a count and a page
		} {
			db.InvalidateCache()
			before := db.ReadStatements()
			var out struct{ Search struct{ TotalCount int } }
			MustQuery(t, srv, `query($q: String!) { search(query: $q) { totalCount nodes { title snippet } } }`, map[string]any{"q": c.query}, &out)
			if got := db.ReadStatements() - before; got != c.want {
				t.Errorf("%q: %d statements; want %d", c.query, got, c.want)
			}
		}
	})
}

// TestDocs_StatementCount checks that the docs of a list's entities are
// read in one statement, whatever the list's length.
func TestDocs_StatementCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		MustWriteFile(t, dir, "mkdocs.yml", "site_name: Shared\n")
		MustWriteFile(t, dir, "docs/index.md", "# Shared\n")
		var yaml []string
		for i := range 5 {
			yaml = append(yaml, fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: documented-%d, annotations: {backstage.io/techdocs-ref: "dir:."}}
spec: {type: service, lifecycle: production, owner: team-a}
`, i))
		}
		srv := MustServeFiles(t, db, MustWriteFile(t, dir, "catalog-info.yaml", strings.Join(yaml, "---\n")))
		mustBuildDocs(t, db)
		statements := func(query string) int64 {
			t.Helper()
			db.InvalidateCache()
			before := db.ReadStatements()
			var out map[string]any
			MustQuery(t, srv, query, nil, &out)
			return db.ReadStatements() - before
		}
		const list = `{ entities(filter: {kind: ["Component"]}) { edges { node { ref %s } } } }`
		without := statements(fmt.Sprintf(list, ""))
		with := statements(fmt.Sprintf(list, "docs { status site { name } }"))
		if with-without != 1 {
			t.Errorf("the docs of 5 entities cost %d statements; want 1", with-without)
		}
	})
}
