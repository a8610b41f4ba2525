package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/greenroomhq/greenroom/internal/techdocs"
)

const docsUsage = `usage:
  greenroom docs build DIR --out OUTDIR
      builds a docs source (DIR holds mkdocs.yml and its docs folder) offline
      into the layout MkDocs + techdocs-core write: a page's index.html at its
      URL, the assets, search/search_index.json and techdocs_metadata.json;
      prints the build report (file:line: warning) and exits 1 on warnings
      with --strict
  greenroom docs serve DIR [--listen 127.0.0.1:8000]
      previews a docs source while you edit it: rebuilt (only the pages that
      changed) and reloaded in the browser at each save
`

// cmdDocs is "greenroom docs", for docs authors and their CI.
func cmdDocs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, docsUsage)
		return 2
	}
	switch args[0] {
	case "build":
		return cmdDocsBuild(ctx, args[1:], stdout, stderr)
	case "serve":
		return cmdDocsServe(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, docsUsage)
		return 0
	}
	fmt.Fprintf(stderr, "greenroom docs: unknown subcommand %q\n\n%s", args[0], docsUsage)
	return 2
}

func cmdDocsBuild(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("docs build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, docsUsage) }
	out := fs.String("out", "", "the folder to write the site to (made if need be)")
	strict := fs.Bool("strict", false, "exit 1 when the build reports a warning")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if len(rest) != 1 || *out == "" {
		fs.Usage()
		return 2
	}
	dir := rest[0]
	site, err := buildDocsDir(ctx, dir, nil)
	if err != nil {
		fmt.Fprintf(stderr, "greenroom docs build: %s: %v\n", dir, err)
		return 1
	}
	if err := site.WriteDir(*out, "", time.Now()); err != nil {
		fmt.Fprintln(stderr, "greenroom docs build:", err)
		return 1
	}
	printWarnings(stderr, dir, site.Warnings)
	fmt.Fprintf(stdout, "built %q: %d pages, %d assets, %d warnings → %s\n", site.Name, len(site.Pages), len(site.Assets), len(site.Warnings), *out)
	if *strict && len(site.Warnings) > 0 {
		return 1
	}
	return 0
}

// buildDocsDir builds the docs source in dir, reusing the pages of
// previous that did not change.
func buildDocsDir(ctx context.Context, dir string, previous *techdocs.Site) (*techdocs.Site, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	abs, _ := filepath.Abs(dir)
	return techdocs.Build(ctx, root.FS(), techdocs.Options{DefaultName: filepath.Base(abs), Previous: previous})
}

// printWarnings prints a build report as file:line: warning: message,
// the files under dir.
func printWarnings(w io.Writer, dir string, warnings []techdocs.Warning) {
	for _, x := range warnings {
		where := filepath.Join(dir, filepath.FromSlash(x.File))
		if x.Line > 0 {
			where += fmt.Sprintf(":%d", x.Line)
		}
		fmt.Fprintf(w, "%s: warning: %s\n", where, x.Message)
	}
}

func cmdDocsServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("docs serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, docsUsage) }
	listen := fs.String("listen", "127.0.0.1:8000", "the address to serve the preview on")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if len(rest) != 1 {
		fs.Usage()
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	p := &techdocs.Preview{Dir: rest[0], Log: log}
	if err := p.Build(ctx); err != nil {
		fmt.Fprintf(stderr, "greenroom docs serve: %s: %v\n", rest[0], err)
		return 1
	}
	printWarnings(stderr, rest[0], p.Site().Warnings)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "greenroom docs serve:", err)
		return 1
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintf(stdout, "serving %s at http://%s/ (rebuilt and reloaded at each save; Ctrl-C stops)\n", rest[0], ln.Addr())
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	p.Watch(ctx)
	srv.Close()
	return 0
}
