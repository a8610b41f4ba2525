// Command techradar is Greenroom's Tech Radar plugin, its own process. For
// now it serves a radar file (Backstage's TechRadarLoaderResponse as JSON
// or YAML, or Roadie's CSV; see package radar) at Backstage's
// GET /api/tech-radar/data, so that Backstage's stock Tech Radar page can
// show it: the GraphQL subgraph of issue 13 comes next.
//
//	go run ./plugins/techradar --radar examples/techradar/radar.yaml
//
// The file is read again when it changes; a change that does not parse
// is logged and the last good radar keeps serving.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/greenroomhq/greenroom/plugins/techradar/radar"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "techradar:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("techradar", flag.ContinueOnError)
	file := fs.String("radar", "", "the radar file: .json, .yaml or .yml (Backstage's format), or .csv (Roadie's)")
	listen := fs.String("listen", "127.0.0.1:7008", "the address to serve on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("--radar FILE is needed")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	src := &source{path: *file, log: log}
	if err := src.load(); err != nil {
		return err // the first radar must be good
	}
	srv := &http.Server{Addr: *listen, Handler: src.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Info("serving the tech radar", "radar", *file, "url", "http://"+*listen+"/api/tech-radar/data")
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// source is the radar file, read again when its modification time or size
// changes, looked at no more than once a second.
type source struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	data    []byte // the last good radar, as Backstage's response
	modTime time.Time
	size    int64
	looked  time.Time
}

// load reads the file; a radar that does not parse leaves the last good
// one serving and is returned.
func (s *source) load() error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return err
	}
	if fi.Size() > radar.MaxFileSize {
		return fmt.Errorf("%s: %d bytes, more than the %d a radar file may have", s.path, fi.Size(), radar.MaxFileSize)
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	s.modTime, s.size = fi.ModTime(), fi.Size() // a bad file is not read again until it changes
	r, err := radar.Parse(s.path, data)
	if err != nil {
		return err
	}
	if s.data, err = r.Backstage(); err != nil {
		return err
	}
	return nil
}

// current returns the radar as Backstage's response, reading the file
// again first if it changed.
func (s *source) current() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.looked) >= time.Second {
		s.looked = time.Now()
		if fi, err := os.Stat(s.path); err == nil && (!fi.ModTime().Equal(s.modTime) || fi.Size() != s.size) {
			if err := s.load(); err != nil {
				s.log.Error("the radar file changed and does not parse; the last good radar keeps serving", "err", err)
			}
		}
	}
	return s.data
}

func (s *source) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/tech-radar/data", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(s.current())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write([]byte(`{"status":"ok"}`))
	})
	return mux
}
