package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/store"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

const (
	pluginsQuery       = `{ plugins { name url addedBy addedAt } }`
	addPluginMutation  = `mutation($n: String!, $u: String!) { addPlugin(name: $n, url: $u) { name url addedBy addedAt } }`
	removePluginMutate = `mutation($n: String!) { removePlugin(name: $n) { name url } }`
)

type pluginNode struct{ Name, URL, AddedBy, AddedAt string }

// TestPlugins_Registry checks the plugin registry the gateway reads: add,
// list and remove, what each needs, bad names and URLs, and the audit log.
func TestPlugins_Registry(t *testing.T) {
	t.Parallel()
	storetest.EachParallel(t, func(t *testing.T, db *store.DB) {
		srv := httptest.NewServer(server.New(serverOptions(t, db, nil, allowAll)))
		defer srv.Close()
		list := func(srv *httptest.Server) []pluginNode {
			var got struct{ Plugins []pluginNode }
			MustQuery(t, srv, pluginsQuery, nil, &got)
			return got.Plugins
		}
		if got := list(srv); len(got) != 0 {
			t.Fatalf("a new registry lists %v; want nothing", got)
		}
		for _, p := range [][2]string{{"techradar", "http://127.0.0.1:7008/graphql"}, {"scorecard", "https://scorecard.internal.example/graphql"}} {
			var got struct{ AddPlugin pluginNode }
			MustQuery(t, srv, addPluginMutation, map[string]any{"n": p[0], "u": p[1]}, &got)
			if got.AddPlugin.Name != p[0] || got.AddPlugin.URL != p[1] || got.AddPlugin.AddedAt == "" {
				t.Errorf("addPlugin returned %+v; want %s at %s", got.AddPlugin, p[0], p[1])
			}
		}
		got := list(srv)
		if len(got) != 2 || got[0].Name != "scorecard" || got[1].Name != "techradar" || got[1].AddedBy != "" {
			t.Errorf("plugins %+v; want scorecard then techradar, added by the anonymous caller", got)
		}
		for _, bad := range []struct{ name, url, code, says string }{
			{"techradar", "http://127.0.0.1:9/graphql", portal.ECONFLICT, "registered already"},
			{"Tech Radar", "http://127.0.0.1:7008/graphql", portal.EINVALID, "lower-case"},
			{"", "http://127.0.0.1:7008/graphql", portal.EINVALID, "lower-case"},
			{strings.Repeat("a", 41), "http://127.0.0.1:7008/graphql", portal.EINVALID, "1 to 40"},
			{"ok", "file:///etc/passwd", portal.EINVALID, "http://"},
			{"ok", "127.0.0.1:7008/graphql", portal.EINVALID, "http://"},
			{"ok", "http:///graphql", portal.EINVALID, "http://"},
			{"ok", "http://user:secret@127.0.0.1/graphql", portal.EINVALID, "credentials"},
			{"ok", "http://127.0.0.1/graphql#x", portal.EINVALID, "fragment"},
			{"ok", "http://127.0.0.1/" + strings.Repeat("a", 2048), portal.EINVALID, "at most"},
		} {
			code, msg := MustFail(t, srv, addPluginMutation, map[string]any{"n": bad.name, "u": bad.url})
			if code != bad.code || !strings.Contains(msg, bad.says) || strings.Contains(msg, "secret") {
				t.Errorf("addPlugin(%.20q, %.40q): %s %q; want %s saying %q", bad.name, bad.url, code, msg, bad.code, bad.says)
			}
		}

		// Reading the registry and changing it are separate permissions.
		reader := httptest.NewServer(server.New(serverOptions(t, db, nil,
			"rules:\n  - name: read-plugins\n    allow: [plugins.plugin.read]\n    to: [anyone]\n")))
		defer reader.Close()
		if got := list(reader); len(got) != 2 {
			t.Errorf("a reader lists %v; want both plugins", got)
		}
		for _, op := range []struct {
			query string
			vars  map[string]any
			perm  string
		}{
			{addPluginMutation, map[string]any{"n": "x", "u": "http://127.0.0.1:1/graphql"}, "plugins.plugin.create"},
			{removePluginMutate, map[string]any{"n": "techradar"}, "plugins.plugin.delete"},
		} {
			if code, msg := MustFail(t, reader, op.query, op.vars); code != portal.EFORBIDDEN || !strings.Contains(msg, op.perm) {
				t.Errorf("a reader changes the registry: %s %q; want FORBIDDEN naming %s", code, msg, op.perm)
			}
		}
		nobody := httptest.NewServer(server.New(serverOptions(t, db, nil, "rules:\n  - name: nothing\n    deny: [\"*\"]\n    to: [anyone]\n")))
		defer nobody.Close()
		if code, msg := MustFail(t, nobody, pluginsQuery, nil); code != portal.EFORBIDDEN || !strings.Contains(msg, "plugins.plugin.read") {
			t.Errorf("listing without plugins.plugin.read: %s %q; want FORBIDDEN naming it", code, msg)
		}

		var removed struct{ RemovePlugin pluginNode }
		MustQuery(t, srv, removePluginMutate, map[string]any{"n": "techradar"}, &removed)
		if removed.RemovePlugin.URL != "http://127.0.0.1:7008/graphql" {
			t.Errorf("removePlugin returned %+v; want what techradar was", removed.RemovePlugin)
		}
		if got := list(srv); len(got) != 1 || got[0].Name != "scorecard" {
			t.Errorf("after removing techradar: %v; want scorecard alone", got)
		}
		if code, msg := MustFail(t, srv, removePluginMutate, map[string]any{"n": "techradar"}); code != portal.ENOTFOUND || !strings.Contains(msg, "techradar") {
			t.Errorf("removing it again: %s %q; want NOT_FOUND naming it", code, msg)
		}

		events, _, err := db.AuditEvents(context.Background(), audit.Filter{Actions: []string{"addPlugin", "removePlugin"}}, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		outcomes := map[string]int{}
		for _, e := range events {
			outcomes[fmt.Sprintf("%s %s %s", e.Action, e.Outcome, e.ErrorCode)]++
		}
		want := map[string]int{"addPlugin ok ": 2, "addPlugin error CONFLICT": 1, "addPlugin error INVALID": 9,
			"addPlugin denied FORBIDDEN": 1, "removePlugin denied FORBIDDEN": 1, "removePlugin ok ": 1, "removePlugin error NOT_FOUND": 1}
		if fmt.Sprint(outcomes) != fmt.Sprint(want) {
			t.Errorf("audited %v; want %v", outcomes, want)
		}
	})
}
