// Command techradar is Greenroom's Tech Radar plugin: its own process and
// database, serving a federation subgraph (schema.graphqls) that the
// gateway composes with the core, and Backstage's GET /api/tech-radar/data
// so that Backstage's stock Tech Radar page can show the same radars.
//
//	go run ./plugins/techradar --radar examples/techradar/radar.yaml
//	go run ./plugins/techradar --radar platform=https://example.com/radar.json --radar data=data-radar.csv
//
// Each --radar is [ID=]FILE|URL: Backstage's TechRadarLoaderResponse as
// JSON or YAML, or Roadie's CSV (package radar). Every version read is kept
// as a snapshot in the plugin's database (--database: a SQLite file, or a
// postgres:// URL). Sources are read again every --poll (a file only when
// it changed); a version that does not parse is logged, naming the entry,
// and the last good one keeps serving. Authentication, limits and the
// core's URL are the core's settings (plugins/sdk): --config greenroom.yaml
// and GREENROOM_* variables.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/greenroomhq/greenroom/plugins/sdk"
	"github.com/greenroomhq/greenroom/plugins/techradar/graph"
	"github.com/greenroomhq/greenroom/plugins/techradar/radars"
	"github.com/greenroomhq/greenroom/plugins/techradar/resolvers"
	"github.com/greenroomhq/greenroom/plugins/techradar/store"
)

//go:generate go tool gqlgen generate --config gqlgen.yml

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], os.Getenv, log); err != nil {
		fmt.Fprintln(os.Stderr, "techradar:", err)
		os.Exit(1)
	}
}

// listFlag is a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func run(ctx context.Context, args []string, getenv func(string) string, log *slog.Logger) error {
	fs := flag.NewFlagSet("techradar", flag.ContinueOnError)
	var sources listFlag
	fs.Var(&sources, "radar", "a radar, [ID=]FILE|URL: .json, .yaml or .yml (Backstage's format) or .csv (Roadie's); repeat for more")
	listen := fs.String("listen", "127.0.0.1:7008", "the address to serve on")
	database := fs.String("database", "./techradar.db", "the plugin's database: a SQLite file, or a postgres:// URL (GREENROOM_TECHRADAR_DATABASE)")
	config := fs.String("config", "", "the core's greenroom.yaml, for its auth and api settings")
	poll := fs.Duration("poll", 30*time.Second, "how often the radars are read again")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(sources) == 0 {
		return errors.New("--radar [ID=]FILE|URL is needed")
	}
	if v := getenv("GREENROOM_TECHRADAR_DATABASE"); v != "" && !flagSet(fs, "database") {
		*database = v
	}
	if *poll < time.Second {
		return fmt.Errorf("--poll %s: at least 1s", *poll)
	}
	var srcs []radars.Source
	seen := map[string]bool{}
	for _, s := range sources {
		src, err := radars.ParseSource(s)
		if err != nil {
			return err
		}
		if seen[src.ID] {
			return fmt.Errorf("two radars have the id %q: name them, --radar ID=%s", src.ID, src.Location)
		}
		seen[src.ID] = true
		srcs = append(srcs, src)
	}
	cfg, err := sdk.Load("techradar", *listen, *config, getenv)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, *database)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := radars.New(st, srcs, log)
	if err := svc.Load(ctx); err != nil {
		// A radar with a good snapshot from an earlier run serves it; one
		// with none cannot start.
		for _, src := range srcs {
			if svc.Radar(src.ID) == nil {
				return err
			}
		}
	}
	go svc.Poll(ctx, *poll)
	exec := graph.NewExecutableSchema(graph.Config{Resolvers: &resolvers.Resolver{Radars: svc, Core: sdk.Core{URL: cfg.CoreURL}}})
	h, release, err := sdk.Handler(ctx, sdk.Options{Config: cfg, Schema: exec, Logger: log, Ready: st.Ping,
		Routes: map[string]http.Handler{"GET /api/tech-radar/data": backstageData(svc)}})
	if err != nil {
		return err
	}
	defer release()
	return sdk.Serve(ctx, cfg, h, log)
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// backstageData answers Backstage's GET /api/tech-radar/data: the radar
// named by ?id=, or the first by id, as TechRadarLoaderResponse.
func backstageData(svc *radars.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v *radars.View
		if id := r.URL.Query().Get("id"); id != "" {
			v = svc.Radar(id)
		} else if all := svc.Radars(); len(all) > 0 {
			v = all[0]
		}
		if v == nil {
			writeError(w, http.StatusNotFound, "NotFoundError", "no such radar")
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(v.Backstage)
	})
}

// writeError writes Backstage's error body: {"error": {name, message}}.
func writeError(w http.ResponseWriter, status int, name, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"name": name, "message": message},
		"response": map[string]int{"statusCode": status}})
}
