package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/settings"
)

func mustWrite(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfig_Precedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := mustWrite(t, dir, "greenroom.yaml", `
listen: 127.0.0.1:9000
database: from-file.db
locations: [catalog/all.yaml, "https://example.test/catalog-info.yaml"]
catalog:
  refreshInterval: 90s
  orphans: delete
`)
	t.Run("FileThenEnvThenFlags", func(t *testing.T) {
		f := newConfigFlags("serve", &bytes.Buffer{})
		if err := f.fs.Parse([]string{"--config", cfgFile, "--listen", "127.0.0.1:9002"}); err != nil {
			t.Fatal(err)
		}
		c, err := f.load(env(map[string]string{"GREENROOM_DATABASE": "postgres://db.test/greenroom", "GREENROOM_LISTEN": "127.0.0.1:9001"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Listen != "127.0.0.1:9002" || c.Database != "postgres://db.test/greenroom" || c.Catalog.Orphans != "delete" ||
			time.Duration(c.Catalog.RefreshInterval) != 90*time.Second {
			t.Errorf("got %+v", c)
		}
		locs, err := c.locations()
		if err != nil {
			t.Fatal(err)
		}
		want := []catalog.Location{
			{Type: "file", Target: filepath.Join(dir, "catalog", "all.yaml")}, // relative to the config file
			{Type: "url", Target: "https://example.test/catalog-info.yaml"},
		}
		if diff := cmp.Diff(want, locs); diff != "" {
			t.Errorf("locations mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("Defaults", func(t *testing.T) {
		f := newConfigFlags("serve", &bytes.Buffer{})
		c, err := f.load(env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.Listen != "127.0.0.1:7007" || c.Database != "./greenroom.db" || c.Catalog.Orphans != "keep" ||
			c.Catalog.MaxEntitySize != 1<<20 || c.Catalog.MaxLocationSize != 256<<20 {
			t.Errorf("got %+v", c)
		}
	})
	t.Run("SizeLimits", func(t *testing.T) {
		f := newConfigFlags("serve", &bytes.Buffer{})
		c, err := f.load(env(map[string]string{"GREENROOM_MAX_ENTITY_SIZE": "2097152", "GREENROOM_MAX_LOCATION_SIZE": "1073741824"}))
		if err != nil {
			t.Fatal(err)
		}
		opts, err := engineOptions(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		if opts.MaxEntitySize != 2<<20 || opts.MaxLocationSize != 1<<30 {
			t.Errorf("engine options %+v; want the limits set", opts)
		}
	})
	t.Run("ErrUnknownKey", func(t *testing.T) {
		bad := mustWrite(t, dir, "bad.yaml", "listen: x\ndatabse: y\n")
		f := newConfigFlags("serve", &bytes.Buffer{})
		f.fs.Parse([]string{"--config", bad})
		if _, err := f.load(env(nil)); err == nil || !strings.Contains(err.Error(), "databse") {
			t.Errorf("err %v; want one naming the unknown key", err)
		}
	})
	t.Run("APITimeouts", func(t *testing.T) {
		load := func(yaml string) (Config, error) {
			f := newConfigFlags("serve", &bytes.Buffer{})
			f.fs.Parse([]string{"--config", mustWrite(t, t.TempDir(), "greenroom.yaml", yaml)})
			return f.load(env(nil))
		}
		c, err := load("api:\n  readTimeout: 5s\n  writeTimeout: 2m\n  readHeaderTimeout: 3s\n  idleTimeout: 1m\n  maxConcurrentRequests: 8\n  queueTimeout: 250ms\n")
		if err != nil {
			t.Fatal(err)
		}
		lim := c.API.Limits()
		if lim.ReadTimeout != 5*time.Second || lim.WriteTimeout != 2*time.Minute || lim.MaxConcurrentRequests != 8 ||
			lim.QueueTimeout != 250*time.Millisecond || time.Duration(c.API.ReadHeaderTimeout) != 3*time.Second ||
			time.Duration(c.API.IdleTimeout) != time.Minute {
			t.Errorf("got %+v and %+v", lim, c.API)
		}
		// A response cut before the operation's own deadline would lose
		// its TIMEOUT error.
		if _, err := load("api:\n  timeout: 30s\n  writeTimeout: 20s\n"); err == nil || !strings.Contains(err.Error(), "writeTimeout") {
			t.Errorf("err %v; want one naming api.writeTimeout", err)
		}
		if _, err := load("api:\n  idleTimeout: 0s\n"); err == nil {
			t.Error("idleTimeout 0: no error")
		}
	})
	t.Run("ErrBadValues", func(t *testing.T) {
		for _, vars := range []map[string]string{
			{"GREENROOM_ORPHANS": "sometimes"},
			{"GREENROOM_REFRESH_INTERVAL": "soon"},
			{"GREENROOM_LOCATIONS": "url:ftp://x"},
			{"GREENROOM_MAX_ENTITY_SIZE": "1MiB"},
			{"GREENROOM_MAX_ENTITY_SIZE": "0"},
			{"GREENROOM_MAX_LOCATION_SIZE": "1000", "GREENROOM_MAX_ENTITY_SIZE": "2000"},
		} {
			f := newConfigFlags("serve", &bytes.Buffer{})
			if _, err := f.load(env(vars)); err == nil {
				t.Errorf("%v: no error", vars)
			}
		}
	})
}

func TestRun_Validate(t *testing.T) {
	dir := t.TempDir()
	good := mustWrite(t, dir, "good/catalog-info.yaml", `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: good
spec:
  type: service
  lifecycle: production
  owner: team-a
`)
	bad := mustWrite(t, dir, "bad/catalog-info.yaml", `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: fine
spec:
  type: service
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: broken
  tags:
    - Not A Tag
spec:
  type: service
  owner: team-a
`)
	t.Run("OK", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"validate", good}, env(nil), &out, &errOut); code != 0 {
			t.Fatalf("exit %d; want 0\n%s%s", code, out.String(), errOut.String())
		}
		if !strings.Contains(out.String(), "1 file, 1 valid entity, 0 errors") {
			t.Errorf("output %q", out.String())
		}
	})
	t.Run("ErrNamesFileAndLine", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"validate", dir}, env(nil), &out, &errOut)
		if code != 1 {
			t.Fatalf("exit %d; want 1\n%s%s", code, out.String(), errOut.String())
		}
		for _, want := range []string{
			bad + `:15 (document 2): error [INVALID] component:default/broken: "metadata.tags.0" is not valid`,
			bad + `:16 (document 2): error [INVALID] component:default/broken: "spec.lifecycle" is required`,
			"2 files, 2 valid entities, 2 errors",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
	})
	t.Run("ErrUsage", func(t *testing.T) {
		if code := run(context.Background(), []string{"validate"}, env(nil), &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
			t.Errorf("exit %d; want 2", code)
		}
		if code := run(context.Background(), []string{"validate", filepath.Join(dir, "missing.yaml")}, env(nil), &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
			t.Errorf("missing file: exit %d; want 2", code)
		}
	})
}

// TestMain_Serve starts the whole server on a free port with a temporary
// SQLite database and the example catalog, and queries it over HTTP.
func TestMain_Serve(t *testing.T) {
	base := "http://" + startMain(t, DefaultConfig())
	body := strings.NewReader(`{"query":"{ entities(first: 5) { edges { node { ref kind name } } pageInfo { hasNextPage } } }"}`)
	resp, err := http.Post(base+"/graphql", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Data struct {
			Entities struct {
				Edges []struct {
					Node struct{ Ref, Kind, Name string }
				}
				PageInfo struct{ HasNextPage bool }
			}
		}
		Errors []any
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Errors) > 0 || len(got.Data.Entities.Edges) != 5 || !got.Data.Entities.PageInfo.HasNextPage {
		t.Errorf("got %+v", got)
	}
}

// startMain runs cfg's server on a free port with a temporary SQLite
// database and the example catalog, waits until it is ready, and returns
// its address.
func startMain(t *testing.T, cfg Config) string {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	cfg.Database = filepath.Join(t.TempDir(), "greenroom.db")
	cfg.Locations = []string{filepath.Join("..", "..", "examples", "catalog", "all.yaml")}
	m := &Main{Config: cfg}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + m.Addr() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m.Addr()
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready after 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMain_SlowBody checks that greenroom serve, authentication and all,
// closes the connection of a client that sends its body a byte every two
// seconds once api.readTimeout has passed.
func TestMain_SlowBody(t *testing.T) {
	cfg := DefaultConfig()
	cfg.API.ReadTimeout = settings.Duration(time.Second)
	conn, err := net.Dial("tcp", startMain(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: greenroom\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	go func() {
		for range 5 {
			time.Sleep(2 * time.Second)
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response after %s: %v", time.Since(start), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
		t.Errorf("status %d, close %v; want 408 and the connection closed", resp.StatusCode, resp.Close)
	}
	if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read %d bytes, %v after the response; want EOF", n, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("connection held %s under api.readTimeout 1s", d)
	}
}

func TestRun_Version(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"version"}, env(nil), &out, &bytes.Buffer{}); code != 0 || !strings.HasPrefix(out.String(), "greenroom ") {
		t.Errorf("exit %d output %q", code, out.String())
	}
	if code := run(context.Background(), []string{"frobnicate"}, env(nil), &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
		t.Errorf("unknown command: exit %d; want 2", code)
	}
}

func TestRun_MigrateAndErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "g.db")
	var out bytes.Buffer
	if code := run(context.Background(), []string{"migrate", "--database", db, "up"}, env(nil), &out, &out); code != 0 {
		t.Fatalf("migrate up: exit %d\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "00001_catalog.sql") || !strings.Contains(out.String(), "applied") {
		t.Errorf("migrate output %q", out.String())
	}
	dir := t.TempDir()
	loc := mustWrite(t, dir, "catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: [oops\n")
	out.Reset()
	if code := run(context.Background(), []string{"ingest", "--database", db, "--location", loc}, env(nil), &out, &out); code != 0 {
		t.Fatalf("ingest: exit %d\n%s", code, out.String())
	}
	out.Reset()
	code := run(context.Background(), []string{"errors", "--database", db}, env(nil), &out, &out)
	if code != 1 || !strings.Contains(out.String(), loc+":4") || !strings.Contains(out.String(), "[SYNTAX]") {
		t.Errorf("errors: exit %d output %q; want 1 and a syntax error at line 4", code, out.String())
	}
}
