package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// eachDatabase runs fn with a fresh database URL: SQLite, and PostgreSQL
// when GREENROOM_TEST_POSTGRES_URL is set.
func eachDatabase(t *testing.T, fn func(t *testing.T, dsn string)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "greenroom.db")
			if name == "postgres" {
				dsn = storetest.PostgresURL(t)
			}
			fn(t, dsn)
		})
	}
}

func mustOpenStore(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

const teamCatalog = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: %s}
spec: {type: team, children: []}
`

// TestRun_ConfiguredLocationLeaves checks that a location configured by an
// earlier run and not by this one is removed at start, its entities kept as
// orphans or deleted as catalog.orphans says, while one registered with
// greenroom locations add stays.
func TestRun_ConfiguredLocationLeaves(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		a := mustWrite(t, dir, "a.yaml", strings.Replace(teamCatalog, "%s", "team-a", 1))
		b := mustWrite(t, dir, "b.yaml", strings.Replace(teamCatalog, "%s", "team-b", 1))
		c := mustWrite(t, dir, "c.yaml", strings.Replace(teamCatalog, "%s", "team-c", 1))
		file := map[string]string{"GREENROOM_REGISTER_TYPES": "url,file"}
		for _, args := range [][]string{
			{"ingest", "--database", dsn, "--location", a},
			{"locations", "add", c, "--database", dsn},
			{"ingest", "--database", dsn, "--location", b},
		} {
			if code, out, stderr := runCLI(t, file, args...); code != 0 {
				t.Fatalf("%v: exit %d\n%s%s", args, code, out, stderr)
			}
		}
		code, out, stderr := runCLI(t, nil, "locations", "list", "--database", dsn)
		if code != 0 || strings.Contains(out, a) || !strings.Contains(out, b) || !strings.Contains(out, c) ||
			!strings.Contains(out, "configured") || !strings.Contains(out, "registered") || !strings.Contains(out, "2 locations") {
			t.Errorf("list: exit %d, output:\n%s%s\nwant b configured and c registered, not a", code, out, stderr)
		}
		db := mustOpenStore(t, dsn)
		rec, err := db.EntityByRef(context.Background(), "group:default/team-a")
		if err != nil || !rec.Orphan {
			t.Errorf("team-a %+v, %v; want it kept as an orphan", rec, err)
		}

		if code, out, stderr := runCLI(t, nil, "ingest", "--database", dsn, "--location", a, "--orphans", "delete"); code != 0 {
			t.Fatalf("ingest: exit %d\n%s%s", code, out, stderr)
		}
		if _, err := db.EntityByRef(context.Background(), "group:default/team-b"); err == nil {
			t.Error("team-b is still there with catalog.orphans delete")
		}
		if rec, err := db.EntityByRef(context.Background(), "group:default/team-a"); err != nil || rec.Orphan {
			t.Errorf("team-a %+v, %v; want it taken back by its location", rec, err)
		}
	})
}

// TestRun_LocationsAudit checks that greenroom locations add and remove
// leave the audit records the registerLocation and deleteLocation
// mutations leave, but for the actor, and that add refuses credentials in
// a URL as the API does.
func TestRun_LocationsAudit(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dsn string) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, strings.Replace(teamCatalog, "%s", strings.Trim(r.URL.Path, "/."+"yaml"), 1))
		}))
		defer srv.Close()
		cfg := DefaultConfig()
		cfg.Listen, cfg.Database = "127.0.0.1:0", dsn
		m := &Main{Config: cfg}
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		base := "http://" + m.Addr()
		waitReady(t, base)

		api, cli := srv.URL+"/team-api.yaml", srv.URL+"/team-cli.yaml"
		data, code := graphql(t, base, `mutation($t: String!) { registerLocation(target: $t) { location { id } } }`, map[string]any{"t": api})
		if code != "" {
			t.Fatalf("registerLocation: %s", code)
		}
		var reg struct {
			RegisterLocation struct{ Location struct{ ID string } }
		}
		json.Unmarshal(data, &reg)
		if _, code := graphql(t, base, `mutation($id: ID!) { deleteLocation(id: $id) { id } }`, map[string]any{"id": reg.RegisterLocation.Location.ID}); code != "" {
			t.Fatalf("deleteLocation: %s", code)
		}

		code2, out, stderr := runCLI(t, nil, "locations", "add", cli, "--database", dsn)
		if code2 != 0 || !strings.HasPrefix(out, "registered ") {
			t.Fatalf("add: exit %d\n%s%s", code2, out, stderr)
		}
		cliID := strings.Fields(out)[1]
		if code2, out, stderr := runCLI(t, nil, "locations", "remove", "--database", dsn, cliID); code2 != 0 {
			t.Fatalf("remove: exit %d\n%s%s", code2, out, stderr)
		}
		secret := "https://ci:hunter22@" + strings.TrimPrefix(srv.URL, "http://") + "/x.yaml"
		if code2, out, stderr := runCLI(t, nil, "locations", "add", secret, "--database", dsn); code2 != 2 || strings.Contains(stderr+out, "hunter22") {
			t.Errorf("credentials: exit %d, output %q %q; want 2 without the secret", code2, out, stderr)
		}

		events, _, err := m.db.AuditEvents(context.Background(), audit.Filter{}, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 5 {
			t.Fatalf("%d audit events; want 5: %+v", len(events), events)
		}
		// Newest first: the refused add, the CLI's remove and add, the API's delete and register.
		refused, cliDel, cliAdd, apiDel, apiAdd := events[0], events[1], events[2], events[3], events[4]
		user := "cli:" + operatorName(env(nil))
		if cliAdd.Actor != user || cliAdd.ActorKind != "cli" || !strings.HasPrefix(user, "cli:") {
			t.Errorf("CLI actor %q (%s); want %s (cli)", cliAdd.Actor, cliAdd.ActorKind, user)
		}
		if apiAdd.Actor != "user:development/guest" {
			t.Errorf("API actor %q", apiAdd.Actor)
		}
		ignore := cmpopts.IgnoreFields(audit.Event{}, "ID", "At", "Actor", "ActorKind", "RequestID")
		cliAdd.Target = strings.Replace(cliAdd.Target, cli, api, 1)
		cliAdd.Arguments["target"] = api
		if diff := cmp.Diff(apiAdd, cliAdd, ignore); diff != "" {
			t.Errorf("add's record differs from registerLocation's (-api +cli):\n%s", diff)
		}
		cliDel.Target, cliDel.Arguments["id"] = apiDel.Target, apiDel.Target
		if diff := cmp.Diff(apiDel, cliDel, ignore); diff != "" {
			t.Errorf("remove's record differs from deleteLocation's (-api +cli):\n%s", diff)
		}
		if refused.Outcome != audit.OutcomeError || refused.ErrorCode != "INVALID" || strings.Contains(refused.Target+refused.ErrorMessage, "hunter22") {
			t.Errorf("refused add recorded as %+v; want an INVALID error without the secret", refused)
		}
	})
}
