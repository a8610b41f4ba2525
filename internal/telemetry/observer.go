package telemetry

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/server"
)

// Options configures an [Observer].
type Options struct {
	// MaxOperationNames bounds the distinct GraphQL operation names the
	// metrics keep as labels; 0 means [DefaultMaxOperationNames].
	MaxOperationNames int
	// TracerProvider, when set, gets a span for every GraphQL operation
	// and refresh; nil traces nothing.
	TracerProvider trace.TracerProvider
}

// DefaultMaxOperationNames is how many operation names the metrics keep:
// more than the screens of a portal ask, few enough that the series of a
// histogram by name stay in the thousands.
const DefaultMaxOperationNames = 100

// Labels standing for operation names that are not kept. They are not
// GraphQL names, so no operation can be called that.
const (
	otherOperation     = "(other)"
	anonymousOperation = "(anonymous)"
	noOperation        = "(none)"
)

// latencyBuckets span the reads the cache serves (a fraction of a
// millisecond) to requests near the API's timeout (30 s by default).
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Observer records metrics, and traces when a tracer provider is given, of
// the server's requests and operations and of ingestion's refreshes. Its
// methods are safe for concurrent use.
type Observer struct {
	reg    *prometheus.Registry
	tracer trace.Tracer // nil: tracing off

	requests   *prometheus.HistogramVec
	operations *prometheus.HistogramVec
	opErrors   *prometheus.CounterVec
	refreshes  *prometheus.CounterVec
	refreshDur *prometheus.HistogramVec
	jobs       jobMetrics

	maxNames int
	namesMu  sync.RWMutex
	names    map[string]bool
}

var (
	_ server.Observer = (*Observer)(nil)
	_ ingest.Observer = (*Observer)(nil)
)

// New returns an Observer with a registry of its own, holding Greenroom's
// metrics and the Go runtime and process collectors.
func New(opts Options) *Observer {
	if opts.MaxOperationNames <= 0 {
		opts.MaxOperationNames = DefaultMaxOperationNames
	}
	o := &Observer{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "greenroom_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route, method and status code.",
			Buckets: latencyBuckets,
		}, []string{"route", "method", "code"}),
		operations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "greenroom_graphql_operation_duration_seconds",
			Help:    "Time to answer GraphQL operations, parsing and validation included, by operation name and type.",
			Buckets: latencyBuckets,
		}, []string{"operation", "type"}),
		opErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "greenroom_graphql_errors_total",
			Help: "Errors in GraphQL responses, by operation name and type and by error code.",
		}, []string{"operation", "type", "code"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "greenroom_location_refreshes_total",
			Help: "Refreshes of locations, by location id and result (ok: committed; error: failed before its last change set).",
		}, []string{"location", "result"}),
		refreshDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "greenroom_location_refresh_duration_seconds",
			Help:    "Time to refresh a location, by result.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300},
		}, []string{"result"}),
		jobs:     newJobMetrics(),
		maxNames: opts.MaxOperationNames,
		names:    map[string]bool{},
	}
	if opts.TracerProvider != nil {
		o.tracer = opts.TracerProvider.Tracer("github.com/greenroomhq/greenroom")
	}
	o.reg.MustRegister(o.requests, o.operations, o.opErrors, o.refreshes, o.refreshDur, o.jobs.attempts, o.jobs.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return o
}

// Handler serves the metrics in Prometheus's text format (or OpenMetrics,
// when the scraper asks for it).
func (o *Observer) Handler() http.Handler {
	return promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{Registry: o.reg, EnableOpenMetrics: true})
}

// Register adds collectors to the Observer's registry.
func (o *Observer) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := o.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// ObserveRequest implements [server.Observer].
func (o *Observer) ObserveRequest(route, method string, status int, d time.Duration) {
	o.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// StartOperation implements [server.Observer]: it times the operation,
// counts its errors by code and, with tracing on, runs it in a span named
// for its type and name ("query EntityPage").
func (o *Observer) StartOperation(ctx context.Context, op server.Operation) (context.Context, func(codes []string)) {
	name, typ := o.operationLabel(op), op.Type
	if typ == "" {
		typ = "unknown"
	}
	var span trace.Span
	if o.tracer != nil {
		spanName := "GraphQL operation"
		if op.Type != "" {
			spanName = op.Type
			if op.Name != "" {
				spanName += " " + op.Name
			}
		}
		// A span keeps the name as sent: traces have no cardinality to
		// bound, and the parser admits only GraphQL names.
		ctx, span = o.tracer.Start(ctx, spanName, trace.WithTimestamp(op.Start), trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("graphql.operation.type", typ), attribute.String("graphql.operation.name", op.Name)))
	}
	return ctx, func(errCodes []string) {
		o.operations.WithLabelValues(name, typ).Observe(time.Since(op.Start).Seconds())
		for _, c := range errCodes {
			o.opErrors.WithLabelValues(name, typ, c).Inc()
		}
		if span != nil {
			if len(errCodes) > 0 {
				span.SetAttributes(attribute.StringSlice("graphql.error.codes", compact(errCodes)))
				span.SetStatus(codes.Error, "the response has errors")
			}
			span.End()
		}
	}
}

// operationLabel returns the label of op's name: the name itself while
// fewer than maxNames distinct names have been seen (or it is one of
// them), "(other)" after that.
func (o *Observer) operationLabel(op server.Operation) string {
	switch {
	case op.Type == "":
		return noOperation
	case op.Name == "":
		return anonymousOperation
	}
	o.namesMu.RLock()
	known, full := o.names[op.Name], len(o.names) >= o.maxNames
	o.namesMu.RUnlock()
	if known {
		return op.Name
	}
	if full {
		return otherOperation
	}
	o.namesMu.Lock()
	defer o.namesMu.Unlock()
	if len(o.names) >= o.maxNames && !o.names[op.Name] {
		return otherOperation
	}
	o.names[op.Name] = true
	return op.Name
}

// compact returns the distinct codes, sorted.
func compact(cs []string) []string {
	out := slices.Clone(cs)
	slices.Sort(out)
	return slices.Compact(out)
}

// StartRefresh implements [ingest.Observer]: it counts refreshes by
// location and result, times them and, with tracing on, runs each in a
// span.
func (o *Observer) StartRefresh(ctx context.Context, loc catalog.Location) (context.Context, func(catalog.RefreshStats, error)) {
	start := time.Now()
	var span trace.Span
	if o.tracer != nil {
		ctx, span = o.tracer.Start(ctx, "refresh location", trace.WithAttributes(
			attribute.String("greenroom.location.id", loc.ID),
			attribute.String("greenroom.location.type", loc.Type),
			attribute.String("greenroom.location.key", audit.RedactString(loc.Key()))))
	}
	return ctx, func(stats catalog.RefreshStats, err error) {
		result := "ok"
		if err != nil {
			result = "error"
		}
		o.refreshes.WithLabelValues(loc.ID, result).Inc()
		o.refreshDur.WithLabelValues(result).Observe(time.Since(start).Seconds())
		if span != nil {
			span.SetAttributes(attribute.Int("greenroom.refresh.emitted", stats.Emitted),
				attribute.Int("greenroom.refresh.errors", stats.Errors))
			if err != nil {
				// The error may hold SQL or driver text: a trace is for
				// operators, as the log is.
				span.RecordError(err)
				span.SetStatus(codes.Error, "the refresh failed")
			}
			span.End()
		}
	}
}

// Propagate returns next with the W3C trace context of each request's
// headers (traceparent, tracestate) put in its context, so that the spans
// of its operations join the caller's trace (a gateway's, say). With
// tracing off it returns next itself.
func (o *Observer) Propagate(next http.Handler) http.Handler {
	if o.tracer == nil {
		return next
	}
	var tc propagation.TraceContext
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("traceparent") != "" {
			r = r.WithContext(tc.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
		}
		next.ServeHTTP(w, r)
	})
}
