package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/auth"
)

// testSecret is an HS256 secret long enough for auth.
const testSecret = "cmd-greenroom-test-secret-0123456789"

// runCmd runs a greenroom command and returns its exit code and output.
func runCmd(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, env(vars), &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustVerify verifies tok with c and returns its claims.
func mustVerify(t *testing.T, c auth.Config, tok string) *auth.Claims {
	t.Helper()
	v, err := auth.NewVerifier(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("token %q does not verify: %v", tok, err)
	}
	return claims
}

func TestRun_Token(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		code, out, errOut := runCmd(t, nil, "token", "--sub", "user:default/jane", "--secret", testSecret)
		if code != 0 {
			t.Fatalf("exit %d; want 0\n%s", code, errOut)
		}
		tok := strings.TrimSpace(out)
		if strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \n") {
			t.Fatalf("output %q; want one JWT on a line", out)
		}
		c := mustVerify(t, auth.Config{Secret: testSecret}, tok)
		if c.Subject != "user:default/jane" {
			t.Errorf("subject %q; want user:default/jane", c.Subject)
		}
		if d := time.Until(c.ExpiresAt); d < 59*time.Minute || d > time.Hour+time.Minute {
			t.Errorf("token expires in %s; want the default hour", d)
		}
		// Another secret does not verify it.
		v, err := auth.NewVerifier(context.Background(), auth.Config{Secret: strings.Repeat("z", 40)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), tok); err == nil {
			t.Error("a verifier with another secret accepts the token")
		}
	})

	t.Run("ClaimsFromFlagsAndEnvironment", func(t *testing.T) {
		// The secret, issuer and audience come from the environment, as
		// greenroom serve reads them; --ttl and --email are flags.
		vars := map[string]string{
			"GREENROOM_AUTH_SECRET": testSecret, "GREENROOM_AUTH_ISSUER": "greenroom-test", "GREENROOM_AUTH_AUDIENCE": "greenroom",
		}
		code, out, errOut := runCmd(t, vars, "token", "--sub", "service:deploy-bot", "--ttl", "5m", "--email", "bot@example.com")
		if code != 0 {
			t.Fatalf("exit %d; want 0\n%s", code, errOut)
		}
		c := mustVerify(t, auth.Config{Secret: testSecret, Issuer: "greenroom-test", Audience: []string{"greenroom"}}, strings.TrimSpace(out))
		if c.Subject != "service:deploy-bot" || c.Email != "bot@example.com" || c.Issuer != "greenroom-test" ||
			!cmp.Equal(c.Audience, []string{"greenroom"}) {
			t.Errorf("claims %+v", c)
		}
		if d := time.Until(c.ExpiresAt); d > 5*time.Minute || d < 4*time.Minute {
			t.Errorf("token expires in %s; want 5m", d)
		}
		// Flags override the environment.
		code, out, _ = runCmd(t, vars, "token", "--sub", "jane", "--issuer", "other", "--audience", "a", "--audience", "b")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		c = mustVerify(t, auth.Config{Secret: testSecret, Issuer: "other", Audience: []string{"b"}}, strings.TrimSpace(out))
		if c.Issuer != "other" || !cmp.Equal(c.Audience, []string{"a", "b"}) {
			t.Errorf("claims %+v; want issuer other, audience a and b", c)
		}
	})

	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want string // in stderr
	}{
		{"ErrNoSub", nil, []string{"--secret", testSecret}, "--sub is required"},
		{"ErrShortSecret", nil, []string{"--sub", "user:default/jane", "--secret", "too-short"}, "at least 32 bytes"},
		{"ErrShortSecretFromEnvironment", map[string]string{"GREENROOM_AUTH_SECRET": "short"}, []string{"--sub", "jane"}, "at least 32 bytes"},
		{"ErrNoSecret", nil, []string{"--sub", "user:default/jane"}, "no secret"},
		{"ErrUnknownFlag", nil, []string{"--sub", "jane", "--secret", testSecret, "--subject", "x"}, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tc.vars, append([]string{"token"}, tc.args...)...)
			if code != 2 {
				t.Errorf("exit %d; want 2", code)
			}
			if out != "" {
				t.Errorf("stdout %q; want no token", out)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q; want it to say %q", errOut, tc.want)
			}
		})
	}
}

func TestRun_PolicyCheck(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		example := filepath.Join("..", "..", "examples", "policy.yaml")
		code, out, errOut := runCmd(t, nil, "policy", "check", example)
		if code != 0 {
			t.Fatalf("exit %d; want 0\n%s%s", code, out, errOut)
		}
		if want := example + ": 4 rules, no problems\n"; out != want {
			t.Errorf("output %q; want %q", out, want)
		}
	})

	t.Run("ErrProblems", func(t *testing.T) {
		dir := t.TempDir()
		good := mustWrite(t, dir, "good.yaml", "rules:\n  - name: all\n    allow: [\"*\"]\n    to: anyone\n")
		bad := mustWrite(t, dir, "bad.yaml", `rules:
  - name: readers
    allow: [catalog.entity.reed]
    to: [anyone]
  - name: readers
    allow: [catalog.entity.read]
    deny: [catalog.entity.delete]
    to: [anyone]
  - name: locs
    allow: [catalog.location.create]
    to: [users]
    when: {isOwner: true}
  - name: typo
    allow: [catalog.entity.read]
    too: [anyone]
  - name: who
    allow: [catalog.entity.read]
    to: [robots]
`)
		code, out, errOut := runCmd(t, nil, "policy", "check", good, bad)
		if code != 1 {
			t.Fatalf("exit %d; want 1\n%s%s", code, out, errOut)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) == 0 || lines[0] != good+": 1 rules, no problems" {
			t.Errorf("first line %q; want the good file's summary", lines[0])
		}
		problem := regexp.MustCompile(`^` + regexp.QuoteMeta(bad) + `:(\d+): (.+)$`)
		var got []string
		for _, l := range lines[1:] {
			m := problem.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("line %q is not %s:LINE: MESSAGE", l, bad)
				continue
			}
			got = append(got, m[1]+" "+m[2])
		}
		// Every problem is reported, in line order, each on its line.
		for i, want := range []string{
			`3 rule readers: unknown permission "catalog.entity.reed"`,
			`5 rule readers: the name is taken by the rule on line 2`,
			`7 rule readers has both allow and deny`,
			`12 rule locs: when tests an entity`,
			`13 rule typo needs to`,
			`15 rule typo: unknown key "too"`,
			`18 rule who: unknown subject "robots"`,
		} {
			if i >= len(got) {
				t.Errorf("missing problem %q", want)
				continue
			}
			if !strings.HasPrefix(got[i], want) {
				t.Errorf("problem %d is %q; want it to start %q", i, got[i], want)
			}
		}
		if len(got) != 7 {
			t.Errorf("%d problems; want 7:\n%s", len(got), out)
		}
	})

	t.Run("ErrUsage", func(t *testing.T) {
		for _, args := range [][]string{{"policy"}, {"policy", "check"}, {"policy", "lint", "x.yaml"}} {
			if code, _, errOut := runCmd(t, nil, args...); code != 2 || !strings.Contains(errOut, "usage: greenroom policy check FILE") {
				t.Errorf("%v: exit %d, stderr %q; want 2 and the usage", args, code, errOut)
			}
		}
		missing := filepath.Join(t.TempDir(), "missing.yaml")
		if code, _, errOut := runCmd(t, nil, "policy", "check", missing); code != 2 || !strings.Contains(errOut, missing) {
			t.Errorf("missing file: exit %d, stderr %q; want 2 naming the file", code, errOut)
		}
	})
}

func TestRun_ServeProduction(t *testing.T) {
	policyFile := filepath.Join("..", "..", "examples", "policy.yaml")
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		args    []string
		want    []string // in stderr
		notWant []string
	}{
		{
			name: "ErrNoAuthNoPolicy",
			args: []string{"--production"},
			want: []string{"production: refusing to start without", "authentication (auth.secret, auth.jwksURL or auth.jwksFile)", "a policy file (policy)"},
		},
		{
			name:    "ErrNoAuth",
			args:    []string{"--production", "--policy", policyFile},
			want:    []string{"production: refusing to start without authentication (auth.secret, auth.jwksURL or auth.jwksFile)"},
			notWant: []string{"policy file"},
		},
		{
			name:    "ErrNoPolicy",
			vars:    map[string]string{"GREENROOM_AUTH_SECRET": testSecret},
			args:    []string{"--production"},
			want:    []string{"production: refusing to start without a policy file (policy)"},
			notWant: []string{"authentication ("},
		},
		{
			name: "ErrNoAuthFromEnvironment",
			vars: map[string]string{"GREENROOM_PRODUCTION": "true", "GREENROOM_POLICY": policyFile},
			want: []string{"refusing to start without authentication"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--listen", "127.0.0.1:0", "--database", filepath.Join(t.TempDir(), "greenroom.db"),
				"--log-format", "text"}, tc.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// GOGC and GOMEMLIMIT keep serve from changing this process's GC settings.
			vars := map[string]string{"GOGC": "100", "GOMEMLIMIT": "off"}
			for k, v := range tc.vars {
				vars[k] = v
			}
			var out, errOut bytes.Buffer
			// A server that starts anyway would serve until ctx ends.
			code := run(ctx, args, env(vars), &out, &errOut)
			if ctx.Err() != nil {
				t.Fatal("serve started; want it to refuse")
			}
			if code != 2 {
				t.Errorf("exit %d; want 2", code)
			}
			// The error is the last line, after the log.
			msg := lastLine(errOut.String())
			if !strings.HasPrefix(msg, "greenroom: ") {
				t.Errorf("last line of stderr %q; want the error", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("error %q names %q, which is configured", msg, w)
				}
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestMain_ServeSecure starts the whole server as --production would, with
// a shared secret, the example policy and the example catalog, and checks
// that requests run as the token's user and the policy applies.
func TestMain_ServeSecure(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Database = filepath.Join(t.TempDir(), "greenroom.db")
	cfg.Locations = []string{filepath.Join("..", "..", "examples", "catalog", "all.yaml")}
	cfg.Production = true
	cfg.Auth.Secret = testSecret
	cfg.Policy = filepath.Join("..", "..", "examples", "policy.yaml")
	m := &Main{Config: cfg}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	base := "http://" + m.Addr()
	waitReady(t, base)

	query := func(token, q string) (int, map[string]any) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": q})
		req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, out
	}
	mint := func(sub string) string {
		t.Helper()
		code, out, errOut := runCmd(t, map[string]string{"GREENROOM_AUTH_SECRET": testSecret}, "token", "--sub", sub)
		if code != 0 {
			t.Fatalf("token: exit %d\n%s", code, errOut)
		}
		return strings.TrimSpace(out)
	}
	errorCode := func(out map[string]any) string {
		errs, _ := out["errors"].([]any)
		if len(errs) == 0 {
			return ""
		}
		ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
		code, _ := ext["code"].(string)
		return code
	}

	// jane.doe is a member of platform-admins, whom the example policy
	// lets do everything.
	jane := mint("user:default/jane.doe")
	status, out := query(jane, `{ viewer { kind ref } auditEvents(first: 1) { edges { node { id } } } }`)
	if status != http.StatusOK || errorCode(out) != "" {
		t.Fatalf("jane: status %d, body %v", status, out)
	}
	if v := out["data"].(map[string]any)["viewer"].(map[string]any); v["kind"] != "USER" || v["ref"] != "user:default/jane.doe" {
		t.Errorf("viewer %v; want jane.doe", v)
	}
	// Anonymous callers read the catalog, and may not read the audit log.
	status, out = query("", `{ viewer { kind } entities(first: 1) { totalCount } }`)
	if status != http.StatusOK || errorCode(out) != "" {
		t.Fatalf("anonymous: status %d, body %v", status, out)
	}
	if v := out["data"].(map[string]any)["viewer"].(map[string]any); v["kind"] != "ANONYMOUS" {
		t.Errorf("viewer %v; want ANONYMOUS, not the development guest", v)
	}
	if status, out = query("", `{ auditEvents { edges { node { id } } } }`); errorCode(out) != "FORBIDDEN" {
		t.Errorf("anonymous auditEvents: status %d, body %v; want FORBIDDEN", status, out)
	}
	// A token with another secret, and one for a user not in the catalog, are refused.
	other, err := auth.MintDevToken(strings.Repeat("o", 40), auth.MintOptions{Subject: "user:default/jane.doe"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{other, mint("user:default/nobody")} {
		if status, out := query(tok, `{ viewer { kind } }`); status != http.StatusUnauthorized || errorCode(out) != "UNAUTHENTICATED" {
			t.Errorf("status %d, body %v; want 401 UNAUTHENTICATED", status, out)
		}
	}
}

// TestMain_ServeDevelopment checks that without auth every request is the
// development guest, and that the development policy lets it do anything.
func TestMain_ServeDevelopment(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Database = filepath.Join(t.TempDir(), "greenroom.db")
	m := &Main{Config: cfg}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	base := "http://" + m.Addr()
	waitReady(t, base)
	body := strings.NewReader(`{"query":"{ viewer { kind ref } explain(permission: \"catalog.location.delete\") { allowed rule line } }"}`)
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	// The header is ignored in development mode.
	req.Header.Set("Authorization", "Bearer garbage")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Data struct {
			Viewer  struct{ Kind, Ref string }
			Explain struct {
				Allowed bool
				Rule    string
				Line    *int
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Data.Viewer.Kind != "USER" || got.Data.Viewer.Ref != "user:development/guest" {
		t.Errorf("viewer %+v; want the development guest", got.Data.Viewer)
	}
	if !got.Data.Explain.Allowed || got.Data.Explain.Rule != "development-allows-everything" {
		t.Errorf("explain %+v; want allowed by the development policy", got.Data.Explain)
	}
	// The development policy is no file: no line of one is named.
	if got.Data.Explain.Line != nil {
		t.Errorf("explain line %d; want null", *got.Data.Explain.Line)
	}
}

// waitReady waits for the server at base to report ready.
// The bound is generous: under -race, beside other test packages, two
// replicas migrating and refreshing 50 locations once took over 10 s.
func waitReady(t *testing.T, base string) {
	t.Helper()
	if !readyWithin(base, 60*time.Second) {
		t.Fatal("server not ready after 60s")
	}
}

// readyWithin polls GET /readyz until it answers 200, for at most d.
func readyWithin(base string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
