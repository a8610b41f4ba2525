package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// runMain runs m on a free port over dsn with the example catalog and a
// location whose only file is broken, and waits until it is ready.
func runMain(t *testing.T, m *Main, dsn string) string {
	t.Helper()
	dir := t.TempDir()
	m.Config.Listen = "127.0.0.1:0"
	m.Config.Database = dsn
	m.Config.Locations = []string{
		filepath.Join("..", "..", "examples", "catalog", "all.yaml"),
		mustWrite(t, dir, "broken.yaml", "kind: [unclosed\n"),
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	base := "http://" + m.Addr()
	waitReady(t, base)
	return base
}

// post sends one GraphQL request body as it is.
func post(t *testing.T, base, body string) {
	t.Helper()
	resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// scrape reads url's metrics.
func scrape(t *testing.T, url string, header http.Header) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// series returns the metrics of family name whose labels include want.
func series(mfs map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	var out []*dto.Metric
	mf := mfs[name]
	if mf == nil {
		return nil
	}
next:
	for _, m := range mf.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

// value returns the value of the one series of name with labels, a
// histogram's count.
func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	ms := series(mfs, name, labels)
	if len(ms) != 1 {
		t.Fatalf("%s%v: %d series; want 1", name, labels, len(ms))
	}
	m := ms[0]
	switch {
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	t.Fatalf("%s: no value", name)
	return 0
}

// TestMain_Metrics scrapes /metrics of a running server, on each database,
// after the first refresh of its locations and a few requests.
func TestMain_Metrics(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dsn string) {
		m := &Main{Config: DefaultConfig()}
		m.Config.API.MaxAliases = 1
		m.Config.Metrics.MaxOperationNames = 3
		base := runMain(t, m, dsn)

		const page = `{"query":"query Page { entities(first: 3) { edges { node { ref owner { ref } } } } }"}`
		for range 3 {
			post(t, base, page)
		}
		post(t, base, `{"query":"{ entity(ref: \"component:default/catalog-service\") { ref } }"}`)
		post(t, base, `{"query":"query Aliased { a: __typename b: __typename }"}`) // over the alias limit
		post(t, base, `{"query":"{ nope }"}`)                                      // fails validation
		post(t, base, `{"query":"query Third { __typename }"}`)
		post(t, base, `{"query":"query Fourth { __typename }"}`) // past the three names kept
		post(t, base, `{"query":"query Fifth { __typename }"}`)
		post(t, base, `[{"query":"query Page { __typename }"},{"query":"query Sixth { __typename }"}]`)

		// Before authentication: a token that would be refused does not
		// stop a scrape.
		mfs := scrape(t, base+"/metrics", http.Header{"Authorization": {"Bearer not-a-token"}})

		op := "greenroom_graphql_operation_duration_seconds"
		for _, c := range []struct {
			name, typ string
			want      float64
		}{
			{"Page", "query", 4}, {"(anonymous)", "query", 1}, {"Aliased", "query", 1},
			{"(none)", "unknown", 1}, {"Third", "query", 1}, {"(other)", "query", 3},
		} {
			if got := value(t, mfs, op, map[string]string{"operation": c.name, "type": c.typ}); got != c.want {
				t.Errorf("%s{operation=%q}: %v operations; want %v", op, c.name, got, c.want)
			}
		}
		if n := len(series(mfs, op, map[string]string{"operation": "Fourth"})); n != 0 {
			t.Errorf("operation Fourth has %d series; want none, past metrics.maxOperationNames", n)
		}
		errs := "greenroom_graphql_errors_total"
		if got := value(t, mfs, errs, map[string]string{"operation": "Aliased", "code": "INVALID"}); got != 1 {
			t.Errorf("%s{operation=Aliased,code=INVALID} = %v; want 1", errs, got)
		}
		if got := value(t, mfs, errs, map[string]string{"operation": "(none)", "code": "GRAPHQL_VALIDATION_FAILED"}); got != 1 {
			t.Errorf("%s{operation=(none)} = %v; want 1", errs, got)
		}
		if n := len(series(mfs, errs, map[string]string{"operation": "Page"})); n != 0 {
			t.Errorf("Page has %d error series; want none", n)
		}

		reqs := "greenroom_http_request_duration_seconds"
		if got := value(t, mfs, reqs, map[string]string{"route": "/graphql", "method": "POST", "code": "200"}); got < 9 {
			t.Errorf("%s{route=/graphql,code=200} = %v; want at least 9", reqs, got)
		}
		if got := value(t, mfs, reqs, map[string]string{"route": "/readyz", "method": "GET", "code": "200"}); got < 1 {
			t.Errorf("%s{route=/readyz} = %v; want at least 1", reqs, got)
		}

		// Both locations refreshed once; the broken one has its error.
		infos := series(mfs, "greenroom_location_info", nil)
		if len(infos) != 2 {
			t.Fatalf("greenroom_location_info: %d series; want 2", len(infos))
		}
		for _, info := range infos {
			labels := map[string]string{}
			for _, l := range info.Label {
				labels[l.GetName()] = l.GetValue()
			}
			id := labels["location"]
			if got := value(t, mfs, "greenroom_location_refreshes_total", map[string]string{"location": id, "result": "ok"}); got < 1 {
				t.Errorf("location %s: %v refreshes; want at least 1", labels["key"], got)
			}
			errors := value(t, mfs, "greenroom_location_processing_errors", map[string]string{"location": id})
			if broken := strings.HasSuffix(labels["key"], "broken.yaml"); broken != (errors > 0) {
				t.Errorf("location %s: %v processing errors", labels["key"], errors)
			}
		}
		if got := value(t, mfs, "greenroom_location_refresh_duration_seconds", map[string]string{"result": "ok"}); got < 2 {
			t.Errorf("refresh durations: %v; want at least 2", got)
		}

		if hits := value(t, mfs, "greenroom_cache_hits_total", nil); hits < 1 {
			t.Errorf("cache hits %v; want some: the page was read three times", hits)
		}
		if misses := value(t, mfs, "greenroom_cache_misses_total", nil); misses < 1 {
			t.Errorf("cache misses %v; want some", misses)
		}
		if got := value(t, mfs, "greenroom_db_max_open_connections", map[string]string{"pool": "writer"}); got < 1 {
			t.Errorf("writer pool max open %v", got)
		}
		for _, name := range []string{"greenroom_db_open_connections", "greenroom_db_in_use_connections", "greenroom_db_idle_connections",
			"greenroom_db_wait_count_total", "greenroom_db_wait_duration_seconds_total", "go_goroutines", "process_start_time_seconds"} {
			if mfs[name] == nil {
				t.Errorf("no %s", name)
			}
		}
		if got := value(t, mfs, "greenroom_location_scrape_errors", nil); got != 0 {
			t.Errorf("scrape errors %v", got)
		}
	})
}

// TestMain_MetricsListen serves /metrics on a listener of its own, or not
// at all.
func TestMain_MetricsListen(t *testing.T) {
	get := func(url string) int {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	t.Run("OwnListener", func(t *testing.T) {
		m := &Main{Config: DefaultConfig()}
		m.Config.Metrics.Listen = "127.0.0.1:0"
		base := runMain(t, m, filepath.Join(t.TempDir(), "greenroom.db"))
		post(t, base, `{"query":"query Ping { __typename }"}`)
		mfs := scrape(t, "http://"+m.MetricsAddr()+"/metrics", nil)
		if got := value(t, mfs, "greenroom_graphql_operation_duration_seconds", map[string]string{"operation": "Ping"}); got != 1 {
			t.Errorf("Ping: %v operations; want 1", got)
		}
		if code := get(base + "/metrics"); code != http.StatusNotFound {
			t.Errorf("/metrics on the API's listener: %d; want 404", code)
		}
	})
	t.Run("Off", func(t *testing.T) {
		m := &Main{Config: DefaultConfig()}
		m.Config.Metrics.Listen = "off"
		base := runMain(t, m, filepath.Join(t.TempDir(), "greenroom.db"))
		if code := get(base + "/metrics"); code != http.StatusNotFound {
			t.Errorf("/metrics: %d; want 404", code)
		}
		if m.MetricsAddr() != "" {
			t.Errorf("MetricsAddr %q; want none", m.MetricsAddr())
		}
	})
}

// TestMain_Tracing records the spans of a running server with the SDK's
// in-memory exporter, on each database: one per refresh and per GraphQL
// operation, none per field, and the SQL statements inside them.
func TestMain_Tracing(t *testing.T) {
	eachDatabase(t, testTracing)
}

func testTracing(t *testing.T, dsn string) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	m := &Main{Config: DefaultConfig(), TracerProvider: tp}
	base := runMain(t, m, dsn)

	spans := exp.GetSpans()
	refreshes := 0
	for _, s := range spans {
		if s.Name == "refresh location" {
			refreshes++
			if !hasChild(spans, s, "sql.") {
				t.Errorf("refresh span %v has no SQL span inside", s.Attributes)
			}
		}
	}
	if refreshes != 2 {
		t.Errorf("%d refresh spans; want 2", refreshes)
	}

	exp.Reset()
	// The caller's trace, as a gateway would send it.
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql",
		strings.NewReader(`{"query":"query Owners { entities(first: 5) { edges { node { ref owner { ref } } } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	post(t, base, `{"query":"mutation Gone { deleteLocation(id: \"nope\") { id } }"}`)
	spans = exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = s
		if strings.HasPrefix(s.Name, "Query.") || strings.HasPrefix(s.Name, "Entity.") {
			t.Errorf("span %q: want no span per field", s.Name)
		}
	}
	q, ok := byName["query Owners"]
	if !ok {
		t.Fatalf("no span of the query; spans: %v", names(spans))
	}
	attrs := map[string]string{}
	for _, a := range q.Attributes {
		attrs[string(a.Key)] = a.Value.Emit()
	}
	if attrs["graphql.operation.name"] != "Owners" || attrs["graphql.operation.type"] != "query" {
		t.Errorf("query span attributes %v", attrs)
	}
	if got := q.SpanContext.TraceID().String(); got != traceID || q.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("query span in trace %s, parent %s; want the caller's", got, q.Parent.SpanID())
	}
	if !hasChild(spans, q, "sql.") {
		t.Errorf("the query's span has no SQL span inside; spans: %v", names(spans))
	}
	mut, ok := byName["mutation Gone"]
	if !ok {
		t.Fatalf("no span of the mutation; spans: %v", names(spans))
	}
	if mut.Status.Code.String() != "Error" {
		t.Errorf("mutation span status %v; want Error", mut.Status)
	}
}

// hasChild reports whether a span of spans whose name starts with prefix
// descends from parent.
func hasChild(spans []tracetest.SpanStub, parent tracetest.SpanStub, prefix string) bool {
	byID := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID().String()] = s
	}
	for _, s := range spans {
		if !strings.HasPrefix(s.Name, prefix) {
			continue
		}
		for p := s; p.Parent.IsValid(); {
			if p.Parent.SpanID() == parent.SpanContext.SpanID() {
				return true
			}
			var ok bool
			if p, ok = byID[p.Parent.SpanID().String()]; !ok {
				break
			}
		}
	}
	return false
}

func names(spans []tracetest.SpanStub) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// TestMain_TracingOTLP sends spans to an OTLP/HTTP endpoint given by the
// standard environment variable, and flushes them on Close.
func TestMain_TracingOTLP(t *testing.T) {
	var mu sync.Mutex
	var posts []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, fmt.Sprintf("%s %s %s %d", r.Method, r.URL.Path, r.Header.Get("Content-Type"), len(body)))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	f := newConfigFlags("serve", &bytes.Buffer{})
	cfg, err := f.load(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL}))
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg}
	base := runMain(t, m, filepath.Join(t.TempDir(), "greenroom.db"))
	post(t, base, `{"query":"query Ping { __typename }"}`)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) == 0 {
		t.Fatal("the collector received nothing")
	}
	for _, p := range posts {
		if !strings.HasPrefix(p, "POST /v1/traces application/x-protobuf ") {
			t.Errorf("collector received %s", p)
		}
	}
}

func TestConfig_Operations(t *testing.T) {
	load := func(yaml string, vars map[string]string) (Config, error) {
		f := newConfigFlags("serve", &bytes.Buffer{})
		f.fs.Parse([]string{"--config", mustWrite(t, t.TempDir(), "greenroom.yaml", yaml)})
		return f.load(env(vars))
	}
	t.Run("Defaults", func(t *testing.T) {
		c, err := load("", nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Metrics.Listen != "" || c.tracesURL() != "" {
			t.Errorf("metrics.listen %q, traces URL %q; want /metrics on the API's listener, no tracing", c.Metrics.Listen, c.tracesURL())
		}
	})
	t.Run("FileThenEnv", func(t *testing.T) {
		yaml := "metrics:\n  listen: 127.0.0.1:9100\n  maxOperationNames: 20\ntracing:\n  otlpEndpoint: http://collector:4318/\n"
		c, err := load(yaml, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Metrics.Listen != "127.0.0.1:9100" || c.Metrics.MaxOperationNames != 20 || c.tracesURL() != "http://collector:4318/v1/traces" {
			t.Errorf("got metrics %+v, traces URL %q", c.Metrics, c.tracesURL())
		}
		c, err = load(yaml, map[string]string{"GREENROOM_METRICS_LISTEN": "off", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.test/v1/traces"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Metrics.Listen != "off" || c.tracesURL() != "https://traces.test/v1/traces" {
			t.Errorf("got metrics.listen %q, traces URL %q", c.Metrics.Listen, c.tracesURL())
		}
		c, err = load(yaml, map[string]string{"OTEL_SDK_DISABLED": "true"})
		if err != nil {
			t.Fatal(err)
		}
		if c.tracesURL() != "" {
			t.Errorf("OTEL_SDK_DISABLED: traces URL %q; want none", c.tracesURL())
		}
	})
	for name, yaml := range map[string]string{
		"ErrListen":          "metrics:\n  listen: nine-thousand\n",
		"ErrListenIsAPI":     "listen: 127.0.0.1:7007\nmetrics:\n  listen: 127.0.0.1:7007\n",
		"ErrMaxNames":        "metrics:\n  maxOperationNames: -1\n",
		"ErrTracingEndpoint": "tracing:\n  otlpEndpoint: collector:4318\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := load(yaml, nil); err == nil {
				t.Error("loaded; want an error")
			}
		})
	}
}
