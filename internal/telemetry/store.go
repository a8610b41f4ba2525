package telemetry

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/greenroomhq/greenroom/internal/audit"
	"github.com/greenroomhq/greenroom/internal/store"
)

// Store is what the metrics read from the database, at scrape time.
type Store interface {
	// PoolStats returns the statistics of each connection pool, by name.
	PoolStats() map[string]sql.DBStats
	// CacheStats returns the read cache's hits and misses so far.
	CacheStats() (hits, misses int64)
	// LocationErrorCounts returns every location with the number of
	// processing errors stored on it.
	LocationErrorCounts(ctx context.Context) ([]store.LocationErrorCount, error)
}

// scrapeTimeout bounds the database read of one scrape.
const scrapeTimeout = 5 * time.Second

// storeCollector reads a [Store] when scraped. Processing errors are read
// from the database, not counted as refreshes end, so that every replica
// reports the same numbers whichever of them refreshed a location, and a
// restarted one reports them at once.
type storeCollector struct {
	s Store

	open, inUse, idle, maxOpen, waits, waited *prometheus.Desc
	hits, misses                              *prometheus.Desc
	errs, info, scrapeErr                     *prometheus.Desc
}

// NewStoreCollector returns the collector of s's pools, read cache and
// processing errors, to [Observer.Register].
func NewStoreCollector(s Store) prometheus.Collector {
	pool := []string{"pool"}
	return &storeCollector{
		s:       s,
		open:    prometheus.NewDesc("greenroom_db_open_connections", "Connections open, in use or idle, by pool (writer, reader; PostgreSQL has one pool, writer).", pool, nil),
		inUse:   prometheus.NewDesc("greenroom_db_in_use_connections", "Connections in use, by pool.", pool, nil),
		idle:    prometheus.NewDesc("greenroom_db_idle_connections", "Idle connections, by pool.", pool, nil),
		maxOpen: prometheus.NewDesc("greenroom_db_max_open_connections", "The most connections a pool opens.", pool, nil),
		waits:   prometheus.NewDesc("greenroom_db_wait_count_total", "Times a caller waited for a free connection, by pool.", pool, nil),
		waited:  prometheus.NewDesc("greenroom_db_wait_duration_seconds_total", "Time callers spent waiting for a free connection, by pool.", pool, nil),
		hits:    prometheus.NewDesc("greenroom_cache_hits_total", "Lookups the read cache served: an entity, a ref's relations one way, a page or a count.", nil, nil),
		misses:  prometheus.NewDesc("greenroom_cache_misses_total", "Lookups the read cache missed, which read the database.", nil, nil),
		errs: prometheus.NewDesc("greenroom_location_processing_errors",
			"Processing errors stored on each location by its last refresh, by location id.", []string{"location"}, nil),
		info: prometheus.NewDesc("greenroom_location_info",
			"1 for each registered location, with its type and its key (secrets redacted), to join on location.", []string{"location", "type", "key"}, nil),
		scrapeErr: prometheus.NewDesc("greenroom_location_scrape_errors",
			"1 when the database could not be read for the location metrics in this scrape.", nil, nil),
	}
}

// Describe implements [prometheus.Collector].
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.inUse, c.idle, c.maxOpen, c.waits, c.waited, c.hits, c.misses, c.errs, c.info, c.scrapeErr} {
		ch <- d
	}
}

// Collect implements [prometheus.Collector].
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	for name, st := range c.s.PoolStats() {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(st.OpenConnections), name)
		ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(st.InUse), name)
		ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(st.Idle), name)
		ch <- prometheus.MustNewConstMetric(c.maxOpen, prometheus.GaugeValue, float64(st.MaxOpenConnections), name)
		ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(st.WaitCount), name)
		ch <- prometheus.MustNewConstMetric(c.waited, prometheus.CounterValue, st.WaitDuration.Seconds(), name)
	}
	hits, misses := c.s.CacheStats()
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(hits))
	ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(misses))

	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := c.s.LocationErrorCounts(ctx)
	failed := 0.0
	if err != nil {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(c.scrapeErr, prometheus.GaugeValue, failed)
	for _, lc := range counts {
		l := lc.Location
		ch <- prometheus.MustNewConstMetric(c.errs, prometheus.GaugeValue, float64(lc.Errors), l.ID)
		ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, l.ID, l.Type, audit.RedactString(l.Key()))
	}
}
