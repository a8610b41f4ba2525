package scaffolder_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/greenroomhq/greenroom/internal/scaffolder"
)

// writeTree writes files (path → content; a content of "->target" makes a
// symlink) under a new directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// spec parses a template's spec written in YAML, as the catalog stores it
// (JSON).
func spec(t *testing.T, src string) *scaffolder.Spec {
	t.Helper()
	var v map[string]any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(v)
	var m map[string]any
	json.Unmarshal(data, &m)
	s, err := scaffolder.ParseSpec(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// outcome is a run's result with its log and files.
type outcome struct {
	*scaffolder.Result
	log   []scaffolder.Event
	files map[string]string
}

func (o outcome) logText() string {
	var b strings.Builder
	for _, e := range o.log {
		b.WriteString(e.Message + "\n")
	}
	return b.String()
}

func (o outcome) statuses() map[string]string {
	m := map[string]string{}
	for _, s := range o.Steps {
		m[s.ID] = s.Status
	}
	return m
}

// run runs a spec against a template directory, with extra actions.
func run(t *testing.T, ctx context.Context, r scaffolder.Run, extra ...scaffolder.Action) outcome {
	t.Helper()
	reg, err := scaffolder.NewRegistry(append(scaffolder.Builtins(), extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := scaffolder.NewWorkspace(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Remove()
	var o outcome
	r.Registry, r.Workspace = reg, ws
	r.Emit = func(e scaffolder.Event) { o.log = append(o.log, e) }
	o.Result = r.Execute(ctx)
	files, err := ws.Files(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	o.files = map[string]string{}
	for _, f := range files {
		if f.Symlink != "" {
			o.files[f.Path] = "->" + f.Symlink
		} else {
			o.files[f.Path] = string(f.Data)
		}
	}
	return o
}

func templateFS(t *testing.T, dir string) *os.Root {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

func TestRun_Skeleton(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"skeleton/README.md":                          "# ${{ values.name }}\nOwned by ${{ values.owner }}.\n",
		"skeleton/${{ values.name }}/main.go":         "package ${{ values.name | replace('-', '') }}\n",
		"skeleton/${{ 'ci.yaml' if values.ci }}":      "ci: ${{ values.name }}\n",
		"skeleton/${{ 'nope.yaml' if values.nope }}":  "never written\n",
		"skeleton/.github/workflows/build.yaml":       "run: ${{ github.sha }}\n",
		"skeleton/raw/${{ values.name }}.txt":         "kept ${{ as is }}\n",
		"skeleton/logo.bin":                           "\x00\x01${{ values.name }}",
		"skeleton/link":                               "->README.md",
		"njk/a.txt.njk":                               "${{ values.name }}\n",
		"njk/b.txt":                                   "${{ values.name }}\n",
		"skeleton-file.txt":                           "Hello ${{ values.name }}\n",
		"cookie/{{ cookiecutter.name }}.md":           "{{ cookiecutter.name | jsonify }} {{ True }}\n",
		"plain/x/${{ values.name }}.txt":              "${{ not rendered }}\n",
		"skeleton/${{ values.name }}/internal/doc.go": "// Package ${{ values.name }}.\n",
	})
	s := spec(t, `
steps:
  - id: fetch
    action: fetch:template
    input:
      url: ./skeleton
      targetPath: ./out
      copyWithoutTemplating: ['.github/**', 'raw']
      values:
        name: ${{ parameters.name }}
        owner: ${{ parameters.owner }}
        ci: ${{ parameters.ci }}
  - id: njk
    action: fetch:template
    input: {url: ./njk, targetPath: njk, templateFileExtension: true, values: {name: '${{ parameters.name }}'}}
  - id: file
    action: fetch:template:file
    input: {url: ./skeleton-file.txt, targetPath: hello.txt, values: {name: '${{ parameters.name }}'}}
  - id: cookie
    action: fetch:template
    input: {url: cookie, targetPath: cookie, cookiecutterCompat: true, values: {name: '${{ parameters.name }}'}}
  - id: plain
    action: fetch:plain
    input: {url: ./plain, targetPath: plain}
  - id: rename
    action: fs:rename
    input:
      files: [{from: hello.txt, to: moved/hello.txt}]
  - id: delete
    action: fs:delete
    input: {files: ['out/.github/**/*.yaml']}
  - id: ls
    action: fs:readdir
    input: {paths: [out]}
output:
  folders: ${{ steps.ls.output.folders | length }}
`)
	o := run(t, context.Background(), scaffolder.Run{
		Spec:     s,
		Values:   map[string]any{"name": "pay-svc", "owner": "team-a", "ci": true},
		Template: scaffolder.TemplateBase{Dir: templateFS(t, dir).FS()},
	})
	if o.Err != nil {
		t.Fatalf("run failed: %v\n%s", o.Err, o.logText())
	}
	want := map[string]string{
		"out/README.md":                  "# pay-svc\nOwned by team-a.\n",
		"out/pay-svc/main.go":            "package paysvc\n",
		"out/pay-svc/internal/doc.go":    "// Package pay-svc.\n",
		"out/ci.yaml":                    "ci: pay-svc\n",
		"out/raw/pay-svc.txt":            "kept ${{ as is }}\n",
		"out/logo.bin":                   "\x00\x01${{ values.name }}",
		"out/link":                       "->README.md",
		"njk/a.txt":                      "pay-svc\n",
		"njk/b.txt":                      "${{ values.name }}\n",
		"moved/hello.txt":                "Hello pay-svc\n",
		"cookie/pay-svc.md":              "\"pay-svc\" true\n",
		"plain/x/${{ values.name }}.txt": "${{ not rendered }}\n",
	}
	if diff := cmp.Diff(want, o.files); diff != "" {
		t.Errorf("workspace (-want +got):\n%s", diff)
	}
	// out/.github (emptied, kept), out/pay-svc, out/raw.
	if o.Output["folders"] != float64(3) {
		t.Errorf("output folders = %v, want 3", o.Output["folders"])
	}
	if !strings.Contains(o.logText(), "Copying file raw/${{ values.name }}.txt without processing.") {
		t.Errorf("log does not say what was copied as is:\n%s", o.logText())
	}
}

// TestRenderRules runs Backstage's rules for rendering a step's input, if
// and the output (backstage-spec.md §3.2, §8.1) through debug:log's
// logged input (a test action echoes its input as its output).
func TestRun_RenderRules(t *testing.T) {
	s := spec(t, `
steps:
  - id: echo
    action: test:echo
    input:
      typed: ${{ parameters.tags }}
      number: ${{ parameters.count }}
      text: n=${{ parameters.count }}
      tags: '{% if true %}["a", "b"]{% endif %}'
      notjson: '{% if true %}not json{% endif %}'
      empty: ${{ parameters.missing }}
      emptystr: ${{ "" }}
      list: [a, '${{ parameters.missing }}', c]
      broken: ${{ parameters.name | nosuchfilter }}
      nested: {drop: '${{ parameters.missing }}', keep: x}
  - id: broken-if
    if: ${{ parameters.name | nosuchfilter }}
    action: test:echo
    input: {ran: true}
  - id: false-if
    if: ${{ parameters.count > 5 }}
    action: test:echo
    input: {ran: true}
  - id: each
    each: ${{ parameters.tags }}
    if: ${{ each.value != 'skip' }}
    action: test:echo
    input: {item: '${{ each.key }}=${{ each.value }}'}
output:
  links:
    - {title: kept, url: 'https://x', if: '${{ parameters.missing }}'}
    - {title: dropped, url: 'https://y', if: '${{ false }}'}
    - {title: shown, url: 'https://z', if: '${{ true }}'}
  text:
    - {title: t, content: '${{ steps.echo.output.text }}'}
  missing: ${{ steps['false-if'].output.ran }}
  items: ${{ steps.each.output.item }}
`)
	o := run(t, context.Background(), scaffolder.Run{
		Spec:   s,
		Values: map[string]any{"tags": []any{"go", "skip", "web"}, "count": 3, "name": "n"},
	}, echo{})
	if o.Err != nil {
		t.Fatalf("run failed: %v\n%s", o.Err, o.logText())
	}
	got := o.Steps[0].Output
	want := map[string]any{
		"typed":    []any{"go", "skip", "web"},
		"number":   float64(3),
		"text":     "n=3",
		"tags":     []any{"a", "b"},
		"notjson":  "not json",
		"emptystr": "",
		"list":     []any{"a", nil, "c"},
		"broken":   "${{ parameters.name | nosuchfilter }}",
		"nested":   map[string]any{"keep": "x"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rendered input (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"echo": "completed", "broken-if": "completed", "false-if": "skipped", "each": "completed"}, o.statuses()); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	wantOut := map[string]any{
		"links": []any{
			map[string]any{"title": "kept", "url": "https://x"},
			map[string]any{"title": "shown", "url": "https://z"},
		},
		"text":  []any{map[string]any{"title": "t", "content": "n=3"}},
		"items": []any{"0=go", "2=web"},
	}
	if diff := cmp.Diff(wantOut, o.Output); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

// echo is a test action whose outputs are its input.
type echo struct{}

func (echo) Info() scaffolder.ActionInfo {
	return scaffolder.ActionInfo{ID: "test:echo", Input: map[string]any{"type": "object"}, DryRun: true}
}

func (echo) Run(_ context.Context, ac *scaffolder.ActionContext) error {
	for k, v := range ac.Input {
		ac.Output(k, v)
	}
	return nil
}

// publish is a test action that does not support dry runs.
type publish struct{ ran *bool }

func (publish) Info() scaffolder.ActionInfo {
	return scaffolder.ActionInfo{
		ID:    "test:publish",
		Input: map[string]any{"type": "object", "required": []any{"repo"}, "properties": map[string]any{"repo": map[string]any{"type": "string"}}},
		Output: map[string]any{"type": "object", "properties": map[string]any{
			"remoteUrl": map[string]any{"type": "string", "examples": []any{"https://git.example/r"}},
			"commit":    map[string]any{"type": "string"},
			"count":     map[string]any{"type": "integer"},
			"tags":      map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		}},
	}
}

func (p publish) Run(context.Context, *scaffolder.ActionContext) error {
	*p.ran = true
	return errors.New("publish failed")
}

func TestRun_FailureAndStatusChecks(t *testing.T) {
	ran := false
	s := spec(t, `
steps:
  - {id: bad, action: test:publish, input: {repo: r}}
  - {id: after, action: test:echo, input: {x: 1}}
  - {id: cleanup, if: '${{ always() }}', action: test:echo, input: {x: 2}}
  - {id: report, if: '${{ failure() }}', action: test:echo, input: {x: 3}}
output:
  never: shown
`)
	o := run(t, context.Background(), scaffolder.Run{Spec: s}, echo{}, publish{&ran})
	if o.Err == nil || !strings.Contains(o.Err.Error(), "publish failed") || o.Output != nil {
		t.Fatalf("err = %v, output = %v", o.Err, o.Output)
	}
	if diff := cmp.Diff(map[string]string{"bad": "failed", "after": "skipped", "cleanup": "completed", "report": "completed"}, o.statuses()); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if !strings.Contains(o.logText(), "Skipping step after because a previous step failed") {
		t.Errorf("log:\n%s", o.logText())
	}
}

func TestRun_DryRunFakesOutputs(t *testing.T) {
	ran := false
	s := spec(t, `
steps:
  - {id: publish, action: test:publish, input: {repo: r}}
  - {id: use, action: test:echo, input: {url: '${{ steps.publish.output.remoteUrl }}', n: '${{ steps.publish.output.count }}', tags: '${{ steps.publish.output.tags }}', c: '${{ steps.publish.output.commit }}'}}
`)
	o := run(t, context.Background(), scaffolder.Run{Spec: s, DryRun: true}, echo{}, publish{&ran})
	if o.Err != nil || ran {
		t.Fatalf("err = %v, ran = %v", o.Err, ran)
	}
	want := map[string]any{"url": "https://git.example/r", "n": float64(0), "tags": []any{"<example>"}, "c": "<example>"}
	if diff := cmp.Diff(want, o.Steps[1].Output); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRun_SecretsMasked(t *testing.T) {
	s := spec(t, `
steps:
  - id: log
    action: debug:log
    input:
      message: 'token ${{ secrets.token }} upper ${{ secrets.token | upper }} pin ${{ secrets.pin }}'
  - id: if-sees-no-secret
    if: ${{ secrets.token }}
    action: debug:log
    input: {message: ran}
output:
  leaked: ${{ secrets.token }}
`)
	o := run(t, context.Background(), scaffolder.Run{Spec: s, Secrets: map[string]any{"token": "s3cr3t-value", "pin": 4242}})
	if o.Err != nil {
		t.Fatal(o.Err)
	}
	text := o.logText()
	for _, leak := range []string{"s3cr3t", "S3CR3T", "4242"} {
		if strings.Contains(text, leak) {
			t.Errorf("log leaks %s:\n%s", leak, text)
		}
	}
	if !strings.Contains(text, "***") {
		t.Errorf("log masks nothing:\n%s", text)
	}
	if o.statuses()["if-sees-no-secret"] != "skipped" || len(o.Output) != 0 {
		t.Errorf("secrets visible outside step input: %v %v", o.statuses(), o.Output)
	}
}

func TestRun_Confined(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("outside"), 0o644)
	dir := writeTree(t, map[string]string{
		"ok/a.txt":              "a",
		"escape/link":           "->" + filepath.Join(outside, "secret.txt"),
		"escape2/link":          "->../../x",
		"names/${{ values.p }}": "x",
	})
	root := templateFS(t, dir)
	for _, tc := range []struct{ name, step, want string }{
		{"url climbs", `{action: fetch:plain, input: {url: ../x}}`, "leaves the template's directory"},
		{"absolute URL without git hosts", `{action: fetch:plain, input: {url: 'https://example.com/x'}}`, "no git host can be read here"},
		{"file URL", `{action: fetch:plain, input: {url: 'file:///etc'}}`, "only https URLs"},
		{"targetPath climbs", `{action: fetch:plain, input: {url: ok, targetPath: ../x}}`, "leaves the workspace"},
		{"absolute symlink", `{action: fetch:plain, input: {url: escape}}`, "points outside the template"},
		{"relative symlink", `{action: fetch:plain, input: {url: escape2}}`, "points outside the template"},
		{"rendered name climbs", `{action: fetch:template, input: {url: names, values: {p: ../../evil}}}`, "leaves the workspace"},
		{"rename climbs", `{action: fs:rename, input: {files: [{from: a, to: ../b}]}}`, "leaves the workspace"},
		{"delete climbs", `{action: fs:delete, input: {files: ['../*']}}`, "leaves the workspace"},
		{"write climbs", `{action: catalog:write, input: {filePath: ../../c.yaml, entity: {kind: X}}}`, "leaves the workspace"},
		{"missing input", `{action: fetch:plain, input: {}}`, "Invalid input passed to action fetch:plain: url is required"},
		{"unknown action", `{action: nope:nope}`, "action nope:nope is not registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := run(t, context.Background(), scaffolder.Run{Spec: spec(t, "steps: ["+tc.step+"]"), Template: scaffolder.TemplateBase{Dir: root.FS()}})
			if o.Err == nil || !strings.Contains(o.Err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", o.Err, tc.want)
			}
			if strings.Contains(o.Err.Error(), dir) {
				t.Errorf("error names the server's directory: %v", o.Err)
			}
		})
	}
	if data, _ := os.ReadFile(filepath.Join(outside, "secret.txt")); string(data) != "outside" {
		t.Errorf("outside file changed: %q", data)
	}
}

func TestRun_CancelAndTimeout(t *testing.T) {
	s := spec(t, `
steps:
  - {id: wait, action: debug:wait, input: {seconds: 30}}
  - {id: next, action: debug:log, input: {message: after}}
`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	o := run(t, ctx, scaffolder.Run{Spec: s})
	if time.Since(start) > 5*time.Second || o.Err == nil {
		t.Fatalf("cancel: took %s, err %v", time.Since(start), o.Err)
	}
	if diff := cmp.Diff(map[string]string{"wait": "cancelled", "next": "cancelled"}, o.statuses()); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}

	o = run(t, context.Background(), scaffolder.Run{Spec: s, StepTimeout: 100 * time.Millisecond})
	if o.Err == nil || !strings.Contains(o.Err.Error(), "took longer than 100ms") {
		t.Fatalf("timeout: err %v", o.Err)
	}
	if got := o.statuses(); got["wait"] != "failed" || got["next"] != "skipped" {
		t.Errorf("statuses after a timeout: %v", got)
	}
}

func TestRun_ResumesFromCheckpoints(t *testing.T) {
	s := spec(t, `
steps:
  - {id: one, action: test:echo, input: {v: fresh}}
  - {id: two, action: test:echo, input: {from: '${{ steps.one.output.v }}'}}
`)
	var checkpoints []string
	o := run(t, context.Background(), scaffolder.Run{
		Spec: s,
		Done: []scaffolder.StepResult{{ID: "one", Status: "completed", Output: map[string]any{"v": "checkpointed"}}},
		Checkpoint: func(sr scaffolder.StepResult) error {
			checkpoints = append(checkpoints, sr.ID+"="+sr.Status)
			return nil
		},
	}, echo{})
	if o.Err != nil {
		t.Fatal(o.Err)
	}
	if got := o.Steps[1].Output["from"]; got != "checkpointed" {
		t.Errorf("step two read %v", got)
	}
	if !slices.Equal(checkpoints, []string{"two=completed"}) {
		t.Errorf("checkpoints %v", checkpoints)
	}
}
