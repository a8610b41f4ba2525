package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// graphql posts a query to a running server and returns its data and the
// code of its first error.
func graphql(t *testing.T, base, query string, vars map[string]any) (json.RawMessage, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage
		Errors []struct {
			Message    string
			Extensions map[string]any
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) > 0 {
		code, _ := out.Errors[0].Extensions["code"].(string)
		return out.Data, code
	}
	return out.Data, ""
}

// TestMain_CatalogRules runs the server as the README's production section
// configures it, on each database: a glob many teams can edit may not emit
// User or Group, the organisation's own file and URLs may; the URLs are read
// with the credential configured for their host, which a redirect to
// another host does not carry, and only from the allowed hosts.
func TestMain_CatalogRules(t *testing.T) {
	eachDatabase(t, testCatalogRules)
}

func testCatalogRules(t *testing.T, dsn string) {
	var mu sync.Mutex
	var leaked []string // Authorization headers the other host received
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = append(leaked, r.Header.Get("Authorization"))
		mu.Unlock()
		io.WriteString(w, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: redirected\nspec:\n  type: service\n  lifecycle: production\n  owner: platform\n")
	}))
	defer other.Close()
	otherURL, _ := url.Parse(other.URL)
	otherLocal := "http://localhost:" + otherURL.Port()

	git := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/org/people.yaml":
			io.WriteString(w, `apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: remote.user
spec:
  memberOf: [platform]
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: redirects
spec:
  type: url
  targets: [/redirect/other, /redirect/forbidden]
`)
		case "/redirect/other":
			http.Redirect(w, r, otherLocal+"/x.yaml", http.StatusFound)
		case "/redirect/forbidden":
			http.Redirect(w, r, "http://forbidden.invalid/x.yaml", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer git.Close()
	gitURL, _ := url.Parse(git.URL)

	dir := t.TempDir()
	mustWrite(t, dir, "catalog/teams/a/catalog-info.yaml", `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: team-a-service
spec:
  type: service
  lifecycle: production
  owner: platform
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: sneaky-admins
spec:
  type: team
  parent: platform
  children: []
  members: [mallory]
`)
	mustWrite(t, dir, "catalog/org/org.yaml", `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: platform
spec:
  type: team
  children: []
  members: [ada]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: ada
spec:
  memberOf: []
`)
	cfgFile := mustWrite(t, dir, "greenroom.yaml", fmt.Sprintf(`
listen: 127.0.0.1:0
database: %q
locations:
  - ./catalog/teams/**/catalog-info.yaml
  - ./catalog/org/org.yaml
  - %s/org/people.yaml
catalog:
  rules:
    - allow: [Component, API, Resource, System, Domain, Template, Location]
    - allow: [User, Group]
      locations:
        - type: file
          target: ./catalog/org/org.yaml
        - type: url
          pattern: "%s/org/*.yaml"
  urlAuth:
    - host: %s
      value: "Bearer ${TEST_GIT_TOKEN}"
      allowHTTP: true
  allowedHosts: [127.0.0.1, localhost]
`, dsn, git.URL, git.URL, gitURL.Host))

	var stderr bytes.Buffer
	cfg, log, err := setup("serve", []string{"--config", cfgFile}, env(map[string]string{"TEST_GIT_TOKEN": "s3cret"}), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Log: log}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	base := "http://" + m.Addr()
	waitReady(t, base)

	data, code := graphql(t, base, `{ entities(first: 100) { edges { node { ref } } } locations { target errors { code entityRef message } } }`, nil)
	if code != "" {
		t.Fatalf("query failed with %s", code)
	}
	var got struct {
		Entities struct {
			Edges []struct{ Node struct{ Ref string } }
		}
		Locations []struct {
			Target string
			Errors []struct{ Code, EntityRef, Message string }
		}
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, e := range got.Entities.Edges {
		if !strings.HasPrefix(e.Node.Ref, "location:default/generated-") {
			refs = append(refs, e.Node.Ref)
		}
	}
	slices.Sort(refs)
	want := []string{"component:default/redirected", "component:default/team-a-service", "group:default/platform",
		"location:default/redirects", "user:default/ada", "user:default/remote.user"}
	if !slices.Equal(refs, want) {
		t.Errorf("entities %v; want %v", refs, want)
	}
	var errs []string
	for _, l := range got.Locations {
		for _, e := range l.Errors {
			errs = append(errs, e.Code+" "+e.EntityRef)
			if e.Code == "FORBIDDEN_KIND" && !strings.Contains(e.Message, "no rule of catalog.rules allows kind Group") {
				t.Errorf("message %q does not say why", e.Message)
			}
		}
	}
	slices.Sort(errs)
	if want := []string{"FORBIDDEN_KIND group:default/sneaky-admins", "FORBIDDEN_TARGET location:default/redirects"}; !slices.Equal(errs, want) {
		t.Errorf("location errors %v; want %v", errs, want)
	}
	mu.Lock()
	if len(leaked) != 1 || leaked[0] != "" {
		t.Errorf("the other host received Authorization %q; want one request without it", leaked)
	}
	mu.Unlock()

	// registerLocation refuses a host outside catalog.allowedHosts.
	if _, code := graphql(t, base, `mutation { registerLocation(target: "https://forbidden.invalid/catalog-info.yaml", dryRun: true) { dryRun } }`, nil); code != "INVALID" {
		t.Errorf("registering a forbidden host: code %q; want INVALID", code)
	}
}

// TestConfig_CatalogSettings checks that the catalog settings are
// validated at start, with messages that do not repeat a secret.
func TestConfig_CatalogSettings(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, yaml, env, want string
	}{
		{"LocationToken", "locations: [\"https://git.example.com/a.yaml?token=abc\"]", "", `parameter "token"`},
		{"LocationUser", "locations: [\"https://me:abc@git.example.com/a.yaml\"]", "", "user:password@"},
		{"EnvLocationSignature", "", "https://s3.example.com/a.yaml?X-Amz-Signature=abc", `parameter "X-Amz-Signature"`},
		{"RuleNoKinds", "catalog:\n  rules:\n    - allow: []", "", "allow lists no kind"},
		{"RuleBadType", "catalog:\n  rules:\n    - allow: [User]\n      locations: [{type: github, target: x}]", "", "type must be file or url"},
		{"RuleBothTargetAndPattern", "catalog:\n  rules:\n    - allow: [User]\n      locations: [{type: url, target: x, pattern: y}]", "", "one of target and pattern"},
		{"RuleUnknownKey", "catalog:\n  rules:\n    - allow: [User]\n      deny: [Group]", "", "field deny not found"},
		{"HostPattern", "catalog:\n  allowedHosts: [\"[a\"]", "", "malformed"},
		{"URLAuthNoValue", "catalog:\n  urlAuth: [{host: git.example.com}]", "", "give one of value and valueFile"},
		{"URLAuthMissingFile", "catalog:\n  urlAuth: [{host: git.example.com, valueFile: ./missing}]", "", "missing"},
		{"URLAuthBadHost", "catalog:\n  urlAuth: [{host: \"https://git.example.com\", value: x}]", "", "must be a host name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfgFile := mustWrite(t, dir, tt.name+".yaml", tt.yaml+"\n")
			vars := map[string]string{}
			if tt.env != "" {
				vars["GREENROOM_LOCATIONS"] = tt.env
			}
			_, _, err := setup("serve", []string{"--config", cfgFile}, env(vars), &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "abc") {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
	t.Run("ValueFile", func(t *testing.T) {
		secret := mustWrite(t, dir, "token", "Bearer from-file\n")
		cfgFile := mustWrite(t, dir, "ok.yaml", "catalog:\n  urlAuth: [{host: git.example.com, valueFile: ./token}]\n  fileRoots: [./catalog]\n"+
			"  rules: [{allow: [Group], locations: [{type: file, pattern: ./org/*.yaml}]}]\n")
		// Locations from a flag do not move the file's relative paths.
		cfg, _, err := setup("serve", []string{"--config", cfgFile, "--location", "/elsewhere/all.yaml"}, env(nil), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		opts, err := engineOptions(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(opts.URLAuth) != 1 || opts.URLAuth[0].Value != "Bearer from-file" || opts.URLAuth[0].Header != "Authorization" {
			t.Errorf("urlAuth %+v; want the file's value under Authorization (from %s)", opts.URLAuth, secret)
		}
		if want := filepath.Join(dir, "catalog"); len(opts.FileRoots) != 1 || opts.FileRoots[0] != want {
			t.Errorf("fileRoots %v; want [%s]", opts.FileRoots, want)
		}
		if want := filepath.Join(dir, "org", "*.yaml"); len(opts.Rules) != 1 || opts.Rules[0].Locations[0].Pattern != want {
			t.Errorf("rules %+v; want the pattern %s", opts.Rules, want)
		}
	})
}
