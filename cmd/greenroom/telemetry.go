package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/jobs"
	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/telemetry"
)

// operations is the server's telemetry: the observer, the tracer provider
// when tracing is on, and the listener of /metrics when it has one of its
// own.
type operations struct {
	// obs is nil when metrics are off and tracing too: nothing watches.
	obs    *telemetry.Observer
	tracer trace.TracerProvider // nil: tracing off
	// onAPI is the /metrics handler for the API's listener, or nil.
	onAPI    http.Handler
	srv      *http.Server
	ln       net.Listener
	shutdown func(context.Context) error
}

// newOperations builds the tracer provider from cfg, unless tp is given
// (tests give an in-memory one), and the metrics observer.
func newOperations(ctx context.Context, cfg Config, tp trace.TracerProvider) (*operations, error) {
	ops := &operations{tracer: tp, shutdown: func(context.Context) error { return nil }}
	if tp == nil {
		if u := cfg.tracesURL(); u != "" {
			sdk, err := telemetry.NewTracerProvider(ctx, u, version)
			if err != nil {
				return nil, err
			}
			ops.tracer, ops.shutdown = sdk, sdk.Shutdown
		}
	}
	if cfg.Metrics.Listen == "off" && ops.tracer == nil {
		return ops, nil
	}
	ops.obs = telemetry.New(telemetry.Options{MaxOperationNames: cfg.Metrics.MaxOperationNames, TracerProvider: ops.tracer})
	if cfg.Metrics.Listen == "" {
		ops.onAPI = ops.obs.Handler()
	}
	return ops, nil
}

// serverObserver returns the observer the server tells of its traffic,
// or nil (an untyped one) when nothing watches.
func (o *operations) serverObserver() server.Observer {
	if o.obs == nil {
		return nil
	}
	return o.obs
}

// ingestObserver returns the observer of refreshes, or nil.
func (o *operations) ingestObserver() ingest.Observer {
	if o.obs == nil {
		return nil
	}
	return o.obs
}

// propagate joins the spans of a request to its caller's trace, when
// tracing is on.
func (o *operations) propagate(h http.Handler) http.Handler {
	if o.obs == nil {
		return h
	}
	return o.obs.Propagate(h)
}

// register adds the collectors of the store and of the job table to the
// metrics, if any.
func (o *operations) register(s telemetry.Store, j telemetry.JobCounter) error {
	if o.obs == nil {
		return nil
	}
	return o.obs.Register(telemetry.NewStoreCollector(s), telemetry.NewJobCollector(j))
}

// jobObserver returns the observer of jobs, or nil.
func (o *operations) jobObserver() jobs.Observer {
	if o.obs == nil {
		return nil
	}
	return o.obs
}

// serve starts the /metrics listener of its own, when metrics.listen asks
// for one.
func (o *operations) serve(cfg Config, log *slog.Logger) error {
	if o.obs == nil || cfg.Metrics.Listen == "" || cfg.Metrics.Listen == "off" {
		return nil
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Listen)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w", cfg.Metrics.Listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", o.obs.Handler())
	o.ln = ln
	o.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := o.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", "http://"+ln.Addr().String()+"/metrics")
	return nil
}

// close stops the metrics listener and flushes the spans not yet sent.
func (o *operations) close(ctx context.Context) error {
	var err error
	if o.srv != nil {
		err = o.srv.Shutdown(ctx)
	}
	return errors.Join(err, o.shutdown(ctx))
}

// MetricsAddr returns the address of the /metrics listener of its own, or
// "" when metrics.listen names none.
func (m *Main) MetricsAddr() string {
	if m.ops == nil || m.ops.ln == nil {
		return ""
	}
	return m.ops.ln.Addr().String()
}
