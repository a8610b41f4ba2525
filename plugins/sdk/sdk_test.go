package sdk_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/auth"
	"github.com/greenroomhq/greenroom/internal/identity"
	"github.com/greenroomhq/greenroom/internal/policy"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
	"github.com/greenroomhq/greenroom/plugins/sdk"
	"github.com/greenroomhq/greenroom/plugins/techradar/graph"
	"github.com/greenroomhq/greenroom/plugins/techradar/radars"
	"github.com/greenroomhq/greenroom/plugins/techradar/resolvers"
	"github.com/greenroomhq/greenroom/plugins/techradar/store"
	coreresolvers "github.com/greenroomhq/greenroom/resolvers"
)

const secret = "sdk-test-secret-0123456789abcdef-0123"

type fixedPolicy struct{ p *policy.Policy }

func (f fixedPolicy) Current() *policy.Policy { return f.p }

// startCore serves the core's API with token authentication and a policy
// under which only user:default/admin may create locations.
func startCore(t *testing.T) *httptest.Server {
	t.Helper()
	db := storetest.MustOpenSQLite(t)
	pol, err := policy.Parse([]byte(`rules:
  - name: admin
    allow: ["*"]
    to: [user:default/admin]
  - name: users-read
    allow: [catalog.entity.read]
    to: [users]
`), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svcs := app.New(app.Deps{Store: db, Policies: fixedPolicy{pol}})
	svc := svcs.Catalog
	v, err := auth.NewVerifier(t.Context(), auth.Config{Secret: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.NewResolver(db, identity.Options{AllowUnknownUsers: true})
	resolve := func(ctx context.Context, c *auth.Claims) (*portal.Principal, error) {
		return ids.Principal(ctx, c.Subject, c.Email)
	}
	core := httptest.NewServer(server.New(server.Options{
		Resolver:     &coreresolvers.Resolver{Catalog: svc, Ingest: svc, Access: svc, Jobs: svcs.Jobs, History: svc},
		Loaders:      svc,
		Authenticate: func(next http.Handler) http.Handler { return auth.Middleware(v, resolve, next) },
	}))
	t.Cleanup(core.Close)
	return core
}

// TestHandler serves a plugin (the Tech Radar's schema) with the core's
// auth settings: tokens are verified as the core verifies them, and a
// plugin's route asks the core for a decision as the caller.
func TestHandler(t *testing.T) {
	core := startCore(t)
	cfg, err := sdk.Load("test", "127.0.0.1:0", "", func(k string) string {
		return map[string]string{"GREENROOM_AUTH_SECRET": secret, "GREENROOM_CORE_URL": core.URL + "/graphql"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "radar.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := sdk.Core{URL: cfg.CoreURL}
	exec := graph.NewExecutableSchema(graph.Config{Resolvers: &resolvers.Resolver{Radars: radars.New(st, nil, slog.New(slog.DiscardHandler)), Core: c}})
	check := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := c.Allowed(r.Context(), r.URL.Query().Get("permission"), "")
		viewer, _, verr := c.Viewer(r.Context())
		if verr != nil {
			viewer = "error: " + verr.Error()
		}
		json.NewEncoder(w).Encode(map[string]any{"caller": sdk.Caller(r.Context()).Ref, "viewer": viewer, "allowed": d.Allowed, "reason": d.Reason,
			"code": sdk.ErrorCode(err), "require": sdk.ErrorCode(c.Require(r.Context(), r.URL.Query().Get("permission"), ""))})
	})
	h, release, err := sdk.Handler(t.Context(), sdk.Options{Config: cfg, Schema: exec, Routes: map[string]http.Handler{"GET /check": check}})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	plugin := httptest.NewServer(h)
	defer plugin.Close()

	token := func(sub string) string {
		tok, err := auth.MintDevToken(secret, auth.MintOptions{Subject: sub})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	get := func(path, bearer string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, plugin.URL+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}

	// The GraphQL endpoint, anonymous and with a token.
	for _, bearer := range []string{"", token("user:default/jane")} {
		if code, out := get("/graphql?query=%7BtechRadars%7Bid%7D%7D", bearer); code != http.StatusOK || out["errors"] != nil {
			t.Errorf("techRadars (token %t): %d %v", bearer != "", code, out)
		}
	}
	// A token the core would refuse, the plugin refuses.
	other, err := auth.MintDevToken(strings.Repeat("x", 40), auth.MintOptions{Subject: "user:default/jane"})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{other, "not-a-jwt"} {
		code, out := get("/graphql?query=%7BtechRadars%7Bid%7D%7D", bad)
		errs, _ := out["errors"].([]any)
		if code != http.StatusUnauthorized || len(errs) == 0 || !strings.Contains(mustJSON(errs[0]), `"UNAUTHENTICATED"`) {
			t.Errorf("a bad token: %d %v; want 401 UNAUTHENTICATED", code, out)
		}
	}
	// Decisions come from the core, for the caller whose token the
	// plugin forwards.
	for _, c := range []struct {
		sub, perm   string
		allowed     bool
		requireCode string
	}{
		{"user:default/admin", "catalog.location.create", true, ""},
		{"user:default/jane", "catalog.location.create", false, portal.EFORBIDDEN},
		{"user:default/jane", "catalog.entity.read", true, ""},
		{"", "catalog.entity.read", false, portal.EFORBIDDEN},
		// A plugin's own permission, decided by the core's policy.
		{"user:default/admin", "techradar.radar.update", true, ""},
		{"user:default/jane", "techradar.radar.update", false, portal.EFORBIDDEN},
	} {
		bearer := ""
		if c.sub != "" {
			bearer = token(c.sub)
		}
		code, out := get("/check?permission="+c.perm, bearer)
		if code != http.StatusOK || out["allowed"] != c.allowed || out["caller"] != c.sub || out["viewer"] != c.sub || out["require"] != c.requireCode || out["code"] != "" {
			t.Errorf("%s asks for %s: %d %v; want allowed %t", c.sub, c.perm, code, out, c.allowed)
		}
	}
	// A permission the core does not know is denied, with the core's reason.
	if _, out := get("/check?permission=nope.nope", token("user:default/admin")); out["allowed"] != false ||
		!strings.Contains(out["reason"].(string), "not a permission") || out["require"] != portal.EFORBIDDEN {
		t.Errorf("an unknown permission: %v; want it denied, saying why", out)
	}
	// With introspection off, a gateway still reads the plugin's _service.
	closed := cfg
	closed.Limits.DisableIntrospection = true
	h2, release2, err := sdk.Handler(t.Context(), sdk.Options{Config: closed, Schema: exec})
	if err != nil {
		t.Fatal(err)
	}
	defer release2()
	noIntro := httptest.NewServer(h2)
	defer noIntro.Close()
	for q, ok := range map[string]bool{"%7B_service%7Bsdl%7D%7D": true, "%7B__schema%7BqueryType%7Bname%7D%7D%7D": false} {
		resp, err := http.Get(noIntro.URL + "/graphql?query=" + q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := !strings.Contains(string(b), `"errors"`); got != ok {
			t.Errorf("introspection off, %s: %s; want ok %t", q, b, ok)
		}
	}
	// Health and metrics, as the core serves them.
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _ := get(path, ""); code != http.StatusOK {
			t.Errorf("%s: %d", path, code)
		}
	}
	resp, err := http.Get(plugin.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "greenroom_http_request") {
		t.Errorf("/metrics: %.300s", b)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestLoad reads the core's settings from greenroom.yaml and the
// environment, and refuses production without authentication.
func TestLoad(t *testing.T) {
	file := filepath.Join(t.TempDir(), "greenroom.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:7007\ncatalog: {orphans: keep}\nauth:\n  issuer: https://idp.example\n  audience: [greenroom]\n  jwksURL: https://idp.example/jwks\napi:\n  maxDepth: 7\n  timeout: 5s\n"), 0o644)
	cfg, err := sdk.Load("p", "127.0.0.1:9", file, func(k string) string {
		return map[string]string{"GREENROOM_AUTH_AUDIENCE": "a, b,"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.Issuer != "https://idp.example" || cfg.Auth.JWKSURL == "" || strings.Join(cfg.Auth.Audience, ",") != "a,b" ||
		cfg.Limits.MaxDepth != 7 || cfg.Limits.Timeout.Seconds() != 5 || cfg.Listen != "127.0.0.1:9" || cfg.CoreURL == "" {
		t.Errorf("config %+v", cfg)
	}
	os.WriteFile(file, []byte("production: true\n"), 0o644)
	if _, err := sdk.Load("p", "", file, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "without authentication") {
		t.Errorf("production without auth: %v", err)
	}
	os.WriteFile(file, []byte("api: {timeout: soon}\n"), 0o644)
	if _, err := sdk.Load("p", "", file, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a bad duration: %v; want its line", err)
	}
}
