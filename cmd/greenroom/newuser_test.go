package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs greenroom with args and returns its exit code and output.
func runCLI(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, env(vars), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestRun_ServeRefusesArguments checks that an unquoted glob, which the
// shell expands into several arguments of which --location takes one, is
// refused with a message naming the rest rather than loading one file.
func TestRun_ServeRefusesArguments(t *testing.T) {
	dir := t.TempDir()
	a := mustWrite(t, dir, "a.yaml", "")
	b := mustWrite(t, dir, "b.yaml", "")
	for _, cmd := range []string{"serve", "ingest"} {
		code, _, stderr := runCLI(t, nil, cmd, "--database", filepath.Join(dir, "g.db"), "--location", a, b)
		if code != 2 || !strings.Contains(stderr, `"`+b+`"`) || !strings.Contains(stderr, "quote a glob") {
			t.Errorf("%s: exit %d, stderr %q; want 2 and a message naming %s", cmd, code, stderr, b)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "g.db")); err == nil {
		t.Error("a refused command created the database")
	}
}

// TestRun_MigrateFlagsAfterVerb checks that flags work on either side of
// migrate's action.
func TestRun_MigrateFlagsAfterVerb(t *testing.T) {
	db := filepath.Join(t.TempDir(), "g.db")
	if code, _, stderr := runCLI(t, nil, "migrate", "status", "--database", db); code != 2 || !strings.Contains(stderr, "no database at") {
		t.Errorf("status of a missing database: exit %d, stderr %q; want 2", code, stderr)
	}
	for _, args := range [][]string{
		{"migrate", "up", "--database", db},
		{"migrate", "status", "--database", db},
		{"migrate", "--database", db, "status"},
	} {
		code, out, stderr := runCLI(t, nil, args...)
		if code != 0 || !strings.Contains(out, "00001_catalog.sql") || !strings.Contains(out, "applied") {
			t.Errorf("%v: exit %d, output %q %q; want every migration applied", args, code, out, stderr)
		}
	}
	if code, _, stderr := runCLI(t, nil, "migrate", "status", "up", "--database", db); code != 2 || !strings.Contains(stderr, "one of up, down or status") {
		t.Errorf("two actions: exit %d, stderr %q", code, stderr)
	}
}

// TestRun_ErrorsOnlyReads checks that greenroom errors refuses an unknown
// location id and a SQLite database that does not exist, and creates none.
func TestRun_ErrorsOnlyReads(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	code, out, stderr := runCLI(t, nil, "errors", "--database", missing)
	if code != 2 || !strings.Contains(stderr, "no database at "+missing) || out != "" {
		t.Errorf("missing database: exit %d, output %q, stderr %q; want 2 and a message naming it", code, out, stderr)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("greenroom errors created the database")
	}
	db := filepath.Join(dir, "g.db")
	loc := mustWrite(t, dir, "catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n")
	if code, out, stderr := runCLI(t, nil, "ingest", "--database", db, "--location", loc); code != 0 {
		t.Fatalf("ingest: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = runCLI(t, nil, "errors", "nonsense", "--database", db)
	if code != 2 || !strings.Contains(stderr, `no location with id "nonsense"`) || out != "" {
		t.Errorf("unknown id: exit %d, output %q, stderr %q; want 2 and a message naming it", code, out, stderr)
	}
	code, out, _ = runCLI(t, nil, "errors", "--database", db)
	if code != 0 || out != "0 errors, 0 warnings\n" {
		t.Errorf("exit %d, output %q", code, out)
	}
}

// TestRun_TokenHelp checks that token -h lists its own flags and not the
// server's.
func TestRun_TokenHelp(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "token", "-h")
	if code != 0 {
		t.Errorf("exit %d; want 0", code)
	}
	for _, want := range []string{"-sub", "-secret", "-config"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("help lacks %s:\n%s", want, stderr)
		}
	}
	for _, unwanted := range []string{"-listen", "-location", "-production", "-database"} {
		if strings.Contains(stderr, unwanted) {
			t.Errorf("help lists the server's %s:\n%s", unwanted, stderr)
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 valid entities", 1: "1 valid entity", 2: "2 valid entities"} {
		if got := count(n, "valid entity"); got != want {
			t.Errorf("count(%d) = %q; want %q", n, got, want)
		}
	}
	if got := count(1, "file"); got != "1 file" {
		t.Errorf("count(1, file) = %q", got)
	}
}

// TestRun_ValidateWarnsDangling checks that offline validation warns of a
// reference to an entity none of the files defines in the words the
// server uses once the same file is ingested.
func TestRun_ValidateWarnsDangling(t *testing.T) {
	dir := t.TempDir()
	file := mustWrite(t, dir, "catalog-info.yaml", `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc}
spec: {type: service, lifecycle: production, owner: team-missing, dependsOn: [component:lib]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: lib}
spec: {type: library, lifecycle: production, owner: team-missing}
`)
	code, validated, stderr := runCLI(t, nil, "validate", file)
	if code != 0 || !strings.Contains(validated, "2 valid entities, 0 errors, 2 warnings") {
		t.Fatalf("validate: exit %d, output %q %q; want two warnings", code, validated, stderr)
	}
	db := filepath.Join(dir, "g.db")
	if code, out, stderr := runCLI(t, nil, "ingest", "--database", db, "--location", file); code != 0 {
		t.Fatalf("ingest: exit %d\n%s%s", code, out, stderr)
	}
	_, served, _ := runCLI(t, nil, "errors", "--database", db)
	lines := func(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }
	want := file + ": warning [REFERENCE] component:default/lib: component:default/lib has relation ownedBy to group:default/team-missing, which is not in the catalog"
	if got := lines(validated)[0]; got != want {
		t.Errorf("validate says\n%s\nwant\n%s", got, want)
	}
	if v, s := lines(validated), lines(served); len(v) != 3 || len(s) != 3 || v[0] != s[0] || v[1] != s[1] {
		t.Errorf("validate and the server differ:\n%s\n%s", validated, served)
	}
}

// TestRun_IngestRefusesURLCredentials checks that greenroom ingest, like
// the configuration and the API, refuses a location URL that carries
// credentials, without repeating them and without storing anything.
func TestRun_IngestRefusesURLCredentials(t *testing.T) {
	db := filepath.Join(t.TempDir(), "g.db")
	for _, loc := range []string{"https://ci:hunter22@git.example.com/catalog-info.yaml", "url:https://git.example.com/c.yaml?token=hunter22"} {
		code, out, stderr := runCLI(t, nil, "ingest", "--database", db, "--location", loc)
		if code != 2 || strings.Contains(out+stderr, "hunter22") || !strings.Contains(stderr, "credential") {
			t.Errorf("%s: exit %d, output %q %q; want 2 and a refusal that does not repeat the secret", loc, code, out, stderr)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("the refused ingest created the database")
	}
}
