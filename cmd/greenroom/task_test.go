package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/gittest"
)

const taskTemplate = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: svc
spec:
  type: service
  owner: team-a
  parameters:
    - required: [name, repoUrl]
      properties:
        name: {type: string, pattern: '^[a-z-]+$'}
        repoUrl: {type: string}
        slow: {type: boolean}
  steps:
    - {id: fetch, action: fetch:template, input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}}
    - {id: log, action: debug:log, input: {message: 'token ${{ secrets.token }}'}}
    - {id: publish, action: publish:github, input: {repoUrl: '${{ parameters.repoUrl }}', description: '${{ parameters.name }}'}}
    - {id: wait, if: '${{ parameters.slow }}', action: debug:wait, input: {seconds: 60}}
    - {id: register, action: catalog:register, input: {repoContentsUrl: '${{ steps.publish.output.repoContentsUrl }}', catalogInfoPath: /catalog-info.yaml}}
  output:
    links:
      - {title: Repository, url: '${{ steps.publish.output.remoteUrl }}'}
      - {title: Open in catalog, entityRef: '${{ steps.register.output.entityRef }}'}
`

const gatedTemplate = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: gated
  labels: {golden: "true"}
spec:
  type: service
  parameters:
    properties:
      timeout: {type: string}
  steps:
    - id: gate
      action: greenroom:approval
      input: {approvers: [user:development/guest], reason: ship it, timeout: '${{ parameters.timeout }}'}
    - {id: after, action: debug:log, input: {message: 'approved by ${{ steps.gate.output.approvedBy }}'}}
`

const remoteTemplate = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: remote}
spec:
  type: docs
  steps:
    - {id: fetch, action: fetch:template, input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}}
    - {id: license, action: fetch:plain:file, input: {url: ../shared/LICENSE, targetPath: LICENSE}}
    - {id: read, action: fs:readdir, input: {paths: ['.']}}
  output:
    files: ${{ steps.read.output.files | length }}
    first: ${{ steps.read.output.files[0].name }}
`

const taskFields = `id status templateRef templateEtag createdBy values output error endedAt
  template { name } steps { id name action status output } events(first: 1000) { cursor step status level message }`

type taskView struct {
	ID, Status, TemplateRef, TemplateEtag, CreatedBy string
	Values, Output                                   map[string]any
	Error                                            *string
	EndedAt                                          *string
	Template                                         *struct{ Name string }
	Steps                                            []struct{ ID, Name, Action, Status string }
	Events                                           []struct{ Cursor, Level, Message string }
}

// TestMain_Templates runs a template through the real server on each
// database: form values checked before a task exists, a task that renders
// a skeleton, logs a masked secret and creates a repository on a local
// forge, pushed to a real git server; its events replayed and followed
// over SSE to the end; a cancel inside a long step; a dry run that pushes
// nothing; the actions listed.
func TestMain_Templates(t *testing.T) {
	eachDatabase(t, testTemplates)
}

func testTemplates(t *testing.T, dsn string) {
	forge := gittest.NewForge(t)
	dir := t.TempDir()
	tmpl := mustWrite(t, dir, "template.yaml", taskTemplate)
	mustWrite(t, dir, "skeleton/README.md", "# ${{ values.name }}\n")
	mustWrite(t, dir, "skeleton/catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: '${{ values.name }}'}\nspec: {type: service, lifecycle: experimental, owner: team-a}\n")
	// A template that lives on the forge, registered by its URL.
	remote := t.TempDir()
	mustWrite(t, remote, "templates/remote/template.yaml", remoteTemplate)
	mustWrite(t, remote, "templates/remote/skeleton/${{ values.name }}.md", "# ${{ values.name }}\n")
	mustWrite(t, remote, "templates/shared/LICENSE", "MIT\n")
	forge.Git.PushDir(t, remote, "org/templates.git", "main")
	cfg := DefaultConfig()
	cfg.Locations = []string{tmpl, mustWrite(t, dir, "gated.yaml", gatedTemplate), forge.Server.URL + "/org/templates/blob/main/templates/remote/template.yaml"}
	cfg.Integrations.GitHub = []Integration{{Host: forge.Host(), APIBaseURL: forge.Server.URL + "/api/v3", Token: forge.Token}}
	cfg.Scaffolder.WorkingDirectory = t.TempDir()
	_, base := serve(t, cfg, dsn)
	repoURL := forge.Host() + "?owner=larkspur&repo="

	run := func(values map[string]any) (taskView, string) {
		t.Helper()
		data, code := graphql(t, base, `mutation($v: JSON!, $s: JSON) { runTemplate(ref: "template:svc", values: $v, secrets: $s) { `+taskFields+` } }`,
			map[string]any{"v": values, "s": map[string]any{"token": "s3cret-token"}})
		var out struct{ RunTemplate taskView }
		json.Unmarshal(data, &out)
		return out.RunTemplate, code
	}
	task := func(id string) taskView {
		t.Helper()
		data, code := graphql(t, base, `query($id: ID!) { task(id: $id) { `+taskFields+` } }`, map[string]any{"id": id})
		if code != "" {
			t.Fatalf("task: %s", code)
		}
		var out struct{ Task taskView }
		json.Unmarshal(data, &out)
		return out.Task
	}

	t.Run("ErrValues", func(t *testing.T) {
		if _, code := run(map[string]any{"name": "Not Valid", "repoUrl": repoURL + "x"}); code != "INVALID" {
			t.Fatalf("code %q, want INVALID", code)
		}
		data, _ := graphql(t, base, `{ tasks { edges { node { id } } } }`, nil)
		if !strings.Contains(string(data), `"edges":[]`) {
			t.Errorf("a task was made for values the form refuses: %s", data)
		}
	})

	t.Run("Run", func(t *testing.T) {
		created, code := run(map[string]any{"name": "pay-svc", "repoUrl": repoURL + "pay-svc"})
		if code != "" || created.ID == "" {
			t.Fatalf("runTemplate: code %q, task %+v", code, created)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sse := openSSEQuery(ctx, t, base, `subscription($id: ID!) { taskEvents(id: $id) { cursor step status level message } }`, map[string]any{"id": created.ID})
		var messages []string
		for {
			var ev struct {
				Data *struct {
					TaskEvents struct{ Cursor, Status, Message string }
				}
			}
			if err := json.Unmarshal(sse.raw(ctx, t), &ev); err != nil || ev.Data == nil {
				t.Fatalf("event: %v %+v", err, ev)
			}
			messages = append(messages, ev.Data.TaskEvents.Message)
			if ev.Data.TaskEvents.Status == "completed" && ev.Data.TaskEvents.Message != "Finished step publish:github" && strings.HasPrefix(ev.Data.TaskEvents.Message, "Run completed") {
				break
			}
		}
		log := strings.Join(messages, "\n")
		for _, want := range []string{"Starting the task", "Beginning step fetch:template", "token ***", "Skipping step wait because its if condition was false", "Run completed with status: completed"} {
			if !strings.Contains(log, want) {
				t.Errorf("log lacks %q:\n%s", want, log)
			}
		}
		if strings.Contains(log, "s3cret") {
			t.Errorf("log shows the secret:\n%s", log)
		}
		got := task(created.ID)
		if got.Status != "COMPLETED" || got.EndedAt == nil || got.Template == nil || got.Template.Name != "svc" || got.CreatedBy == "" {
			t.Fatalf("task %+v", got)
		}
		links, _ := got.Output["links"].([]any)
		if len(links) != 2 || !strings.Contains(links[0].(map[string]any)["url"].(string), "/larkspur/pay-svc.git") ||
			links[1].(map[string]any)["entityRef"] != "component:default/pay-svc" {
			t.Errorf("output %v", got.Output)
		}
		// Registered from the pushed repository, read through the forge's API.
		data, _ := graphql(t, base, `{ entity(ref: "component:pay-svc") { name annotations { key value } } }`, nil)
		for _, want := range []string{`"name":"pay-svc"`, "/larkspur/pay-svc/blob/main/catalog-info.yaml",
			`{"key":"greenroom.dev/template-ref","value":"template:default/svc"}`,
			`{"key":"greenroom.dev/template-etag","value":"` + got.TemplateEtag + `"}`,
			`{"key":"greenroom.dev/task-id","value":"` + created.ID + `"}`} {
			if !strings.Contains(string(data), want) {
				t.Errorf("registered entity lacks %s: %s", want, data)
			}
		}
		statuses := map[string]string{}
		for _, s := range got.Steps {
			statuses[s.ID] = s.Status
		}
		want := map[string]string{"fetch": "completed", "log": "completed", "publish": "completed", "wait": "skipped", "register": "completed"}
		for id, st := range want {
			if statuses[id] != st {
				t.Errorf("step %s is %q, want %q", id, statuses[id], st)
			}
		}
		if files := forge.Git.Files(t, "larkspur/pay-svc.git", "main"); files["README.md"] != "# pay-svc\n" || len(files) != 2 {
			t.Errorf("pushed %v", files)
		}
		if n := forge.Git.Pushes("larkspur/pay-svc.git"); n != 1 {
			t.Errorf("%d pushes", n)
		}
		// Resumed from a cursor: only what follows it.
		mid := got.Events[len(got.Events)-2].Cursor
		data, _ = graphql(t, base, `query($id: ID!, $after: String) { task(id: $id) { events(after: $after) { message } } }`, map[string]any{"id": created.ID, "after": mid})
		if !strings.Contains(string(data), "Run completed") || strings.Contains(string(data), "Starting the task") {
			t.Errorf("events after %s: %s", mid, data)
		}
	})

	t.Run("Cancel", func(t *testing.T) {
		created, code := run(map[string]any{"name": "slow-svc", "repoUrl": repoURL + "slow-svc", "slow": true})
		if code != "" {
			t.Fatalf("runTemplate: %s", code)
		}
		deadline := time.Now().Add(20 * time.Second)
		for task(created.ID).Steps[3].Status != "processing" {
			if time.Now().After(deadline) {
				t.Fatalf("the wait step never started: %+v", task(created.ID))
			}
			time.Sleep(20 * time.Millisecond)
		}
		start := time.Now()
		if _, code := graphql(t, base, `mutation($id: ID!) { cancelTask(id: $id) { status } }`, map[string]any{"id": created.ID}); code != "" {
			t.Fatalf("cancelTask: %s", code)
		}
		for {
			got := task(created.ID)
			if got.Status == "CANCELLED" && got.Steps[3].Status == "cancelled" {
				break
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("not cancelled: %+v", got)
			}
			time.Sleep(20 * time.Millisecond)
		}

		// Retried: from the step that was cancelled, the ones before it
		// not run again (their files restored), then cancelled again.
		if _, code := graphql(t, base, `mutation($id: ID!) { retryTask(id: $id) { status } }`, map[string]any{"id": created.ID}); code != "" {
			t.Fatalf("retryTask: %s", code)
		}
		deadline = time.Now().Add(20 * time.Second)
		for task(created.ID).Steps[3].Status != "processing" {
			if time.Now().After(deadline) {
				t.Fatalf("the retried wait step never started: %+v", task(created.ID))
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, code := graphql(t, base, `mutation($id: ID!) { retryTask(id: $id) { status } }`, map[string]any{"id": created.ID}); code != "CONFLICT" {
			t.Errorf("retrying a running task: code %q, want CONFLICT", code)
		}
		graphql(t, base, `mutation($id: ID!) { cancelTask(id: $id) { status } }`, map[string]any{"id": created.ID})
		got := task(created.ID)
		log := ""
		for _, e := range got.Events {
			log += e.Message + "\n"
		}
		if !strings.Contains(log, "The task is retried") || strings.Count(log, "Beginning step fetch:template") != 1 || strings.Count(log, "Beginning step publish:github") != 1 {
			t.Errorf("retry ran the finished steps again:\n%s", log)
		}
	})

	t.Run("DryRun", func(t *testing.T) {
		calls := len(forge.Calls())
		data, code := graphql(t, base, `mutation($in: DryRunInput!) { dryRunTemplate(input: $in) { files { path base64 } output steps { id status } log { step message } error } }`,
			map[string]any{"in": map[string]any{"ref": "template:default/svc", "values": map[string]any{"name": "dry-svc", "repoUrl": repoURL + "dry-svc"}, "secrets": map[string]any{"token": "s3cret-token"}}})
		if code != "" {
			t.Fatalf("dryRunTemplate: %s", code)
		}
		var out struct {
			DryRunTemplate struct {
				Files []struct{ Path, Base64 string }
				Error *string
				Log   []struct{ Message string }
			}
		}
		json.Unmarshal(data, &out)
		res := out.DryRunTemplate
		if res.Error != nil || len(res.Files) != 2 || res.Files[0].Path != "README.md" || !strings.Contains(string(data), `"entityRef":"component:default/dry-svc"`) {
			t.Fatalf("dry run: %s", data)
		}
		if content, _ := base64.StdEncoding.DecodeString(res.Files[0].Base64); string(content) != "# dry-svc\n" {
			t.Errorf("README.md: %q", content)
		}
		if len(forge.Calls()) != calls || strings.Contains(string(data), "s3cret") {
			t.Errorf("the dry run called the forge or showed the secret: %v\n%s", forge.Calls()[calls:], data)
		}

		// A template written out, with its skeleton uploaded.
		data, code = graphql(t, base, `mutation($in: DryRunInput!) { dryRunTemplate(input: $in) { files { path } error } }`,
			map[string]any{"in": map[string]any{"yaml": taskTemplate, "values": map[string]any{"name": "up", "repoUrl": repoURL + "up"},
				"files": []map[string]any{{"path": "skeleton/up.txt", "base64": base64.StdEncoding.EncodeToString([]byte("${{ values.name }}"))}}}})
		if code != "" || !strings.Contains(string(data), `"path":"up.txt"`) {
			t.Errorf("dry run of uploaded files: %s %s", code, data)
		}
		_, code = graphql(t, base, `mutation($in: DryRunInput!) { dryRunTemplate(input: $in) { error } }`,
			map[string]any{"in": map[string]any{"yaml": taskTemplate, "values": map[string]any{"name": "up", "repoUrl": repoURL + "up"},
				"files": []map[string]any{{"path": "../x", "base64": ""}}}})
		if code != "INVALID" {
			t.Errorf("upload of ../x: code %q, want INVALID", code)
		}
	})

	// Gates: the task parks as WAITING until a decision or its deadline.
	runGated := func(t *testing.T, timeout string) string {
		t.Helper()
		data, code := graphql(t, base, `mutation($v: JSON!) { runTemplate(ref: "template:gated", values: $v) { id } }`,
			map[string]any{"v": map[string]any{"timeout": timeout}})
		var out struct{ RunTemplate struct{ ID string } }
		json.Unmarshal(data, &out)
		if code != "" || out.RunTemplate.ID == "" {
			t.Fatalf("runTemplate: %s %s", code, data)
		}
		return out.RunTemplate.ID
	}
	await := func(t *testing.T, id, status string) taskView {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			got := task(id)
			if got.Status == status {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("task %s is %s, not %s: %+v", id, got.Status, status, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	decide := func(t *testing.T, mutation, id string) (string, string) {
		t.Helper()
		data, code := graphql(t, base, `mutation($id: ID!) { `+mutation+`(id: $id, comment: "lgtm") { status } }`, map[string]any{"id": id})
		return string(data), code
	}
	t.Run("GateApproved", func(t *testing.T) {
		id := runGated(t, "")
		await(t, id, "WAITING")
		data, _ := graphql(t, base, `query($id: ID!) { task(id: $id) { gate { step approvers reason deadline } } }`, map[string]any{"id": id})
		if !strings.Contains(string(data), `"approvers":["user:development/guest"]`) || !strings.Contains(string(data), `"reason":"ship it"`) {
			t.Errorf("gate: %s", data)
		}
		// The log over WebSocket: replayed, then live to the end.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ws := dialWS(ctx, t, base, "", `subscription($id: ID!) { taskEvents(id: $id) { status message } }`, map[string]any{"id": id})
		if _, code := decide(t, "approveTask", id); code != "" {
			t.Fatalf("approveTask: %s", code)
		}
		var live []string
		for {
			msg := ws.read(ctx, t)
			if msg.Type == "complete" {
				break
			}
			var ev struct {
				Data struct{ TaskEvents struct{ Message string } }
			}
			if msg.Type != "next" || json.Unmarshal(msg.Payload, &ev) != nil {
				t.Fatalf("taskEvents over WebSocket: %s %s", msg.Type, msg.Payload)
			}
			live = append(live, ev.Data.TaskEvents.Message)
		}
		if got := strings.Join(live, "\n"); !strings.HasPrefix(got, "Starting the task") || !strings.Contains(got, "Approved by user:development/guest: lgtm") ||
			!strings.HasSuffix(got, "Run completed with status: completed") {
			t.Errorf("taskEvents over WebSocket:\n%s", got)
		}
		got := await(t, id, "COMPLETED")
		log := ""
		for _, e := range got.Events {
			log += e.Message + "\n"
		}
		for _, want := range []string{"Waiting for approval by user:development/guest", "Approved by user:development/guest: lgtm", "approved by user:development/guest"} {
			if !strings.Contains(log, want) {
				t.Errorf("log lacks %q:\n%s", want, log)
			}
		}
		if _, code := decide(t, "approveTask", id); code != "CONFLICT" {
			t.Errorf("approving a completed task: code %q, want CONFLICT", code)
		}
	})
	t.Run("GateRejected", func(t *testing.T) {
		id := runGated(t, "")
		await(t, id, "WAITING")
		if _, code := decide(t, "rejectTask", id); code != "" {
			t.Fatalf("rejectTask: %s", code)
		}
		if got := await(t, id, "FAILED"); got.Error == nil || !strings.Contains(*got.Error, "Rejected by user:development/guest: lgtm") {
			t.Errorf("error %v", got.Error)
		}
	})
	t.Run("GateTimesOut", func(t *testing.T) {
		id := runGated(t, "1s")
		await(t, id, "WAITING")
		if got := await(t, id, "FAILED"); got.Error == nil || !strings.Contains(*got.Error, "step gate was not approved by") {
			t.Errorf("error %v", got.Error)
		}
	})

	// A template registered by URL fetches its skeleton from its
	// repository on the forge, in a task and in a dry run.
	t.Run("RegisteredByURL", func(t *testing.T) {
		data, code := graphql(t, base, `mutation { runTemplate(ref: "template:remote", values: {name: "guide"}) { id } }`, nil)
		var out struct{ RunTemplate struct{ ID string } }
		json.Unmarshal(data, &out)
		if code != "" || out.RunTemplate.ID == "" {
			t.Fatalf("runTemplate: %s %s", code, data)
		}
		if got := await(t, out.RunTemplate.ID, "COMPLETED"); got.Output["files"] != float64(2) || got.Output["first"] != "LICENSE" {
			t.Errorf("output %v", got.Output)
		}
		data, code = graphql(t, base, `mutation { dryRunTemplate(input: {ref: "template:remote", values: {name: "dry"}}) { files { path } error } }`, nil)
		if want := `{"dryRunTemplate":{"files":[{"path":"LICENSE"},{"path":"dry.md"}],"error":null}}`; code != "" || string(data) != want {
			t.Errorf("dry run: %s %s", code, data)
		}
	})

	t.Run("CatalogFetch", func(t *testing.T) {
		yaml := `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: fetcher}
spec:
  type: service
  steps:
    - {id: one, action: catalog:fetch, input: {entityRef: 'svc', defaultKind: template}}
    - {id: many, action: catalog:fetch, input: {entityRefs: ['template:gated', 'component:nowhere'], optional: true}}
    - {id: missing, if: '${{ parameters.strict }}', action: catalog:fetch, input: {entityRef: 'component:nowhere'}}
  output:
    name: ${{ steps.one.output.entity.metadata.name }}
    kinds: ${{ steps.many.output.entities | length }}
    second: ${{ steps.many.output.entities[1] }}
`
		data, code := graphql(t, base, `mutation($in: DryRunInput!) { dryRunTemplate(input: $in) { output error } }`,
			map[string]any{"in": map[string]any{"yaml": yaml, "values": map[string]any{}}})
		if code != "" || !strings.Contains(string(data), `"output":{"kinds":2,"name":"svc","second":null}`) {
			t.Errorf("catalog:fetch: %s %s", code, data)
		}
		data, _ = graphql(t, base, `mutation($in: DryRunInput!) { dryRunTemplate(input: $in) { error } }`,
			map[string]any{"in": map[string]any{"yaml": yaml, "values": map[string]any{"strict": true}}})
		if !strings.Contains(string(data), "entity component:default/nowhere not found") {
			t.Errorf("catalog:fetch of a missing entity: %s", data)
		}
	})

	t.Run("Templates", func(t *testing.T) {
		data, code := graphql(t, base, `{ templates(filter: {kind: ["Component"]}) { edges { node { ref ... on Template { type parameterPages { index } } } } } }`, nil)
		want := `{"templates":{"edges":[{"node":{"ref":"template:default/gated","type":"service","parameterPages":[{"index":0}]}},{"node":{"ref":"template:default/remote","type":"docs","parameterPages":[]}},{"node":{"ref":"template:default/svc","type":"service","parameterPages":[{"index":0}]}}]}}`
		if code != "" || string(data) != want {
			t.Errorf("templates: %s %s", code, data)
		}
	})

	t.Run("Actions", func(t *testing.T) {
		data, code := graphql(t, base, `{ scaffolderActions { id input supportsDryRun } }`, nil)
		if code != "" {
			t.Fatal(code)
		}
		for _, id := range []string{"fetch:template", "publish:github", "publish:gitlab", "publish:git", "fs:rename", "debug:wait"} {
			if !strings.Contains(string(data), `"id":"`+id+`"`) {
				t.Errorf("scaffolderActions lacks %s", id)
			}
		}
	})
}

// TestMain_TemplatePermission: scaffolder.template.read is decided on the
// template, with the policy's conditions: a template without the label the
// rule asks for is FORBIDDEN, one with it runs.
func TestMain_TemplatePermission(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Locations = []string{mustWrite(t, dir, "template.yaml", taskTemplate), mustWrite(t, dir, "gated.yaml", gatedTemplate)}
	cfg.Policy = mustWrite(t, dir, "policy.yaml", `rules:
  - name: read
    allow: [catalog.entity.read]
    to: [anyone]
  - name: run
    allow: [scaffolder.task.create]
    to: [users]
  - name: golden-only
    allow: [scaffolder.template.read]
    to: [users]
    when: {labels: {golden: "true"}}
`)
	_, base := serve(t, cfg, filepath.Join(t.TempDir(), "greenroom.db"))
	dry := func(ref string) string {
		_, code := graphql(t, base, `mutation($in: DryRunInput!) { dryRunTemplate(input: $in) { error } }`,
			map[string]any{"in": map[string]any{"ref": ref, "values": map[string]any{}}})
		return code
	}
	if code := dry("template:svc"); code != "FORBIDDEN" {
		t.Errorf("a template without the label: code %q, want FORBIDDEN", code)
	}
	if code := dry("template:gated"); code != "" {
		t.Errorf("a template with the label: code %q, want none", code)
	}
	if _, code := graphql(t, base, `mutation { runTemplate(ref: "template:svc", values: {name: "x", repoUrl: "github.com?owner=o&repo=x"}) { id } }`, nil); code != "FORBIDDEN" {
		t.Errorf("runTemplate of a template without the label: code %q, want FORBIDDEN", code)
	}
}

// TestMain_GateSurvivesRestart: a task waiting at its gate while its
// server stops is decided on the next server, and completes there.
func TestMain_GateSurvivesRestart(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dsn string) {
		cfg := DefaultConfig()
		cfg.Locations = []string{mustWrite(t, t.TempDir(), "gated.yaml", gatedTemplate)}
		m, base := serve(t, cfg, dsn)
		data, code := graphql(t, base, `mutation { runTemplate(ref: "template:gated", values: {}) { id } }`, nil)
		var out struct{ RunTemplate struct{ ID string } }
		json.Unmarshal(data, &out)
		if code != "" || out.RunTemplate.ID == "" {
			t.Fatalf("runTemplate: %s %s", code, data)
		}
		id := out.RunTemplate.ID
		status := func(base string) string {
			data, _ := graphql(t, base, `query($id: ID!) { task(id: $id) { status } }`, map[string]any{"id": id})
			var got struct{ Task struct{ Status string } }
			json.Unmarshal(data, &got)
			return got.Task.Status
		}
		await := func(base, want string) {
			t.Helper()
			for deadline := time.Now().Add(15 * time.Second); status(base) != want; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("task %s is %s, not %s", id, status(base), want)
				}
			}
		}
		await(base, "WAITING")
		m.Close()

		_, base = serve(t, cfg, dsn)
		if got := status(base); got != "WAITING" {
			t.Fatalf("after the restart the task is %s", got)
		}
		if _, code := graphql(t, base, `mutation($id: ID!) { approveTask(id: $id) { status } }`, map[string]any{"id": id}); code != "" {
			t.Fatalf("approveTask: %s", code)
		}
		await(base, "COMPLETED")
	})
}
