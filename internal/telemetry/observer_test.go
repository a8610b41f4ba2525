package telemetry_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/server"
	"github.com/greenroomhq/greenroom/internal/telemetry"
)

// TestObserver_OperationNames keeps the first names and counts the rest as
// "(other)"; anonymous operations and requests with no operation have
// labels of their own, which no GraphQL name can take.
func TestObserver_OperationNames(t *testing.T) {
	o := telemetry.New(telemetry.Options{MaxOperationNames: 2})
	ctx := context.Background()
	for _, op := range []server.Operation{
		{Name: "A", Type: "query"}, {Name: "", Type: "query"}, {Name: "B", Type: "mutation"},
		{Name: "C", Type: "query"}, {Name: "A", Type: "query"}, {Name: "D", Type: "query"}, {},
	} {
		op.Start = time.Now()
		_, end := o.StartOperation(ctx, op)
		end(nil)
	}
	var got []string
	for line := range strings.Lines(scrapeText(t, o)) {
		if rest, ok := strings.CutPrefix(line, "greenroom_graphql_operation_duration_seconds_count"); ok {
			got = append(got, strings.TrimSpace(rest))
		}
	}
	want := []string{
		`{operation="(anonymous)",type="query"} 1`,
		`{operation="(none)",type="unknown"} 1`,
		`{operation="(other)",type="query"} 2`,
		`{operation="A",type="query"} 2`,
		`{operation="B",type="mutation"} 1`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("operation series mismatch (-want +got):\n%s", diff)
	}
}

func TestObserver_Labels(t *testing.T) {
	o := telemetry.New(telemetry.Options{MaxOperationNames: 2})
	ctx := context.Background()
	for i := range 5 {
		_, end := o.StartOperation(ctx, server.Operation{Name: fmt.Sprintf("Op%d", i), Type: "query", Start: time.Now()})
		end([]string{"NOT_FOUND", "NOT_FOUND"})
	}
	o.ObserveRequest("/graphql", "POST", 200, time.Millisecond)
	body := scrapeText(t, o)
	for _, want := range []string{
		`greenroom_graphql_errors_total{code="NOT_FOUND",operation="Op0",type="query"} 2`,
		`greenroom_graphql_errors_total{code="NOT_FOUND",operation="(other)",type="query"} 6`,
		`greenroom_graphql_operation_duration_seconds_count{operation="(other)",type="query"} 3`,
		`greenroom_http_request_duration_seconds_count{code="200",method="POST",route="/graphql"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("no %s in\n%s", want, body)
		}
	}
}

// BenchmarkObserver_Request measures what the observer adds to one GraphQL
// request: the HTTP observation and one operation's.
func BenchmarkObserver_Request(b *testing.B) {
	o := telemetry.New(telemetry.Options{})
	ctx := context.Background()
	op := server.Operation{Name: "Entity", Type: "query", Start: time.Now()}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, end := o.StartOperation(ctx, op)
			end(nil)
			o.ObserveRequest("/graphql", "POST", 200, time.Millisecond)
		}
	})
}

// scrapeText returns what o's /metrics serves.
func scrapeText(t *testing.T, o *telemetry.Observer) string {
	t.Helper()
	rec := httptest.NewRecorder()
	o.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}
