package server_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/greenroomhq/greenroom/internal/catalog"
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
