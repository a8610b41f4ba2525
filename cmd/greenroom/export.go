package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/greenroomhq/greenroom/internal/export"
)

const exportUsage = `usage: greenroom export [--database URL] [--format yaml|ndjson] [--output FILE]

Writes every entity of the catalog as its author would write it (without
uid, etag, relations and status), for backups and migrations; greenroom
ingest --location FILE reads it back. Location entities and orphans are
left out. --format defaults to ndjson for a FILE named *.ndjson or *.jsonl,
else yaml; without --output the export goes to standard output. A FILE is
written whole or not at all.
`

// cmdExport runs greenroom export.
func cmdExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := newDBCommand("export", exportUsage, stderr)
	format := c.fs.String("format", "", "yaml or ndjson (default: from the --output file's name, else yaml)")
	output := c.fs.String("output", "", "the file to write (default: standard output)")
	rest, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		c.fs.Usage()
		return 2
	}
	f := export.Format(strings.ToLower(*format))
	if f == "" {
		f = export.YAML
		if ext := strings.ToLower(filepath.Ext(*output)); ext == ".ndjson" || ext == ".jsonl" {
			f = export.NDJSON
		}
	}
	if f != export.YAML && f != export.NDJSON {
		return c.fail(fmt.Errorf("unknown --format %q; want yaml or ndjson", *format))
	}
	_, db, err := c.open(ctx, getenv)
	if err != nil {
		return c.fail(err)
	}
	defer db.Close()
	start := time.Now()
	if *output == "" {
		n, err := export.Write(ctx, stdout, db, f)
		if err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(stderr, "exported %s in %.2fs\n", count(n, "entity"), time.Since(start).Seconds())
		return 0
	}
	// Written beside the target and renamed over it once complete, so an
	// export that fails leaves any earlier file as it was.
	tmp, err := os.CreateTemp(filepath.Dir(*output), "."+filepath.Base(*output)+".*")
	if err != nil {
		return c.fail(err)
	}
	defer os.Remove(tmp.Name())
	n, err := export.Write(ctx, tmp, db, f)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), *output)
	}
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(stderr, "exported %s to %s in %.2fs\n", count(n, "entity"), *output, time.Since(start).Seconds())
	return 0
}
