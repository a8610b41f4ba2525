package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// measureExport runs greenroom export of the whole catalog as NDJSON,
// its output read and dropped, and reports its time and peak RSS, which
// must stay flat as the catalog grows: the export reads and writes a
// thousand entities at a time.
func (b *bench) measureExport(ctx context.Context, database string, n int, dsn string) apiResult {
	r := apiResult{database: database, entities: n, query: "greenroom export --format ndjson (whole catalog)", runs: 1, clients: 1}
	args := []string{"export", "--database", dsn, "--format", "ndjson"}
	fmt.Println(show(b.bin, redactArgs(args)...))
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, b.bin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = b.root, io.Discard, &stderr
	start := time.Now()
	err := cmd.Run()
	r.p50 = time.Since(start)
	r.p99, r.elapsed = r.p50, r.p50
	if err != nil {
		r.failure = fmt.Sprintf("greenroom export: %v: %s", err, clip(stderr.Bytes()))
		fmt.Printf("%s export: FAILED: %s\n", database, r.failure)
		return r
	}
	rss := 0.0
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = float64(ru.Maxrss) * 1024 / 1e6 // KiB on Linux
	}
	r.rps = float64(n) / r.p50.Seconds()
	r.note = fmt.Sprintf("peak RSS %.0f MB; %s", rss, strings.TrimSpace(stderr.String()))
	r.target, r.pass = "peak RSS < 100 MB at any size", rss < 100
	fmt.Printf("%s export: %.2f s, %s\n", database, r.p50.Seconds(), r.note)
	return r
}

// measureStream reads the whole catalog from the served REST list, GET
// /api/catalog/entities as NDJSON, counting its lines, and samples the
// server's resident set while it streams: what the export costs a running
// server. The server's RSS must stay flat: it may grow by no more while
// 100,000 entities stream than the list's pages of a thousand need.
func (s *server) measureStream(ctx context.Context, database string, n int) apiResult {
	r := apiResult{database: database, entities: n, query: "REST GET /api/catalog/entities, NDJSON (whole catalog)", runs: 1, clients: 1}
	before := rssMB(s.cmd.Process.Pid)
	stop := make(chan struct{})
	peak := make(chan float64, 1)
	go func() {
		top := before
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				peak <- max(top, rssMB(s.cmd.Process.Pid))
				return
			case <-t.C:
				top = max(top, rssMB(s.cmd.Process.Pid))
			}
		}
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/api/catalog/entities", nil)
	req.Header.Set("Accept", "application/x-ndjson")
	start := time.Now()
	lines, err := func() (int, error) {
		resp, err := s.client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1000))
			return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, clip(body))
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		lines := 0
		for sc.Scan() {
			lines++
		}
		return lines, sc.Err()
	}()
	r.p50 = time.Since(start)
	r.p99, r.elapsed = r.p50, r.p50
	close(stop)
	top := <-peak
	// The catalog's Location and the one Greenroom generates are entities too.
	if err == nil && lines < n {
		err = fmt.Errorf("%d entities streamed, want at least %d", lines, n)
	}
	if err != nil {
		r.failure = err.Error()
		fmt.Printf("%s stream: FAILED: %s\n", database, r.failure)
		return r
	}
	r.rps = float64(lines) / r.p50.Seconds()
	growth := top - before
	r.note = fmt.Sprintf("%d entities; server RSS %.0f MB before, peak %.0f MB while streaming (+%.0f)", lines, before, top, growth)
	r.target, r.pass = "server RSS + < 100 MB at any size", growth < 100
	fmt.Printf("%s stream: %.2f s, %s\n", database, r.p50.Seconds(), r.note)
	return r
}

// rssMB reads a process's resident set size, in MB, from /proc; 0 where
// there is no /proc.
func rssMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024 / 1e6
		}
	}
	return 0
}
