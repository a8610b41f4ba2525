// Package telemetry owns what Greenroom tells operators about itself while it
// runs: Prometheus metrics (github.com/prometheus/client_golang) and
// OpenTelemetry traces exported over OTLP.
//
// An [Observer] holds a registry of its own, which the composition root
// (cmd/greenroom) serves at /metrics: nothing is registered with the global
// default registry, so tests and two servers in one process never collide.
// It implements the small observer interfaces the packages it watches
// declare (internal/server's, internal/ingest's), so that none of them
// imports Prometheus or the OpenTelemetry SDK; the store is read at scrape
// time through [Store]. Background jobs are watched the same way: internal/jobs
// declares an observer of each attempt at a job, which the Observer counts
// by kind and outcome, times by kind and traces as a span; the jobs waiting,
// running and failed are read from the job table at scrape time
// ([NewJobCollector]).
//
// Labels never repeat what a client chose without a bound: GraphQL operation
// names are kept for the first [Options.MaxOperationNames] distinct names
// and counted as "(other)" after that, routes and methods come from fixed
// sets, and no label holds a query's text. Locations are labelled by id; the
// info series that names their targets redacts secrets
// (audit.RedactString).
//
// The cost on the request path is a few map lookups and histogram
// observations: about 0.6 µs of CPU per request (BenchmarkObserver_Request),
// 0.3% of one core at the ~5,000 entity reads a second the bench drives, and
// two atomic adds per cache lookup in the store. With tracing off no span is
// started at all;
// with it on, spans are per operation, per refresh and per SQL statement,
// never per GraphQL field.
//
// It imports internal/server, internal/ingest, internal/jobs,
// internal/catalog, internal/audit and internal/store's count types, River's
// job row type, and the Prometheus and OpenTelemetry libraries.
package telemetry
