package telemetry

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/greenroomhq/greenroom/internal/jobs"
	"github.com/greenroomhq/greenroom/internal/store"
)

var _ jobs.Observer = (*Observer)(nil)

// jobMetrics count and time the attempts at jobs this process runs.
type jobMetrics struct {
	attempts *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newJobMetrics() jobMetrics {
	return jobMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "greenroom_job_attempts_total",
			Help: "Attempts at jobs run by this process, by kind and outcome (completed, snoozed: done until its next run, failed, timed_out, panicked, cancelled).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "greenroom_job_duration_seconds",
			Help:    "Time an attempt at a job ran, by kind.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300, 900},
		}, []string{"kind"}),
	}
}

// StartJob implements [jobs.Observer]: it counts attempts by kind and
// outcome, times them and, with tracing on, runs each in a span.
func (o *Observer) StartJob(ctx context.Context, job *rivertype.JobRow) (context.Context, func(jobs.Outcome)) {
	start := time.Now()
	var span trace.Span
	if o.tracer != nil {
		ctx, span = o.tracer.Start(ctx, "job "+job.Kind, trace.WithAttributes(
			attribute.String("greenroom.job.kind", job.Kind),
			attribute.Int64("greenroom.job.id", job.ID),
			attribute.Int("greenroom.job.attempt", job.Attempt)))
	}
	return ctx, func(out jobs.Outcome) {
		o.jobs.attempts.WithLabelValues(job.Kind, string(out)).Inc()
		o.jobs.duration.WithLabelValues(job.Kind).Observe(time.Since(start).Seconds())
		if span != nil {
			span.SetAttributes(attribute.String("greenroom.job.outcome", string(out)))
			switch out {
			case jobs.OutcomeFailed, jobs.OutcomeTimedOut, jobs.OutcomePanicked:
				span.SetStatus(codes.Error, string(out))
			}
			span.End()
		}
	}
}

// JobCounter counts the jobs in the database by kind and state.
type JobCounter interface {
	JobCounts(ctx context.Context) ([]store.JobCount, error)
}

// jobCollector reads the job table when scraped, so that every replica
// reports the same queue.
type jobCollector struct {
	c    JobCounter
	jobs *prometheus.Desc
}

// NewJobCollector returns the collector of the jobs waiting, running and
// failed, by kind and state, to [Observer.Register].
func NewJobCollector(c JobCounter) prometheus.Collector {
	return &jobCollector{c: c, jobs: prometheus.NewDesc("greenroom_jobs",
		"Jobs in the database by kind and state (available, scheduled, running, retryable, completed, discarded: failed for good, cancelled).",
		[]string{"kind", "state"}, nil)}
}

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.jobs }

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := c.c.JobCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.jobs, err)
		return
	}
	for _, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(n.Count), n.Kind, n.State)
	}
}
