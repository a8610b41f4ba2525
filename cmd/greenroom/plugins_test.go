package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadSDL_Positions checks that an error at a line of the joined
// schema files is printed at its own file's line, files with and without a
// final newline alike.
func TestReadSDL_Positions(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"a.graphqls":  "type A {\n  x: Int\n}\n",
		"b.graphqls":  "type B {\n  y: Int\n}", // no final newline
		"c.graphql":   "type C {\n  z: Foo\n}\n",
		"notes.txt":   "not a schema",
		"d.graphqls~": "nor this",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := readSDL([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(src.text, "type "); got != 3 {
		t.Fatalf("joined %d types from %q; want the three schema files'", got, src.text)
	}
	lines := strings.Split(src.text, "\n")
	if lines[7] != "  z: Foo" {
		t.Fatalf("line 8 of the joined schema is %q; want c.graphql's second", lines[7])
	}
	var out bytes.Buffer
	printCompositionErrors(&out, []compositionError{
		{Subgraph: "candidate", Message: `unknown type "Foo"`, Line: 8, Column: 6},
		{Subgraph: "candidate", Message: "first", Line: 1, Column: 0},
		{Subgraph: "catalog", Message: "the core's", Line: 3},
		{Message: "no place"},
	}, "candidate", src)
	want := filepath.Join(dir, "c.graphql") + `:2:6: unknown type "Foo"` + "\n" +
		filepath.Join(dir, "a.graphqls") + ":1:1: first\n[catalog] the core's\nno place\n"
	if out.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", out.String(), want)
	}
	if _, err := readSDL([]string{filepath.Join(dir, "notes.txt"), filepath.Join(dir, "missing.graphqls")}); err == nil {
		t.Error("a missing file read without error")
	}
	if _, err := readSDL([]string{t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no .graphql") {
		t.Errorf("an empty folder: %v; want an error saying it has no schema file", err)
	}
}
