package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun_TemplateValidate checks template folders offline: the examples
// are valid; a broken template has each problem reported with its file
// and line.
func TestRun_TemplateValidate(t *testing.T) {
	for _, name := range []string{"docs-site", "go-service"} {
		dir := filepath.Join("..", "..", "examples", "templates", name)
		if code, out, errOut := runCmd(t, nil, "template", "validate", dir); code != 0 || !strings.Contains(out, "template template:default/"+name+" is valid") {
			t.Errorf("%s: exit %d\n%s%s", name, code, out, errOut)
		}
	}

	dir := t.TempDir()
	mustWrite(t, dir, "template.yaml", `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: broken
spec:
  type: service
  parameters:
    properties:
      name: {type: nope}
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
    - id: missing
      action: fetch:plain
      input: {url: ./nowhere}
    - id: typo
      action: debug:lgo
    - id: expr
      action: debug:log
      input:
        message: ${{ parameters.name | }}
    - id: input
      action: debug:wait
      input: {minutes: soon}
`)
	mustWrite(t, dir, "skeleton/ok.txt", "${{ values.name }}\n")
	mustWrite(t, dir, "skeleton/bad.txt", "line one\n${{ values.name\n")
	code, out, errOut := runCmd(t, nil, "template", "validate", dir)
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"template.yaml:8: spec.parameters[0] is not a JSON Schema",
		"template.yaml:17: step missing: cannot fetch nowhere",
		"template.yaml:19: step typo: action debug:lgo is not registered",
		"template.yaml:23: spec.steps[3].input.message does not parse",
		"template.yaml:26: step input: Invalid input passed to action debug:wait: minutes got string, want number",
		filepath.Join(dir, "skeleton", "bad.txt") + ":2: does not parse",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ok.txt") {
		t.Errorf("a skeleton file that parses is reported:\n%s", out)
	}
}

// TestRun_TemplateDryRun runs the docs-site example offline and checks
// the files it writes; values the form refuses exit 1 with each field.
func TestRun_TemplateDryRun(t *testing.T) {
	docs := filepath.Join("..", "..", "examples", "templates", "docs-site")
	out := t.TempDir()
	code, stdout, stderr := runCmd(t, nil, "template", "dry-run", docs, "--values", filepath.Join(docs, "values.example.yaml"), "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for name, want := range map[string]string{
		"mkdocs.yml":              "  - How-to guides: how-to-guides.md\n",
		"docs/reference.md":       "# Reference\n\nPart of payments-handbook.",
		"catalog-info.yaml":       "owner: group:default/team-payments",
		"docs/getting-started.md": "# Getting started",
	} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || !strings.Contains(string(data), want) {
			t.Errorf("%s: %v\n%s", name, err, data)
		}
	}
	for _, want := range []string{"Dry run: would create the repository larkspur/payments-handbook on github.com", `"url": "https://github.com/larkspur/payments-handbook.git"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}

	bad := mustWrite(t, t.TempDir(), "values.yaml", "name: Not A Name\n")
	code, stdout, _ = runCmd(t, nil, "template", "dry-run", docs, "--values", bad)
	if code != 1 || !strings.Contains(stdout, "page 1: name 'Not A Name' does not match pattern") || !strings.Contains(stdout, "page 1: owner is required") || !strings.Contains(stdout, "page 2: repoUrl is required") {
		t.Errorf("bad values: exit %d\n%s", code, stdout)
	}
}
