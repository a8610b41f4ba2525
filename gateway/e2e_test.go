// Package gateway_test runs the whole portal as make run does — the core,
// the Tech Radar plugin and the gateway, each its own process, built from
// this tree — and checks through the real gateway what issue 13 asks:
// batching, subscriptions with plugin fields, the caller's token reaching
// the plugins, plugins added and removed at run time under load, a
// breaking plugin refused, a plugin down and back, and the TypeScript
// plugin composed and queried.
package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/greenroomhq/greenroom/internal/auth"
)

const secret = "gateway-e2e-secret-0123456789abcdef"

// policy lets users read, the gateway list the registry, and the admin do
// everything; anonymous callers read nothing.
const policy = `rules:
  - name: users-read
    allow: [catalog.entity.read, catalog.location.read]
    to: [users]
  - name: gateway-lists-plugins
    allow: [plugins.plugin.read]
    to: [service:gateway]
  - name: admin
    allow: ["*"]
    to: [user:default/admin]
`

// catalog writes 100 components — even ones tagged go and kafka, odd ones
// kotlin; the first two in system sys-a, the second depending on resource
// db-a — the users the tokens name, and one entity of other kinds, each
// tagged with radar entries (see kindTags).
func catalog(firstTags string) string {
	var b strings.Builder
	b.WriteString("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-a, tags: [techdocs]}\nspec: {type: team, children: []}\n")
	for _, u := range []string{"admin", "jane"} {
		tags := "[]"
		if u == "jane" {
			tags = "[cassandra]"
		}
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: %s, tags: %s}\nspec: {memberOf: [team-a]}\n", u, tags)
	}
	b.WriteString(`---
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: dom-a, tags: [php]}
spec: {owner: jane}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: sys-a, tags: [kubernetes]}
spec: {owner: team-a, domain: dom-a}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: api-a, tags: [postgresql, kafka]}
spec: {type: openapi, lifecycle: production, owner: jane, system: sys-a, definition: "openapi: 3.0.0"}
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: db-a, tags: [postgresql]}
spec: {type: database, owner: team-a, system: sys-a}
`)
	for i := range 100 {
		tags := "[kotlin]"
		if i%2 == 0 {
			tags = "[go, kafka]"
		}
		if i == 0 {
			tags = firstTags
		}
		extra := ""
		switch i {
		case 0:
			extra = ", system: sys-a"
		case 1:
			extra = ", system: sys-a, dependsOn: [resource:default/db-a]"
		}
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: svc-%03d, tags: %s}\nspec: {type: service, lifecycle: production, owner: team-a%s}\n", i, tags, extra)
	}
	return b.String()
}

// kindTags is the radar entries each entity of catalog("[go, kafka]") but
// the components from svc-002 on uses, by ref, as techRadarEntries lists
// them (by title).
var kindTags = map[string]string{
	"component:default/svc-000": "go kafka",
	"component:default/svc-001": "kotlin",
	"system:default/sys-a":      "kubernetes",
	"domain:default/dom-a":      "php",
	"api:default/api-a":         "kafka postgresql",
	"resource:default/db-a":     "postgresql",
	"group:default/team-a":      "techdocs",
	"user:default/jane":         "cassandra",
	"user:default/admin":        "",
}

// portal is the processes of a running portal.
type portal struct {
	dir, bin                    string
	coreURL, gatewayURL, dbPath string
	radarAddr                   string
	radarArgs, radarEnv         []string
	radar, gateway              *process
	gatewayStart                time.Duration // from its start to its first supergraph served
	entitiesCalls               atomic.Int64  // _entities requests that reached the Tech Radar plugin
	representations             atomic.Int64  // the representations they sent
	untagged                    atomic.Int64  // those without tags, or of the interface rather than a kind
	lastEntities                atomic.Value  // the body of the last _entities request, []byte
	userToken, adminToken       string
}

func TestPortal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the core, two plugins and the gateway")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the gateway needs Node 20+")
	}
	for _, dir := range []string{"node_modules/@graphql-hive/gateway-runtime", "../plugins/scorecard/dist/index.js"} {
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("%s is missing: run make node-deps (make test does)", dir)
		}
	}
	p := startPortal(t)
	ctx := t.Context()

	t.Run("Batched", func(t *testing.T) {
		// One screen: 100 components with a plugin field each, and the radar.
		before := p.entitiesCalls.Load()
		var got struct {
			Entities struct {
				Edges []struct {
					Node struct {
						Ref              string
						TechRadarEntries []struct{ ID string }
					}
				}
			}
			TechRadars []struct{ ID string }
		}
		p.query(t, p.userToken, `{ entities(first: 100, filter: {kind: ["Component"]}) { edges { node { ref techRadarEntries { id } } } }
			techRadars { id } }`, nil, &got)
		if n := len(got.Entities.Edges); n != 100 {
			t.Fatalf("%d components; want 100", n)
		}
		for i, e := range got.Entities.Edges {
			want := "kotlin"
			if i%2 == 0 {
				want = "go kafka"
			}
			var ids []string
			for _, r := range e.Node.TechRadarEntries {
				ids = append(ids, r.ID)
			}
			if strings.Join(ids, " ") != want {
				t.Fatalf("%s uses %v; want %s", e.Node.Ref, ids, want)
			}
		}
		if calls := p.entitiesCalls.Load() - before; calls != 1 {
			t.Errorf("the screen cost %d _entities calls to the plugin; want 1", calls)
		}
		// Through fields typed as a kind, and inside fragments, alike.
		var owned struct {
			Entity struct {
				OwnedEntities []struct {
					Ref              string
					TechRadarEntries []struct{ ID string }
				}
			}
		}
		p.query(t, p.userToken, `{ entity(ref: "group:default/team-a") { ... on Group { ownedEntities(first: 4) {
			ref ... on Component { techRadarEntries { id } } } } } }`, nil, &owned)
		if o := owned.Entity.OwnedEntities; len(o) != 4 || len(o[0].TechRadarEntries) != 2 || len(o[1].TechRadarEntries) != 1 {
			t.Errorf("team-a's entities through ownedEntities: %+v; want go+kafka, kotlin, …", o)
		}
		if len(got.TechRadars) != 1 || got.TechRadars[0].ID != "larkspur" {
			t.Errorf("techRadars %+v", got.TechRadars)
		}
	})

	t.Run("RequiresShapes", func(t *testing.T) {
		// techRadarEntries @requires each kind's tags: the gateway must put
		// them in every representation, whatever shape selects the field.
		// A missing tag list reads as no tags, so an entity answers []
		// where it should answer its entries: every entity answered is
		// checked, and each shape must answer the entities it names.
		reps, untagged := p.representations.Load(), p.untagged.Load()
		defer func() {
			reps, untagged = p.representations.Load()-reps, p.untagged.Load()-untagged
			if reps == 0 || untagged != 0 {
				t.Errorf("the gateway sent the plugin %d representations, %d of them without tags or not of a kind", reps, untagged)
			}
			t.Logf("%d representations sent to the plugin, all of a kind, with tags", reps)
		}()
		const (
			fragF = ` fragment F on CatalogEntity { ref techRadarEntries { id } }`
			fragC = ` fragment C on Component { ref techRadarEntries { id } }`
		)
		all := []string{"component:default/svc-000", "component:default/svc-001", "system:default/sys-a", "domain:default/dom-a",
			"api:default/api-a", "resource:default/db-a", "group:default/team-a", "user:default/jane"}
		for _, c := range []struct {
			name, q string
			want    []string // refs the answer must hold
		}{
			{"interface, no fragment", `{ entities(first: 200) { edges { node { ref techRadarEntries { id } } } } }`, all},
			{"inline fragment on each kind", `{ entities(first: 200) { edges { node { ref
				... on Component { techRadarEntries { id } } ... on System { techRadarEntries { id } } ... on Domain { techRadarEntries { id } }
				... on API { techRadarEntries { id } } ... on Resource { techRadarEntries { id } } ... on Group { techRadarEntries { id } }
				... on User { techRadarEntries { id } } } } } }`, all},
			{"named fragment on CatalogEntity", `{ entities(first: 200) { edges { node { ...F } } } }` + fragF, all},
			{"inline fragment on CatalogEntity", `{ entities(first: 200) { edges { node { ... on CatalogEntity { ref techRadarEntries { id } } } } } }`, all},
			{"nested fragments", `{ entities(first: 200) { edges { node { ref ... on CatalogEntity { ... on Component { ...C } } } } } }` + fragC, all[:2]},
			{"interface and fragment together, alias, tags asked too", `{ entities(first: 200) { edges { node { ref tags techRadarEntries { id }
				... on Component { radar: techRadarEntries { title } } } } } }`, all},
			{"@include and @skip", `query($yes: Boolean = true, $no: Boolean = false) { entities(first: 200) { edges { node { ref
				techRadarEntries @include(if: $yes) { id } ... on System @skip(if: $no) { techRadarEntries { id } } } } } }`, all},
			{"entity(ref) of each kind, no fragment", `{ a: entity(ref: "component:default/svc-000") { ref techRadarEntries { id } }
				b: entity(ref: "system:default/sys-a") { ref techRadarEntries { id } } c: entity(ref: "domain:default/dom-a") { ref techRadarEntries { id } }
				d: entity(ref: "api:default/api-a") { ref techRadarEntries { id } } e: entity(ref: "resource:default/db-a") { ref techRadarEntries { id } }
				g: entity(ref: "group:default/team-a") { ref techRadarEntries { id } } u: entity(ref: "user:default/jane") { ref techRadarEntries { id } } }`,
				append([]string{all[0]}, all[2:]...)},
			{"entity(ref), inline fragments", `{ a: entity(ref: "component:default/svc-001") { ref ... on Component { lifecycle techRadarEntries { id } } }
				b: entity(ref: "system:default/sys-a") { ... on System { ref techRadarEntries { id } } } }`, []string{all[1], all[2]}},
			{"entity(ref), named fragments", `{ a: entity(ref: "component:default/svc-000") { ...C } b: entity(ref: "api:default/api-a") { ...F } }` + fragF + fragC,
				[]string{all[0], all[4]}},
			{"Group.ownedEntities, no fragment", `{ entity(ref: "group:default/team-a") { ... on Group { ownedEntities(first: 200) { ref techRadarEntries { id } } } } }`,
				[]string{all[0], all[1], all[2], all[5]}},
			{"Group.ownedEntities, fragments", `{ entity(ref: "group:default/team-a") { ... on Group { ownedEntities(first: 200) { ...F
				... on System { ref techRadarEntries { id } } ... on Resource { ...F } } } } }` + fragF, []string{all[0], all[1], all[2], all[5]}},
			{"System.components/apis/resources, Domain.systems", `{ entity(ref: "domain:default/dom-a") { ref techRadarEntries { id } ... on Domain {
				systems(first: 5) { ref techRadarEntries { id } components(first: 5) { ref techRadarEntries { id } } c: components(first: 5) { ...C } apis(first: 5) { ...F }
				resources(first: 5) { ... on Resource { ref techRadarEntries { id } } } } } } }` + fragF + fragC,
				[]string{all[3], all[2], all[0], all[1], all[4], all[5]}},
			{"Component.system, dependsOn, owner; Group.members", `{ entity(ref: "component:default/svc-001") { ... on Component {
				system { ref techRadarEntries { id } } dependsOn { ref techRadarEntries { id } }
				owner { ... on Group { ref techRadarEntries { id } members { ref techRadarEntries { id } } } } } } }`,
				[]string{all[2], all[5], all[6], all[7]}},
			{"usedBy (plugin → core → plugin)", `{ techRadar(id: "larkspur") { k: entry(id: "kubernetes") { usedBy { ref techRadarEntries { id } } }
				p: entry(id: "postgresql") { usedBy { ...F } } } }` + fragF, []string{all[2], all[4], all[5]}},
		} {
			res := p.raw(t, p.userToken, c.q)
			if len(res.Errors) > 0 {
				t.Errorf("%s: errors %+v", c.name, res.Errors)
				continue
			}
			var data any
			json.Unmarshal(res.Data, &data)
			seen := map[string]bool{}
			var walk func(v any)
			walk = func(v any) {
				switch v := v.(type) {
				case []any:
					for _, x := range v {
						walk(x)
					}
				case map[string]any:
					ref, _ := v["ref"].(string)
					for _, key := range []string{"techRadarEntries", "radar"} {
						list, asked := v[key]
						if !asked || ref == "" {
							continue
						}
						if list == nil {
							t.Errorf("%s: %s.%s is null", c.name, ref, key)
							continue
						}
						var ids []string
						for _, e := range list.([]any) {
							m := e.(map[string]any)
							if id, ok := m["id"].(string); ok {
								ids = append(ids, id)
							} else {
								ids = append(ids, strings.ToLower(m["title"].(string)))
							}
						}
						want, known := kindTags[ref]
						if !known && strings.HasPrefix(ref, "component:") {
							want = "kotlin"
							if n := ref[len(ref)-3:]; (n[2]-'0')%2 == 0 {
								want = "go kafka"
							}
						}
						if got := strings.Join(ids, " "); got != want {
							t.Errorf("%s: %s.%s = [%s]; want [%s]", c.name, ref, key, got, want)
						}
						seen[ref] = true
					}
					for _, x := range v {
						walk(x)
					}
				}
			}
			walk(data)
			for _, ref := range c.want {
				if !seen[ref] {
					t.Errorf("%s: no techRadarEntries for %s in %.400s", c.name, ref, res.Data)
				}
			}
			t.Logf("%s: ok, %d entities checked", c.name, len(seen))
		}
	})

	t.Run("GraphiQLOffline", func(t *testing.T) {
		// The page and every asset it loads come from the gateway itself.
		base := strings.TrimSuffix(p.gatewayURL, "/graphql")
		page := httpGet(t, base+"/")
		if !strings.Contains(page, "GraphiQL") || strings.Contains(page, "https://") || strings.Contains(page, "http://") {
			t.Fatalf("GraphiQL page: %.300s", page)
		}
		for _, m := range regexp.MustCompile(`(?:src|href)="(/[^"]+)"`).FindAllStringSubmatch(page, -1) {
			if body := httpGet(t, base+m[1]); len(body) < 100 {
				t.Errorf("%s: %d bytes", m[1], len(body))
			}
		}
	})

	t.Run("TokenForwarded", func(t *testing.T) {
		// usedBy is read by the plugin from the core as the caller: a user
		// sees the entities, an anonymous caller (whom the policy lets read
		// nothing) none. So the token went gateway → plugin → core.
		q := `{ techRadar(id: "larkspur") { entry(id: "kotlin") { usedBy(first: 500) { ref ... on Component { lifecycle } } } } }`
		var got struct {
			TechRadar struct {
				Entry struct {
					UsedBy []struct{ Ref, Lifecycle string }
				}
			}
		}
		p.query(t, p.userToken, q, nil, &got)
		if u := got.TechRadar.Entry.UsedBy; len(u) != 50 || u[0].Lifecycle != "production" {
			t.Errorf("a user: kotlin used by %d entities (%+v…); want 50, resolved by the core", len(u), u[:min(len(u), 1)])
		}
		p.query(t, "", q, nil, &got)
		if u := got.TechRadar.Entry.UsedBy; len(u) != 0 {
			t.Errorf("anonymous: kotlin used by %d entities; want none", len(u))
		}
	})

	t.Run("Subscription", func(t *testing.T) {
		ws := dialWS(ctx, t, p.gatewayURL, p.userToken,
			`subscription { catalogChanged(filter: {kind: ["Component"]}) { operation ref entity { techRadarEntries { id } } } }`)
		time.Sleep(500 * time.Millisecond) // the gateway's subscription to the core is open
		writeFile(t, filepath.Join(p.dir, "catalog.yaml"), catalog("[postgresql]"))
		deadline := time.Now().Add(20 * time.Second)
		for {
			msg := ws.read(ctx, t, time.Until(deadline))
			var res struct {
				Data struct {
					CatalogChanged struct {
						Operation, Ref string
						Entity         struct{ TechRadarEntries []struct{ ID string } }
					}
				}
				Errors []any
			}
			if msg.Type != "next" || json.Unmarshal(msg.Payload, &res) != nil || len(res.Errors) > 0 {
				t.Fatalf("got %s %s; want an event", msg.Type, msg.Payload)
			}
			c := res.Data.CatalogChanged
			if c.Ref != "component:default/svc-000" {
				continue
			}
			if c.Operation != "UPDATED" || len(c.Entity.TechRadarEntries) != 1 || c.Entity.TechRadarEntries[0].ID != "postgresql" {
				t.Errorf("event %+v; want svc-000 UPDATED, using postgresql (the plugin's field, resolved for the event)", c)
			}
			break
		}
	})

	t.Run("SubscriptionSSE", func(t *testing.T) {
		// The plugin's field inside a fragment on the kind (the WebSocket
		// subscription above selects it on the interface).
		events := openSSE(ctx, t, p.gatewayURL, p.userToken,
			`subscription { catalogChanged(filter: {kind: ["Component"]}) { operation ref entity { ... on Component { techRadarEntries { id } } } } }`)
		time.Sleep(500 * time.Millisecond)
		writeFile(t, filepath.Join(p.dir, "catalog.yaml"), catalog("[kotlin]"))
		for deadline := time.Now().Add(20 * time.Second); ; {
			data := events.next(t, time.Until(deadline))
			var res struct {
				Data struct {
					CatalogChanged struct {
						Ref    string
						Entity struct{ TechRadarEntries []struct{ ID string } }
					}
				}
			}
			if err := json.Unmarshal(data, &res); err != nil {
				t.Fatalf("event %s: %v", data, err)
			}
			if c := res.Data.CatalogChanged; c.Ref == "component:default/svc-000" {
				if len(c.Entity.TechRadarEntries) != 1 || c.Entity.TechRadarEntries[0].ID != "kotlin" {
					t.Errorf("event %s; want svc-000 using kotlin", data)
				}
				break
			}
		}
	})

	t.Run("SlowPluginBounded", func(t *testing.T) {
		// A plugin that answers _entities after the gateway's
		// subgraphTimeout: the catalog's fields answer, the plugin's field
		// is null with GATEWAY_TIMEOUT naming it, within the timeout.
		slow := httptest.NewServer(slowSubgraph(10 * time.Second))
		defer slow.Close()
		p.query(t, p.adminToken, `mutation($u: String!) { addPlugin(name: "slow", url: $u) { name } }`, map[string]any{"u": slow.URL}, nil)
		p.waitState(t, "slow", "up")
		defer func() {
			p.greenroom(t, "plugins", "remove", "slow")
			p.waitState(t, "slow", "")
		}()
		began := time.Now()
		res := p.raw(t, p.userToken, `{ entity(ref: "component:default/svc-004") { ref ... on Component { slowField } } }`)
		took := time.Since(began)
		if took > 4*time.Second || !strings.Contains(string(res.Data), `"ref":"component:default/svc-004"`) || !strings.Contains(string(res.Data), `"slowField":null`) ||
			len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "GATEWAY_TIMEOUT" || !strings.Contains(res.Errors[0].Message, `"slow"`) {
			t.Errorf("a slow plugin: %s, %s %+v; want the core's fields, slowField null with GATEWAY_TIMEOUT naming slow, within the 2 s timeout", took, res.Data, res.Errors)
		}
	})

	t.Run("CheckRefusesBreakingPlugin", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "broken.graphqls")
		writeFile(t, file, brokenSDL)
		out, code := p.greenroom(t, "plugins", "check", "--gateway", strings.TrimSuffix(p.gatewayURL, "/graphql"), "--name", "broken", file)
		if code != 1 || !strings.Contains(out, file+":5:") {
			t.Errorf("check of a breaking schema: exit %d, %q; want 1 and an error at %s:5", code, out, file)
		}
	})

	t.Run("HotAddRemoveUnderLoad", func(t *testing.T) {
		scorecard := freeAddr(t)
		sc := start(t, p.dir, "scorecard", []string{"GREENROOM_CORE_URL=" + p.coreURL}, "node", "../plugins/scorecard/dist/index.js", "--listen", scorecard)
		defer sc.stop()
		waitReady(t, "http://"+scorecard+"/healthz")
		broken := httptest.NewServer(brokenSubgraph())
		defer broken.Close()

		var failed, served atomic.Int64
		var firstFailure atomic.Value
		loadCtx, stopLoad := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				for loadCtx.Err() == nil {
					if err := p.try(p.userToken, `{ entities(first: 5) { edges { node { ref techRadarEntries { id } } } } }`); err != nil {
						failed.Add(1)
						firstFailure.CompareAndSwap(nil, err.Error())
					} else {
						served.Add(1)
					}
				}
			})
		}
		gw := strings.TrimSuffix(p.gatewayURL, "/graphql")
		if out, code := p.greenroom(t, "plugins", "add", "--gateway", gw, "scorecard", "http://"+scorecard+"/graphql"); code != 0 {
			t.Fatalf("plugins add: exit %d: %s", code, out)
		}
		p.waitState(t, "scorecard", "up")
		var got struct {
			Entity struct {
				Scorecard struct{ Score int }
			}
		}
		p.query(t, p.userToken, `{ entity(ref: "component:default/svc-001") { ... on Component { scorecard { score } } } }`, nil, &got)
		if got.Entity.Scorecard.Score != 33 { // a title and a description missing, one tag
			t.Errorf("scorecard of svc-001: %+v; want score 33", got.Entity.Scorecard)
		}
		// A plugin that breaks composition, added past the CLI's check, is
		// refused by the gateway, which keeps serving.
		p.query(t, p.adminToken, `mutation($u: String!) { addPlugin(name: "broken", url: $u) { name } }`, map[string]any{"u": broken.URL + "/graphql"}, nil)
		p.waitState(t, "broken", "refused")
		if out, code := p.greenroom(t, "plugins", "list", "--gateway", gw); code != 0 || !strings.Contains(out, "refused") {
			t.Errorf("plugins list: exit %d, %q; want broken refused", code, out)
		}
		for _, name := range []string{"broken", "scorecard"} {
			if out, code := p.greenroom(t, "plugins", "remove", name); code != 0 {
				t.Fatalf("plugins remove %s: exit %d: %s", name, code, out)
			}
		}
		p.waitState(t, "scorecard", "")
		time.Sleep(500 * time.Millisecond)
		stopLoad()
		wg.Wait()
		if n := failed.Load(); n > 0 {
			t.Errorf("%d of %d requests failed while plugins came and went; the first: %v", n, n+served.Load(), firstFailure.Load())
		}
		if served.Load() < 20 {
			t.Errorf("only %d requests served under load", served.Load())
		}
		t.Logf("%d requests served while scorecard was added, broken refused and both removed", served.Load())
	})

	t.Run("PluginDownAndBack", func(t *testing.T) {
		p.radar.stop()
		q := `{ entity(ref: "component:default/svc-002") { ref ... on Component { lifecycle } techRadarEntries { id } } }`
		res := p.raw(t, p.userToken, strings.Replace(q, "{ entity", "{ techRadars { id } entity", 1))
		var data struct {
			Entity struct {
				Ref              string
				Lifecycle        string
				TechRadarEntries []any
			}
		}
		if err := json.Unmarshal(res.Data, &data); err != nil || data.Entity.Ref != "component:default/svc-002" ||
			data.Entity.Lifecycle != "production" || data.Entity.TechRadarEntries != nil {
			t.Errorf("the plugin down: data %s; want the core's fields, techRadarEntries null", res.Data)
		}
		if !strings.Contains(string(res.Data), `"techRadars":null`) || len(res.Errors) != 2 ||
			!strings.Contains(res.Errors[0].Message, `"techradar"`) || !strings.Contains(res.Errors[1].Message, `"techradar"`) {
			t.Errorf("the plugin down: %s, errors %+v; want techRadars null too, and both errors naming techradar", res.Data, res.Errors)
		}
		p.radar = start(t, p.dir, "techradar", p.radarEnv, filepath.Join(p.bin, "techradar"), p.radarArgs...)
		waitReady(t, "http://"+p.radarAddr+"/readyz")
		var back struct {
			Entity struct{ TechRadarEntries []struct{ ID string } }
		}
		p.query(t, p.userToken, q, nil, &back)
		if len(back.Entity.TechRadarEntries) != 2 {
			t.Errorf("the plugin back: %+v; want go and kafka", back.Entity)
		}
	})
}

// brokenSDL redefines the core's key with another type: it cannot compose.
const brokenSDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

type Query { brokenThing: Int }

type Component @key(fields: "ref") { ref: Int! }
`

// slowSDL is a plugin's field on components.
const slowSDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

type Component @key(fields: "ref") { ref: String! slowField: Int }
`

// slowSubgraph serves slowSDL and answers _entities after delay (or when
// the gateway gives up).
func slowSubgraph(delay time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte("_entities")) {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"_service": map[string]any{"sdl": slowSDL}}})
	})
}

// brokenSubgraph serves brokenSDL as a subgraph's _service.
func brokenSubgraph() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"_service": map[string]any{"sdl": brokenSDL}}})
	})
}

func startPortal(t testing.TB) *portal {
	p := &portal{dir: t.TempDir()}
	p.bin = buildBinaries(t)
	p.dbPath = filepath.Join(p.dir, "greenroom.db")
	writeFile(t, filepath.Join(p.dir, "catalog.yaml"), catalog("[go, kafka]"))
	writeFile(t, filepath.Join(p.dir, "policy.yaml"), policy)
	mint := func(sub string) string {
		tok, err := auth.MintDevToken(secret, auth.MintOptions{Subject: sub})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	p.userToken, p.adminToken = mint("user:default/jane"), mint("user:default/admin")

	coreAddr := freeAddr(t)
	p.coreURL = "http://" + coreAddr + "/graphql"
	start(t, p.dir, "core", []string{"GREENROOM_LISTEN=" + coreAddr, "GREENROOM_DATABASE=" + p.dbPath,
		"GREENROOM_LOCATIONS=" + filepath.Join(p.dir, "catalog.yaml"), "GREENROOM_POLICY=" + filepath.Join(p.dir, "policy.yaml"),
		"GREENROOM_LOG_LEVEL=warn"}, filepath.Join(p.bin, "greenroom"), "serve")
	coreEnv := []string{"GREENROOM_CORE_URL=" + p.coreURL}
	waitReady(t, "http://"+coreAddr+"/readyz")

	p.radarAddr = freeAddr(t)
	radarFile, err := filepath.Abs("../examples/techradar/radar.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p.radarArgs = []string{"--radar", "larkspur=" + radarFile, "--database", filepath.Join(p.dir, "techradar.db"), "--listen", p.radarAddr}
	p.radarEnv = coreEnv
	p.radar = start(t, p.dir, "techradar", p.radarEnv, filepath.Join(p.bin, "techradar"), p.radarArgs...)
	waitReady(t, "http://"+p.radarAddr+"/readyz")
	// The gateway reaches the plugin through a proxy that counts its
	// _entities calls.
	target, _ := url.Parse("http://" + p.radarAddr)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte("_entities")) {
			p.entitiesCalls.Add(1)
			p.lastEntities.Store(body)
			var req struct {
				Variables map[string][]map[string]any
			}
			json.Unmarshal(body, &req)
			for _, list := range req.Variables {
				for _, rep := range list {
					p.representations.Add(1)
					if _, ok := rep["tags"]; !ok || rep["__typename"] == "CatalogEntity" {
						p.untagged.Add(1)
					}
				}
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)

	config := fmt.Sprintf(`listen: 127.0.0.1:0
subgraphs:
  - name: catalog
    url: %s
  - name: techradar
    url: %s/graphql
registry:
  url: %s
  token: %s
pollInterval: 1s
subgraphTimeout: 2s
`, p.coreURL, proxy.URL, p.coreURL, mint("service:gateway"))
	writeFile(t, filepath.Join(p.dir, "gateway.yaml"), config)
	began := time.Now()
	p.gateway = start(t, p.dir, "gateway", nil, "node", "server.mjs", "--config", filepath.Join(p.dir, "gateway.yaml"))
	p.gatewayURL = strings.Fields(p.gateway.waitLine(t, "gateway: serving ", 60*time.Second))[2]
	p.gatewayStart = time.Since(began)
	return p
}

// buildBinaries builds the core and the Tech Radar plugin, with the race
// detector when the test has it, so that go build reuses the packages the
// test's own build compiled.
func buildBinaries(t testing.TB) string {
	t.Helper()
	bin := t.TempDir()
	for _, pkg := range []string{"./cmd/greenroom", "./plugins/techradar"} {
		args := []string{"build", "-o", bin}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, pkg)...)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return bin
}

// process is a started command, its output kept in a file under dir.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *os.File
	stop func()
}

func start(t testing.TB, dir, name string, env []string, command string, args ...string) *process {
	t.Helper()
	out, err := os.CreateTemp(dir, name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(command, args...)
	cmd.Env = append(os.Environ(), append([]string{"GREENROOM_AUTH_SECRET=" + secret}, env...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{name: name, cmd: cmd, out: out}
	p.stop = sync.OnceFunc(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			t.Logf("%s's output:\n%s", name, tail(b, 4000))
		}
	})
	return p
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// waitLine waits for a line of the process's output that begins with prefix.
func (p *process) waitLine(t testing.TB, prefix string, within time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b, _ := os.ReadFile(p.out.Name())
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), prefix) {
				return strings.TrimPrefix(sc.Text(), "")
			}
		}
		if p.cmd.ProcessState != nil {
			break
		}
	}
	b, _ := os.ReadFile(p.out.Name())
	t.Fatalf("%s did not print %q:\n%s", p.name, prefix, tail(b, 4000))
	return ""
}

// httpGet returns the body of a GET that must answer 200.
func httpGet(t testing.TB, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	return string(b)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitReady(t testing.TB, u string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("%s did not answer 200 within a minute", u)
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

type gqlError struct {
	Message    string
	Extensions map[string]any
}

type response struct {
	Data   json.RawMessage
	Errors []gqlError
}

// raw sends a query to the gateway and returns its response.
func (p *portal) raw(t testing.TB, token, q string) response {
	t.Helper()
	res, err := p.post(token, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (p *portal) post(token, q string, vars map[string]any) (response, error) {
	return postVars(p.gatewayURL, token, q, vars)
}

// postTo sends a query to a GraphQL endpoint.
func postTo(url, token, q string) (response, error) { return postVars(url, token, q, nil) }

func postVars(url, token, q string, vars map[string]any) (response, error) {
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var res response
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &res) != nil {
		return res, fmt.Errorf("%s: %s", resp.Status, b)
	}
	return res, nil
}

// try runs a query and returns an error when it failed in any way.
func (p *portal) try(token, q string) error {
	res, err := p.post(token, q, nil)
	if err == nil && len(res.Errors) > 0 {
		err = fmt.Errorf("errors: %+v", res.Errors)
	}
	return err
}

// query runs a query through the gateway and decodes its data, failing on
// any error.
func (p *portal) query(t testing.TB, token, q string, vars map[string]any, out any) {
	t.Helper()
	res, err := p.post(token, q, vars)
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("%s: %v %+v", q, err, res.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			t.Fatal(err)
		}
	}
}

// greenroom runs the CLI on the core's database and returns its output
// and exit code.
func (p *portal) greenroom(t testing.TB, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(p.bin, "greenroom"), append(args, "--database", p.dbPath)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		t.Fatal(err)
	}
	return string(out), 0
}

// waitState waits until the gateway reports the subgraph in state ("" for
// gone).
func (p *portal) waitState(t testing.TB, name, state string) {
	t.Helper()
	var last []byte
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(strings.TrimSuffix(p.gatewayURL, "/graphql") + "/gateway/status")
		if err != nil {
			t.Fatal(err)
		}
		last, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		var st struct {
			Subgraphs []struct{ Name, State string }
		}
		json.Unmarshal(last, &st)
		got := ""
		for _, s := range st.Subgraphs {
			if s.Name == name {
				got = s.State
			}
		}
		if got == state {
			return
		}
	}
	t.Fatalf("the gateway did not report %s %q within 20 s: %s", name, state, last)
}

// sseClient is a graphql-sse client (distinct connections mode).
type sseClient struct{ r *bufio.Reader }

func openSSE(ctx context.Context, t testing.TB, gateway, token, query string) *sseClient {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, gateway, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("SSE: %s %s", resp.Status, b)
	}
	return &sseClient{r: bufio.NewReader(resp.Body)}
}

// next returns the data of the next "next" event.
func (c *sseClient) next(t testing.TB, within time.Duration) []byte {
	t.Helper()
	type line struct {
		s   string
		err error
	}
	event := ""
	for {
		ch := make(chan line, 1)
		go func() { s, err := c.r.ReadString('\n'); ch <- line{s, err} }()
		var l line
		select {
		case l = <-ch:
		case <-time.After(within):
			t.Fatal("no SSE event in time")
		}
		if l.err != nil {
			t.Fatalf("SSE: %v", l.err)
		}
		s := strings.TrimRight(l.s, "\r\n")
		switch {
		case strings.HasPrefix(s, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(s, "event:"))
		case strings.HasPrefix(s, "data:") && event == "next":
			return []byte(strings.TrimSpace(strings.TrimPrefix(s, "data:")))
		case strings.HasPrefix(s, "data:") && event == "complete":
			t.Fatal("SSE: the subscription completed")
		}
	}
}

// wsClient is a graphql-transport-ws client with one subscription.
type wsClient struct{ conn *websocket.Conn }

type wsMessage struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

func dialWS(ctx context.Context, t testing.TB, gateway, token, query string) *wsClient {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(gateway, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &wsClient{conn: conn}
	c.send(ctx, t, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	if msg := c.read(ctx, t, 10*time.Second); msg.Type != "connection_ack" {
		t.Fatalf("got %+v; want connection_ack", msg)
	}
	c.send(ctx, t, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
	return c
}

func (c *wsClient) send(ctx context.Context, t testing.TB, msg any) {
	t.Helper()
	if err := wsjson.Write(ctx, c.conn, msg); err != nil {
		t.Fatal(err)
	}
}

func (c *wsClient) read(ctx context.Context, t testing.TB, within time.Duration) wsMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		var msg wsMessage
		if err := wsjson.Read(ctx, c.conn, &msg); err != nil {
			t.Fatal(err)
		}
		if msg.Type != "ping" && msg.Type != "pong" {
			return msg
		}
	}
}
