package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/greenroomhq/greenroom/internal/gittest"
	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

const resumeTemplate = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: resume
spec:
  type: service
  parameters:
    properties:
      name: {type: string}
      remote: {type: string}
      wait: {type: number}
  steps:
    - {id: fetch, action: fetch:template, input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}}
    - {id: wait, action: debug:wait, input: {seconds: '${{ parameters.wait }}'}}
    - {id: publish, action: publish:git, input: {remoteUrl: '${{ parameters.remote }}', token: '${{ secrets.token }}'}}
`

// TestTaskReplicas runs two greenroom serve processes on one PostgreSQL,
// gives them 50 tasks, and kills one with SIGKILL while its tasks wait in
// their middle step. Every task completes, on the survivor for those the
// victim held: resumed after the step they finished (which does not run
// again) with the workspace it left, and each repository receives exactly
// one push, so no task ran twice.
func TestTaskReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("two servers")
	}
	dsn := storetest.PostgresURL(t)
	git := gittest.NewServer(t)
	git.RequireToken("push-token")
	dir := t.TempDir()
	bin := filepath.Join(dir, "greenroom")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tmpl := mustWrite(t, dir, "template/template.yaml", resumeTemplate)
	mustWrite(t, dir, "template/skeleton/README.md", "# ${{ values.name }}\n")
	cfg := fmt.Sprintf("database: %q\nlocations: [%q]\njobs:\n  deadAfter: 2s\nlog:\n  format: json\nmetrics:\n  listen: \"off\"\n", dsn, tmpl)
	cfgPath := mustWrite(t, dir, "greenroom.yaml", cfg)

	type replica struct {
		addr string
		cmd  *exec.Cmd
	}
	var replicas []*replica
	for i := range 2 {
		r := &replica{addr: freeAddr(t)}
		out, err := os.Create(filepath.Join(dir, fmt.Sprintf("replica%d.log", i)))
		if err != nil {
			t.Fatal(err)
		}
		r.cmd = exec.Command(bin, "serve", "--config", cfgPath, "--listen", r.addr)
		r.cmd.Stdout, r.cmd.Stderr = out, out
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait(); out.Close() })
		replicas = append(replicas, r)
	}
	for _, r := range replicas {
		waitReady(t, "http://"+r.addr)
	}
	victim, survivor := "http://"+replicas[0].addr, "http://"+replicas[1].addr

	const n = 50
	ids := make([]string, n)
	for i := range n {
		name := fmt.Sprintf("svc-%02d", i)
		values := map[string]any{"name": name, "remote": git.NewRepo(t, name+".git"), "wait": 4}
		data, code := graphql(t, victim, `mutation($v: JSON!, $s: JSON) { runTemplate(ref: "template:resume", values: $v, secrets: $s) { id } }`,
			map[string]any{"v": values, "s": map[string]any{"token": "push-token"}})
		var out struct{ RunTemplate struct{ ID string } }
		if json.Unmarshal(data, &out); code != "" || out.RunTemplate.ID == "" {
			t.Fatalf("runTemplate: %s %s", code, data)
		}
		ids[i] = out.RunTemplate.ID
	}
	// Killed once every task that runs is in its wait step, none halfway
	// through a push: a push made again after a kill is refused by the
	// git server (its history moved on), as it would be on any forge.
	waitFor := time.Now().Add(60 * time.Second)
	for {
		data, _ := graphql(t, survivor, `{ tasks(first: 100) { edges { node { status steps { id status } } } } }`, nil)
		var out struct {
			Tasks struct {
				Edges []struct {
					Node struct {
						Status string
						Steps  []struct{ ID, Status string }
					}
				}
			}
		}
		json.Unmarshal(data, &out)
		running, waiting := 0, 0
		for _, e := range out.Tasks.Edges {
			if e.Node.Status != "PROCESSING" {
				continue
			}
			running++
			if len(e.Node.Steps) == 3 && e.Node.Steps[1].Status == "processing" {
				waiting++
			}
		}
		if running > 0 && running == waiting {
			break
		}
		if time.Now().After(waitFor) {
			t.Fatalf("the running tasks never all waited at once: %s", data)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := replicas[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(90 * time.Second)
	resumed := 0
	for i, id := range ids {
		var view taskView
		for {
			data, code := graphql(t, survivor, `query($id: ID!) { task(id: $id) { `+taskFields+` } }`, map[string]any{"id": id})
			var out struct{ Task taskView }
			json.Unmarshal(data, &out)
			view = out.Task
			if code == "" && (view.Status == "COMPLETED" || view.Status == "FAILED" || view.Status == "CANCELLED") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("task %d is %s after 90 s: %+v", i, view.Status, view)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if view.Status != "COMPLETED" {
			t.Errorf("task %d %s: %s", i, view.Status, deref(view.Error))
			continue
		}
		log := ""
		for _, e := range view.Events {
			log += e.Message + "\n"
		}
		if strings.Contains(log, "Resuming the task after its worker stopped") {
			resumed++
			if c := strings.Count(log, "Beginning step fetch:template"); c != 1 {
				t.Errorf("task %d ran its finished step again (%d times):\n%s", i, c, log)
			}
		}
		name := fmt.Sprintf("svc-%02d.git", i)
		if pushes := git.Pushes(name); pushes != 1 {
			t.Errorf("%s received %d pushes", name, pushes)
		}
		if files := git.Files(t, name, "main"); files["README.md"] != fmt.Sprintf("# svc-%02d\n", i) {
			t.Errorf("%s holds %v", name, files)
		}
	}
	if resumed == 0 {
		t.Error("no task was resumed: the victim held none when it was killed")
	}
	t.Logf("%d of %d tasks were resumed by the survivor", resumed, n)
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
