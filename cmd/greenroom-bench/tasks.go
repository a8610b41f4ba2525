package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// The software-templates issue's targets: 100 concurrent fetch:template
// tasks of a 50-file skeleton complete in under 10 s on PostgreSQL with
// two workers (two serve processes); a dry run of that skeleton under
// 100 ms; a task event reaches its subscriber within 50 ms (p99).
const (
	benchTasks         = 100
	benchSkeletonFiles = 50
	benchDryRuns       = 30
	tasksTarget        = 10 * time.Second
	dryRunTarget       = 100 * time.Millisecond
	taskEventTarget    = 50 * time.Millisecond
)

// tasksResult is the software-templates measurement on one database.
type tasksResult struct {
	database         string
	workers          int
	dryRun50, dryMax time.Duration
	tasks            int
	elapsed          time.Duration // first runTemplate sent to last task completed
	events           int           // live events timed, under the load of every task at once
	event50, event99 time.Duration
	// quiet: the same, for tasks run one at a time after the load.
	quietEvents      int
	quiet50, quiet99 time.Duration
	failure          string
}

// defaultWorkspaces is a memory file system for the task benchmark's
// workspaces where there is one, as an operator would configure
// scaffolder.workingDirectory (a Kubernetes emptyDir of medium Memory):
// each task writes and removes its skeleton's files, and on ext4 without
// a journal (this machine's disk) making files soon after removing
// thousands is quadratic — the kernel skips each inode freed in the last
// seconds (perf: 60% of the CPU in find_inode_bit/recently_deleted), so
// that 100 tasks took 6.1 s instead of 1.8 s and event p99 was 80 ms.
func defaultWorkspaces() string {
	if info, err := os.Stat("/dev/shm"); err == nil && info.IsDir() {
		return "/dev/shm"
	}
	return ""
}

// benchQuietTasks are run one at a time after the load, each followed.
const benchQuietTasks = 20

const benchTemplate = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: bench
spec:
  type: service
  parameters:
    required: [name]
    properties:
      name: {type: string}
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
        values: {name: '${{ parameters.name }}', owner: team-bench}
    - id: log
      action: debug:log
      input: {message: 'rendered ${{ parameters.name }}'}
`

// writeBenchTemplate writes the template and its 50-file skeleton.
func writeBenchTemplate(dir string) (string, error) {
	files := map[string]string{"template.yaml": benchTemplate}
	for i := range benchSkeletonFiles {
		files[fmt.Sprintf("skeleton/pkg%d/${{ values.name }}_%02d.go", i%5, i)] =
			fmt.Sprintf("// Package ${{ values.name | replace('-', '') }} is file %d of ${{ values.name }}.\n"+
				"package ${{ values.name | replace('-', '') }}\n\n"+
				"{%% for i in range(0, 20) %%}// line ${{ i }} owned by ${{ values.owner | upper }}\n{%% endfor %%}", i)
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "template.yaml"), nil
}

// tasks measures dry runs, then runs benchTasks tasks at once across the
// workers, following each over SSE.
func (b *bench) tasks(ctx context.Context, database, dsn, dir string, workers int) tasksResult {
	res := tasksResult{database: database, workers: workers}
	fail := func(format string, args ...any) tasksResult {
		res.failure = fmt.Sprintf(format, args...)
		fmt.Printf("%s: tasks: FAILED: %s\n", database, res.failure)
		return res
	}
	tmpl, err := writeBenchTemplate(filepath.Join(dir, "tasks-"+database))
	if err != nil {
		return fail("%v", err)
	}
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	var env []string
	if b.workspaces != "" {
		env = append(env, "TMPDIR="+b.workspaces)
	}
	for range workers {
		s, err := b.startServer(ctx, dsn, tmpl, []string{"--log-format", "json"}, env...)
		if err != nil {
			return fail("%v", err)
		}
		servers = append(servers, s)
	}

	dry, _ := json.Marshal(map[string]any{"query": `mutation { dryRunTemplate(input: {ref: "template:bench", values: {name: "dry-svc"}}) { files { path } error } }`})
	var times []time.Duration
	for range benchDryRuns + 3 {
		data, d, err := servers[0].post(ctx, dry, true)
		if err != nil {
			return fail("dry run: %v", err)
		}
		if !bytes.Contains(data, []byte(`"error":null`)) || bytes.Count(data, []byte(`"path"`)) != benchSkeletonFiles {
			return fail("dry run: %s", clip(data))
		}
		times = append(times, d)
	}
	times = times[3:] // warm-up
	slices.Sort(times)
	res.dryRun50, res.dryMax = times[len(times)/2], times[len(times)-1]

	var (
		mu      sync.Mutex
		delays  []time.Duration
		wg      sync.WaitGroup
		lastEnd time.Time
		errs    []string
	)
	start := time.Now()
	for i := range benchTasks {
		s := servers[i%len(servers)]
		body, _ := json.Marshal(map[string]any{"query": `mutation($v: JSON!) { runTemplate(ref: "template:bench", values: $v) { id } }`,
			"variables": map[string]any{"v": map[string]any{"name": fmt.Sprintf("svc-%03d", i)}}})
		data, _, err := s.post(ctx, body, true)
		if err != nil {
			return fail("runTemplate: %v", err)
		}
		var out struct{ RunTemplate struct{ ID string } }
		if err := json.Unmarshal(data, &out); err != nil || out.RunTemplate.ID == "" {
			return fail("runTemplate: %s", clip(data))
		}
		follower := servers[(i+1)%len(servers)] // events cross replicas where there are two
		wg.Go(func() {
			ds, status, err := followTask(ctx, follower.url, out.RunTemplate.ID)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err.Error())
			case status != "completed":
				errs = append(errs, fmt.Sprintf("task %s ended %s", out.RunTemplate.ID, status))
			}
			delays = append(delays, ds...)
			lastEnd = time.Now()
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fail("%d tasks: %s", len(errs), errs[0])
	}
	res.tasks, res.elapsed = benchTasks, lastEnd.Sub(start)
	slices.Sort(delays)
	if res.events = len(delays); res.events > 0 {
		res.event50, res.event99 = delays[len(delays)/2], delays[len(delays)*99/100]
	}
	var quiet []time.Duration
	for i := range benchQuietTasks {
		body, _ := json.Marshal(map[string]any{"query": `mutation($v: JSON!) { runTemplate(ref: "template:bench", values: $v) { id } }`,
			"variables": map[string]any{"v": map[string]any{"name": fmt.Sprintf("quiet-%03d", i)}}})
		data, _, err := servers[0].post(ctx, body, true)
		if err != nil {
			return fail("runTemplate: %v", err)
		}
		var out struct{ RunTemplate struct{ ID string } }
		if err := json.Unmarshal(data, &out); err != nil || out.RunTemplate.ID == "" {
			return fail("runTemplate: %s", clip(data))
		}
		ds, status, err := followTask(ctx, servers[len(servers)-1].url, out.RunTemplate.ID)
		if err != nil || status != "completed" {
			return fail("quiet task %s: %s %v", out.RunTemplate.ID, status, err)
		}
		quiet = append(quiet, ds...)
	}
	slices.Sort(quiet)
	if res.quietEvents = len(quiet); res.quietEvents > 0 {
		res.quiet50, res.quiet99 = quiet[len(quiet)/2], quiet[len(quiet)*99/100]
	}
	fmt.Printf("%s: %d tasks on %d workers in %s; dry run p50 %s; %d live events, p99 %s\n",
		database, res.tasks, workers, res.elapsed.Round(time.Millisecond), ms(res.dryRun50), res.events, ms(res.event99))
	return res
}

// followTask follows a task's events over SSE until the subscription
// completes, and returns, for each event written after the subscription
// was answered, the time from its writing to its arrival, and the status
// the last event gave the task.
func followTask(ctx context.Context, base, id string) ([]time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	body, _ := json.Marshal(map[string]any{"query": `subscription($id: ID!) { taskEvents(id: $id) { status at } }`, "variables": map[string]any{"id": id}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("taskEvents: %s", resp.Status)
	}
	opened := time.Now()
	var delays []time.Duration
	status, event := "", ""
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return delays, status, fmt.Errorf("taskEvents of %s: %v", id, err)
		}
		now := time.Now()
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			if event == "complete" {
				return delays, status, nil
			}
		case strings.HasPrefix(line, "data:") && event == "next":
			var ev struct {
				Data struct{ TaskEvents struct{ Status, At string } }
			}
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data:")), &ev); err != nil {
				return delays, status, err
			}
			at, err := time.Parse(time.RFC3339Nano, ev.Data.TaskEvents.At)
			if err != nil {
				return delays, status, err
			}
			if at.After(opened) {
				delays = append(delays, now.Sub(at))
			}
			if s := ev.Data.TaskEvents.Status; s != "" {
				status = s
			}
		}
	}
}

// reportTasks prints the software-templates measurements; it reports
// whether one failed and whether one missed its target.
func reportTasks(results []tasksResult, workspaces string) (failed, missed bool) {
	fmt.Println("\n# software templates: dry runs, 100 concurrent fetch:template tasks of a 50-file skeleton, task events")
	if workspaces != "" {
		fmt.Printf("(task workspaces in %s, the servers' TMPDIR: -workspaces)\n", workspaces)
	}
	for _, r := range results {
		if r.failure != "" {
			fmt.Printf("%s: FAILED: %s\n", r.database, r.failure)
			failed = true
			continue
		}
		fmt.Printf("%-8s dry run p50 %s (max %s)  %s\n", r.database, ms(r.dryRun50), ms(r.dryMax), verdict(r.dryRun50 < dryRunTarget, "< "+ms(dryRunTarget), &missed))
		what := fmt.Sprintf("%d tasks on %d workers in %.2f s", r.tasks, r.workers, r.elapsed.Seconds())
		if r.database == "postgres" {
			fmt.Printf("%-8s %s  %s\n", r.database, what, verdict(r.elapsed < tasksTarget, fmt.Sprintf("< %.0f s", tasksTarget.Seconds()), &missed))
		} else {
			fmt.Printf("%-8s %s (the target is PostgreSQL's with two workers)\n", r.database, what)
		}
		fmt.Printf("%-8s task events, all %d tasks at once: %d live, p50 %s, p99 %s  %s\n", r.database, r.tasks, r.events, ms(r.event50), ms(r.event99),
			verdict(r.events > 0 && r.event99 < taskEventTarget, "p99 < "+ms(taskEventTarget), &missed))
		fmt.Printf("%-8s task events, %d tasks one at a time: %d live, p50 %s, p99 %s  %s\n", r.database, benchQuietTasks, r.quietEvents, ms(r.quiet50), ms(r.quiet99),
			verdict(r.quietEvents > 0 && r.quiet99 < taskEventTarget, "p99 < "+ms(taskEventTarget), &missed))
	}
	return failed, missed
}
