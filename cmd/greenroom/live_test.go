package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/greenroomhq/greenroom/internal/auth"
	"github.com/greenroomhq/greenroom/internal/catalog"
)

// liveEvent is one catalogChanged event as a client receives it.
type liveEvent struct {
	Cursor, Operation, Ref string
	ChangedFields          []string
	Entity                 *struct{ Ref, Description string }
}

// liveResult is the payload of a subscription's next message.
type liveResult struct {
	Data *struct {
		CatalogChanged liveEvent `json:"catalogChanged"`
	} `json:"data"`
	Errors []struct {
		Message    string
		Extensions struct{ Code string }
	} `json:"errors"`
}

const liveQuery = `subscription($after: String, $filter: EntityFilter) {
  catalogChanged(after: $after, filter: $filter) {
    cursor operation ref changedFields entity { ref description }
  }
}`

const liveCatalog = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: live-a
  description: %s
spec:
  type: service
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: live-b
  description: %s
spec:
  type: service
  lifecycle: production
  owner: team-a
`

// TestMain_Subscriptions subscribes to catalogChanged over WebSocket
// (graphql-transport-ws) and over SSE against the real server on each
// database, edits the catalog file and refreshes it, and checks that both
// clients receive the change with its changed fields and the entity as it
// is now, that a filter narrows what is sent, that a subscription resumed
// from a cursor receives what came after it, and that a malformed cursor
// is refused with code INVALID.
func TestMain_Subscriptions(t *testing.T) {
	eachDatabase(t, testSubscriptions)
}

func testSubscriptions(t *testing.T, dsn string) {
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog-info.yaml")
	write := func(a, b string) {
		t.Helper()
		doc := strings.Replace(strings.Replace(liveCatalog, "%s", a, 1), "%s", b, 1)
		// Written whole, then renamed: the file watcher's refresh must not
		// read it truncated (live-a orphaned, as CI once saw).
		if err := os.WriteFile(file+".tmp", []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(file+".tmp", file); err != nil {
			t.Fatal(err)
		}
	}
	write("first", "first")
	cfg := DefaultConfig()
	cfg.Locations = []string{file}
	m, base := serve(t, cfg, dsn)
	data, _ := graphql(t, base, `{ locations { id } }`, nil)
	var locs struct{ Locations []struct{ ID string } }
	json.Unmarshal(data, &locs)
	if len(locs.Locations) != 1 {
		t.Fatalf("locations: %s", data)
	}
	refresh := func() {
		t.Helper()
		if _, code := graphql(t, base, `mutation($id: ID!) { refreshLocation(id: $id) { stats { emitted } } }`, map[string]any{"id": locs.Locations[0].ID}); code != "" {
			t.Fatalf("refreshLocation: %s", code)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	head := headCursor(t, m)
	ws := dialLive(ctx, t, base, map[string]any{"after": head, "filter": map[string]any{"name": []string{"live-a"}}})
	sse := openSSE(ctx, t, base, map[string]any{"after": head})
	locEvents := openSSEQuery(ctx, t, base, `subscription($after: String) { locationChanged(after: $after) { cursor operation id location { id target } } }`,
		map[string]any{"after": head})

	write("second", "second")
	refresh()
	// WebSocket: only live-a, by its filter.
	got := ws.next(ctx, t)
	if got.Operation != "UPDATED" || got.Ref != "component:default/live-a" || strings.Join(got.ChangedFields, ",") != "metadata.description" ||
		got.Entity == nil || got.Entity.Description != "second" {
		t.Errorf("WebSocket event %+v; want UPDATED live-a, metadata.description, described second", got)
	}
	// SSE: both, in document order.
	first := sse.next(ctx, t)
	second := sse.next(ctx, t)
	if first.Ref != "component:default/live-a" || second.Ref != "component:default/live-b" || second.Operation != "UPDATED" {
		t.Errorf("SSE events %+v, %+v; want live-a then live-b updated", first, second)
	}

	var lc struct {
		Data struct {
			LocationChanged struct {
				Operation, ID string
				Location      *struct{ ID, Target string }
			}
		}
	}
	if err := json.Unmarshal(locEvents.raw(ctx, t), &lc); err != nil || lc.Data.LocationChanged.Operation != "REFRESHED" ||
		lc.Data.LocationChanged.Location == nil || lc.Data.LocationChanged.Location.Target != file {
		t.Errorf("locationChanged %+v (%v); want REFRESHED of %s", lc, err, file)
	}

	write("third", "second")
	refresh()
	if got := ws.next(ctx, t); got.Entity == nil || got.Entity.Description != "third" {
		t.Errorf("second WebSocket event %+v; want live-a described third", got)
	}
	// Resumed from the cursor of live-a's first change: live-b's, then
	// live-a's second, and nothing twice.
	resumed := openSSE(ctx, t, base, map[string]any{"after": first.Cursor})
	if a, b := resumed.next(ctx, t), resumed.next(ctx, t); a.Cursor != second.Cursor || b.Ref != "component:default/live-a" || b.Entity.Description != "third" {
		t.Errorf("resumed after %s: %+v, %+v; want %s then live-a described third", first.Cursor, a, b, second.Cursor)
	}

	bad := openSSE(ctx, t, base, map[string]any{"after": "not-a-cursor"})
	if res := bad.result(ctx, t); len(res.Errors) == 0 || res.Errors[0].Extensions.Code != "INVALID" {
		t.Errorf("malformed cursor: %+v; want code INVALID", res)
	}
}

// wsLive is a graphql-transport-ws client with one subscription.
type wsLive struct{ conn *websocket.Conn }

func dialLive(ctx context.Context, t *testing.T, base string, vars map[string]any) *wsLive {
	t.Helper()
	return dialLiveAs(ctx, t, base, "", vars)
}

// dialLiveAs is dialLive with a token in the connection_init payload;
// it returns nil when the server closes the connection instead of
// acknowledging it.
func dialLiveAs(ctx context.Context, t *testing.T, base, token string, vars map[string]any) *wsLive {
	t.Helper()
	return dialWS(ctx, t, base, token, liveQuery, vars)
}

// dialWS subscribes to query over graphql-transport-ws, with a token in
// the connection_init payload ("" for none); it returns nil when the
// server closes the connection instead of acknowledging it.
func dialWS(ctx context.Context, t *testing.T, base, token, query string, vars map[string]any) *wsLive {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &wsLive{conn: conn}
	payload := map[string]any{}
	if token != "" {
		payload["Authorization"] = "Bearer " + token
	}
	c.send(ctx, t, map[string]any{"type": "connection_init", "payload": payload})
	var msg wsMessage
	if err := wsjson.Read(ctx, c.conn, &msg); err != nil {
		if token != "" && websocket.CloseStatus(err) != -1 {
			return nil
		}
		t.Fatal(err)
	}
	if msg.Type != "connection_ack" {
		t.Fatalf("got %+v; want connection_ack", msg)
	}
	c.send(ctx, t, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
	return c
}

type wsMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

func (c *wsLive) send(ctx context.Context, t *testing.T, msg any) {
	t.Helper()
	if err := wsjson.Write(ctx, c.conn, msg); err != nil {
		t.Fatal(err)
	}
}

func (c *wsLive) read(ctx context.Context, t *testing.T) wsMessage {
	t.Helper()
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

func (c *wsLive) next(ctx context.Context, t *testing.T) liveEvent {
	t.Helper()
	msg := c.read(ctx, t)
	var res liveResult
	if msg.Type != "next" || json.Unmarshal(msg.Payload, &res) != nil || res.Data == nil {
		t.Fatalf("got %s %s; want next with data", msg.Type, msg.Payload)
	}
	return res.Data.CatalogChanged
}

// sseLive is a graphql-sse client (distinct connections mode).
type sseLive struct{ r *bufio.Reader }

func openSSE(ctx context.Context, t *testing.T, base string, vars map[string]any) *sseLive {
	t.Helper()
	return openSSEQuery(ctx, t, base, liveQuery, vars)
}

func openSSEQuery(ctx context.Context, t *testing.T, base, query string, vars map[string]any) *sseLive {
	t.Helper()
	s, status := openSSEAs(ctx, t, base, "", query, vars)
	if s == nil {
		t.Fatalf("SSE: %s", status)
	}
	return s
}

// openSSEAs opens an SSE subscription with a token in the Authorization
// header ("" for none); it returns nil and the status when the server
// answers with anything but a stream.
func openSSEAs(ctx context.Context, t *testing.T, base, token, query string, vars map[string]any) (*sseLive, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return nil, resp.Status + " " + resp.Header.Get("Content-Type")
	}
	return &sseLive{r: bufio.NewReader(resp.Body)}, resp.Status
}

// result returns the data of the next "next" event.
func (s *sseLive) result(ctx context.Context, t *testing.T) liveResult {
	t.Helper()
	var res liveResult
	if err := json.Unmarshal(s.raw(ctx, t), &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// raw returns the payload of the next "next" event.
func (s *sseLive) raw(ctx context.Context, t *testing.T) []byte {
	t.Helper()
	event := ""
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("SSE stream ended: %v", err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:") && event == "next":
			return []byte(strings.TrimPrefix(line, "data:"))
		case strings.HasPrefix(line, "data:") && event == "complete":
			t.Fatal("SSE stream completed")
		}
	}
}

func (s *sseLive) next(ctx context.Context, t *testing.T) liveEvent {
	t.Helper()
	res := s.result(ctx, t)
	if res.Data == nil {
		t.Fatalf("SSE next without data: %+v", res)
	}
	return res.Data.CatalogChanged
}

const livePolicy = `rules:
  - name: owners-read
    allow: [catalog.entity.read]
    to: [users]
    when: {isOwner: true}
`

const livePeople = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [team-a]}
`

// TestMain_SubscriptionsSecure subscribes over WebSocket with tokens in
// the connection_init payload, and over SSE with the Authorization header,
// under a policy that lets users read only what they own: alice, of
// team-a, receives the changes of team-a's component and not of team-b's;
// when her component passes to team-b it arrives as DELETED; a token that
// does not verify closes the connection (401 on SSE); a subscription ends
// with code UNAUTHENTICATED when its token expires.
func TestMain_SubscriptionsSecure(t *testing.T) {
	eachDatabase(t, testSubscriptionsSecure)
}

func testSubscriptionsSecure(t *testing.T, dsn string) {
	dir := t.TempDir()
	write := func(ownerA, description string) {
		t.Helper()
		doc := strings.Replace(liveCatalog, "%s", description, 2)
		parts := strings.SplitN(doc, "---\n", 2)
		parts[0] = strings.Replace(parts[0], "owner: team-a", "owner: "+ownerA, 1)
		parts[1] = strings.Replace(parts[1], "owner: team-a", "owner: team-b", 1)
		content := parts[0] + "---\n" + parts[1] + "---\n" + livePeople
		if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("team-a", "first")
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(livePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Locations = []string{filepath.Join(dir, "catalog-info.yaml")}
	cfg.Auth.Secret = testSecret
	cfg.Policy = policyFile
	m, base := serve(t, cfg, dsn)
	refresh := func() {
		t.Helper()
		if _, err := m.engine.Refresh(context.Background(), mustOnlyLocation(t, m)); err != nil {
			t.Fatal(err)
		}
	}
	alice, err := auth.MintDevToken(testSecret, auth.MintOptions{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c := dialLiveAs(ctx, t, base, "not-a-token", map[string]any{}); c != nil {
		t.Error("a token that does not verify: the connection was acknowledged")
	}
	head := headCursor(t, m)
	ws := dialLiveAs(ctx, t, base, alice, map[string]any{"after": head})
	// On SSE the token is the request's Authorization header.
	sse, _ := openSSEAs(ctx, t, base, alice, liveQuery, map[string]any{"after": head})
	if sse == nil {
		t.Fatal("SSE with alice's token: no stream")
	}
	if s, status := openSSEAs(ctx, t, base, "not-a-token", liveQuery, nil); s != nil || !strings.HasPrefix(status, "401") {
		t.Errorf("SSE with a token that does not verify: %s; want 401", status)
	}
	noLocs := dialLiveAs(ctx, t, base, alice, nil)
	noLocs.send(ctx, t, map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": `subscription { locationChanged { id } }`}})
	for {
		msg := noLocs.read(ctx, t)
		if msg.ID != "2" {
			continue
		}
		if !strings.Contains(string(msg.Payload), "FORBIDDEN") {
			t.Errorf("alice's locationChanged: %s %s; want FORBIDDEN", msg.Type, msg.Payload)
		}
		break
	}

	write("team-a", "second")
	refresh()
	if got := ws.next(ctx, t); got.Ref != "component:default/live-a" || got.Operation != "UPDATED" {
		t.Errorf("alice got %+v; want live-a UPDATED, never live-b", got)
	}
	if got := sse.next(ctx, t); got.Ref != "component:default/live-a" || got.Operation != "UPDATED" {
		t.Errorf("alice got %+v over SSE; want live-a UPDATED, never live-b", got)
	}
	write("team-b", "second")
	refresh()
	if got := ws.next(ctx, t); got.Ref != "component:default/live-a" || got.Operation != "DELETED" || got.Entity != nil {
		t.Errorf("alice got %+v; want live-a DELETED as it left her view", got)
	}

	short, err := auth.MintDevToken(testSecret, auth.MintOptions{Subject: "user:default/alice", TTL: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	expiring := dialLiveAs(ctx, t, base, short, map[string]any{})
	msg := expiring.read(ctx, t)
	var res liveResult
	json.Unmarshal(msg.Payload, &res)
	if msg.Type != "next" || len(res.Errors) == 0 || res.Errors[0].Extensions.Code != "UNAUTHENTICATED" {
		t.Errorf("at the token's expiry got %s %s; want an error with code UNAUTHENTICATED", msg.Type, msg.Payload)
	}
	if msg := expiring.read(ctx, t); msg.Type != "complete" {
		t.Errorf("after the expiry got %s; want complete", msg.Type)
	}
}

// serve runs cfg's server on a free port over the database dsn until the
// test ends, and returns it and its base URL once it is ready.
func serve(t *testing.T, cfg Config, dsn string) (*Main, string) {
	t.Helper()
	cfg.Listen, cfg.Database = "127.0.0.1:0", dsn
	m := &Main{Config: cfg}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	base := "http://" + m.Addr()
	waitReady(t, base)
	return m, base
}

// headCursor returns the cursor of the last change committed: a
// subscription given it as after receives every change made after this
// call, however late the server starts following it (without one, a
// subscription starts where the feed is when the server handles it, which
// a write made just after subscribing may precede).
func headCursor(t *testing.T, m *Main) string {
	t.Helper()
	pos, err := m.feed.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(pos, 10)
}

// mustOnlyLocation returns the one location m serves.
func mustOnlyLocation(t *testing.T, m *Main) catalog.Location {
	t.Helper()
	locs, err := m.db.Locations(context.Background())
	if err != nil || len(locs) != 1 {
		t.Fatalf("locations %v, %v; want one", locs, err)
	}
	return locs[0]
}
