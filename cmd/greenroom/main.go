// Command greenroom is the Greenroom server and its tools: serve the
// catalog API, migrate the database, ingest locations once, validate
// descriptor files offline, list processing errors, print the change feed,
// list, register and delete locations, export the catalog as descriptor
// files, list and cancel background jobs, mint development tokens, check
// policy files, and check and dry-run software templates.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/greenroomhq/greenroom/schema"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `Greenroom is a headless developer portal: one GraphQL API over the
Backstage software catalog.

Usage:
  greenroom serve    [flags]              start the server (SIGHUP refreshes every location now)
  greenroom ingest   [flags]              read every location once, then exit
  greenroom migrate  up|down|status       apply, roll back or list migrations
  greenroom validate FILE_OR_DIR...       check descriptor files offline
  greenroom errors   [LOCATION_ID]        list processing errors and warnings
  greenroom changes  [--after N] [--follow]  print the change feed as JSON lines
  greenroom locations list|add|remove     list, register or delete locations (audited)
  greenroom export   [--format yaml|ndjson] [--output FILE]  write the catalog as descriptors ingest reads back
  greenroom jobs     [--state STATES]     list background jobs waiting, running and failed
  greenroom jobs     cancel ID            cancel a background job (audited)
  greenroom plugins  list|add|remove|check  the plugin registry (audited); check a plugin composes
  greenroom token    --sub REF [flags]    mint a development token signed with the HS256 secret
  greenroom policy   check FILE...        check permission policy files
  greenroom template validate DIR         check a template folder offline (file and line)
  greenroom template dry-run DIR --values FILE --out OUTDIR  run a template offline, write its files
  greenroom docs build DIR --out OUTDIR   build a docs folder (mkdocs.yml + docs/) offline, MkDocs' layout
  greenroom docs serve DIR                preview a docs folder, rebuilt and reloaded at each save
  greenroom schema                        print the GraphQL schema (federation subgraph SDL)
  greenroom version                       print the version

Run "greenroom COMMAND -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit code: 0 on
// success, 1 when the command found problems, 2 on bad usage or failure.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, rest, getenv, stderr)
	case "ingest":
		err = cmdIngest(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, rest, getenv, stdout, stderr)
	case "validate":
		return cmdValidate(ctx, rest, stdout, stderr)
	case "errors":
		return cmdErrors(ctx, rest, getenv, stdout, stderr)
	case "changes":
		return cmdChanges(ctx, rest, getenv, stdout, stderr)
	case "export":
		return cmdExport(ctx, rest, getenv, stdout, stderr)
	case "locations":
		return cmdLocations(ctx, rest, getenv, stdout, stderr)
	case "jobs":
		return cmdJobs(ctx, rest, getenv, stdout, stderr)
	case "plugins":
		return cmdPlugins(ctx, rest, getenv, stdout, stderr)
	case "token":
		err = cmdToken(rest, getenv, stdout, stderr)
	case "policy":
		return cmdPolicy(rest, stdout, stderr)
	case "template":
		return cmdTemplate(ctx, rest, stdout, stderr)
	case "docs":
		return cmdDocs(ctx, rest, stdout, stderr)
	case "schema":
		fmt.Fprint(stdout, schema.SDL())
		return 0
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "greenroom: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "greenroom:", err)
		return 2
	}
	return 0
}

func versionString() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		return fmt.Sprintf("greenroom %s %s", v, info.GoVersion)
	}
	return "greenroom " + v
}

// newLogger returns a text logger on a terminal and a JSON logger
// elsewhere, unless the format is given.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "auto", "":
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				return slog.New(slog.NewTextHandler(w, opts)), nil
			}
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want auto, text or json", format)
}
