package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// Observer watches the server's traffic, for metrics and traces (see
// internal/telemetry). It is called on every request: it must be cheap.
type Observer interface {
	// ObserveRequest is told of every HTTP request once it is answered.
	// route is one of the server's routes ("/graphql", "/healthz", …) or
	// "other", and method one of the standard methods or "other", so that
	// neither repeats what a client made up.
	ObserveRequest(route, method string, status int, d time.Duration)
	// StartOperation is called as gqlgen answers one GraphQL operation,
	// one of a batch included, whether it runs or is refused first. The
	// operation runs in the context it returns (which may carry a span);
	// end is called once with the codes of its response's errors, one per
	// error.
	StartOperation(ctx context.Context, op Operation) (_ context.Context, end func(codes []string))
}

// Operation describes a GraphQL operation to an [Observer].
type Operation struct {
	// Name is the operation's name, as the client chose it: "" for an
	// anonymous operation. Type is "query", "mutation" or
	// "subscription", or "" when the request named no operation the
	// server could find (it did not parse, say); Name is "" then too.
	Name, Type string
	// Start is when the server began to work on it: parsing and
	// validation are part of its time.
	Start time.Time
}

// observeOperations is the gqlgen extension that tells an [Observer] of
// each operation. As a response interceptor it sees the operations that
// run, and the ones refused before running (parse, validation and limit
// errors), whose responses gqlgen dispatches through the same chain.
type observeOperations struct{ o Observer }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = observeOperations{}

// ExtensionName implements [graphql.HandlerExtension].
func (observeOperations) ExtensionName() string { return "Observe" }

// Validate implements [graphql.HandlerExtension].
func (observeOperations) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse implements [graphql.ResponseInterceptor].
func (x observeOperations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	op := Operation{Start: time.Now()}
	if graphql.HasOperationContext(ctx) {
		opCtx := graphql.GetOperationContext(ctx)
		if !opCtx.Stats.OperationStart.IsZero() {
			op.Start = opCtx.Stats.OperationStart
		}
		if opCtx.Operation != nil {
			op.Name, op.Type = opCtx.Operation.Name, string(opCtx.Operation.Operation)
		}
	}
	ctx, end := x.o.StartOperation(ctx, op)
	resp := next(ctx)
	var codes []string
	if resp != nil && len(resp.Errors) > 0 {
		codes = make([]string, len(resp.Errors))
		for i, e := range resp.Errors {
			code, _ := e.Extensions["code"].(string)
			if code == "" {
				code = "UNKNOWN"
			}
			codes[i] = code
		}
	}
	end(codes)
	return resp
}

// route names the route of path, from a fixed set.
func route(path string) string {
	switch path {
	case "/graphql", "/", "/healthz", "/readyz", "/metrics":
		return path
	}
	if strings.HasPrefix(path, "/graphiql/") {
		return "/graphiql/{name}"
	}
	if strings.HasPrefix(path, "/docs/") {
		return "/docs/{namespace}/{kind}/{name}/{path}"
	}
	if strings.HasPrefix(path, "/api/techdocs/") {
		return "/api/techdocs/{route}"
	}
	if rest, ok := strings.CutPrefix(path, "/api/catalog/"); ok {
		switch {
		case rest == "entities", rest == "entities/by-query", rest == "entities/by-refs", rest == "entity-facets":
			return path
		case strings.HasPrefix(rest, "entities/by-name/"):
			return "/api/catalog/entities/by-name/{kind}/{namespace}/{name}"
		}
	}
	return "other"
}

// method names a request's method, from a fixed set.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodOptions, http.MethodHead,
		http.MethodPut, http.MethodPatch, http.MethodDelete:
		return m
	}
	return "other"
}
