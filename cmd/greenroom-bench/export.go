package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
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
