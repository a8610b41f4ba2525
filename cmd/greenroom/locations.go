package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/store"
)

const locationsUsage = `usage:
  greenroom locations list   [--database URL]           list every location, configured or registered
  greenroom locations add    [--database URL] TARGET    register a location as the API's registerLocation does, and read it
  greenroom locations remove [--database URL] ID        delete a location and the entities it emitted

TARGET is an http(s) URL, or a file path when catalog.registerTypes allows
file. add and remove are audited, as cli:<OS user>. Configured locations
(--location, greenroom.yaml, GREENROOM_LOCATIONS) are managed by the
configuration: one that leaves it is removed at the next start.
`

// registerLocations records the configured locations as configured: they
// may emit every kind (unless catalog.rules says otherwise), and one
// registered through the API before gains that trust. A configured location
// that left the configuration is removed, its entities orphaned or deleted
// as catalog.orphans says (see [ingest.Engine.Remove]), so that what an
// earlier run configured does not mix with this one's. Locations registered
// through the API or greenroom locations add stay until deleted.
func registerLocations(ctx context.Context, db *store.DB, eng *ingest.Engine, cfg Config, log *slog.Logger) error {
	locs, err := cfg.locations()
	if err != nil {
		return err
	}
	keep := make(map[string]bool, len(locs))
	for _, l := range locs {
		stored, _, err := db.CreateLocation(ctx, l.Type, l.Target)
		if err != nil {
			return fmt.Errorf("register location %s: %w", l.Key(), err)
		}
		keep[stored.ID] = true
	}
	stored, err := db.Locations(ctx)
	if err != nil {
		return err
	}
	for _, l := range stored {
		if !l.Configured || keep[l.ID] {
			continue
		}
		st, err := eng.Remove(ctx, l)
		if portal.ErrorCode(err) == portal.ENOTFOUND {
			continue // another replica removed it first
		}
		if err != nil {
			return fmt.Errorf("remove location %s: %w", l.Key(), err)
		}
		log.Info("location removed: it is no longer configured", "location", l.Key(), "id", l.ID,
			"orphaned", st.Orphaned, "deleted", st.Deleted)
	}
	return nil
}

// cmdLocations runs greenroom locations list|add|remove.
func cmdLocations(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := newDBCommand("locations", locationsUsage, stderr)
	rest, code, ok := c.parse(args)
	if !ok {
		return code
	}
	want := map[string]int{"list": 0, "add": 1, "remove": 1}
	if n, ok := want[first(rest)]; !ok || len(rest) != n+1 {
		c.fs.Usage()
		return 2
	}
	c.name = "locations " + rest[0]
	if rest[0] == "list" {
		_, db, err := c.open(ctx, getenv)
		if err != nil {
			return c.fail(err)
		}
		defer db.Close()
		if err := listLocations(ctx, db, stdout); err != nil {
			return c.fail(err)
		}
		return 0
	}
	cfg, err := c.load(getenv)
	if err != nil {
		return c.fail(err)
	}
	log, err := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return c.fail(err)
	}
	db, err := openStore(ctx, cfg.Database, log)
	if err != nil {
		return c.fail(err)
	}
	defer db.Close()
	opts, err := engineOptions(cfg, log)
	if err != nil {
		return c.fail(err)
	}
	// The same service the API calls, as the operator: it checks and
	// audits add and remove exactly as registerLocation and deleteLocation.
	svc := app.New(app.Deps{Store: db, Engine: ingest.NewEngine(db, opts), RegisterTypes: cfg.Catalog.RegisterTypes, Logger: log}).Catalog
	ctx = app.Operator(ctx, operatorName(getenv))
	switch rest[0] {
	case "add":
		typ, target, err := locationArg(rest[1])
		if err != nil {
			return c.fail(err)
		}
		loc, _, err := svc.RegisterLocation(ctx, typ, target, false)
		if err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(stdout, "registered %s %s\n", loc.ID, loc.Key())
	case "remove":
		n, err := svc.DeleteLocation(ctx, rest[1])
		if err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(stdout, "deleted location %s and %s\n", rest[1], count(n, "entity"))
	}
	return 0
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// locationArg splits the TARGET of greenroom locations add into a type and
// a target, a file path made absolute; the service validates the rest, as
// it does for registerLocation, so that a refused target is audited alike.
func locationArg(s string) (typ, target string, err error) {
	typ, target = ingest.TypeFile, strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(target, "url:"):
		return ingest.TypeURL, strings.TrimPrefix(target, "url:"), nil
	case strings.HasPrefix(target, "http://"), strings.HasPrefix(target, "https://"):
		return ingest.TypeURL, target, nil
	}
	target = strings.TrimPrefix(target, "file:")
	if target == "" {
		return "", "", errors.New("the location has no target")
	}
	abs, err := filepath.Abs(target)
	return typ, abs, err
}

// operatorName is who runs a greenroom command, for the audit log
// (cli:<OS user>).
func operatorName(getenv func(string) string) string {
	name := getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	return strings.ToLower(name)
}

// listLocations prints one line per location: id, type, target, whether it
// is configured or registered, and how many errors it has.
func listLocations(ctx context.Context, db *store.DB, w io.Writer) error {
	locs, err := db.Locations(ctx)
	if err != nil {
		return err
	}
	for _, l := range locs {
		problems, err := db.LocationErrors(ctx, l.ID)
		if err != nil {
			return err
		}
		errs := 0
		for _, p := range problems {
			if p.Level != catalog.LevelWarning {
				errs++
			}
		}
		origin := "registered"
		if l.Configured {
			origin = "configured"
		}
		fmt.Fprintf(w, "%s  %-4s  %-10s  %-9s  %s\n", l.ID, l.Type, origin, count(errs, "error"), l.Target)
	}
	fmt.Fprintln(w, count(len(locs), "location"))
	return nil
}
