package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// NewTracerProvider returns a tracer provider that exports spans in
// batches over OTLP/HTTP (protobuf) to tracesURL, the full URL of a
// collector's traces endpoint ("http://collector:4318/v1/traces"). The
// exporter's other OTEL_EXPORTER_OTLP_* variables (headers, timeout,
// compression, certificates), the sampler's (OTEL_TRACES_SAMPLER; every
// trace by default) and the resource's (OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES) are honoured. Shut it down to flush the spans
// it still holds.
func NewTracerProvider(ctx context.Context, tracesURL, version string) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(tracesURL))
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceNameKey.String("greenroom"), semconv.ServiceVersionKey.String(version)),
		resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}
