package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/greenroomhq/greenroom/graph"
	"github.com/greenroomhq/greenroom/internal/gqltype"
	"github.com/greenroomhq/greenroom/internal/loader"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/resolvers"
)

// Options configures the HTTP handler.
type Options struct {
	Resolver *resolvers.Resolver
	// Schema, when set, is served instead of the core's schema over
	// Resolver: a plugin's subgraph (plugins/sdk), under the same
	// transports, limits, budgets and error presenter.
	Schema graphql.ExecutableSchema
	// Loaders is the store the per-operation loaders read from; nil gives
	// operations no loaders (a plugin's schema).
	Loaders loader.Source
	Logger  *slog.Logger
	// Ready reports whether the server can serve: the database answers and
	// the first ingestion pass is done. nil means always ready.
	Ready func(ctx context.Context) error
	// Limits bounds what one request may ask of the server; its zero value
	// stands for [DefaultLimits].
	Limits Limits
	// Authenticate puts the caller's principal in each request's context,
	// or refuses the request (see internal/auth). nil leaves every request
	// anonymous.
	Authenticate func(http.Handler) http.Handler
	// Observer watches every request and GraphQL operation, for metrics
	// and traces; nil watches none.
	Observer Observer
	// REST, when set, serves Backstage's catalog REST endpoints under
	// /api/catalog (internal/restapi), behind the same authentication and
	// sharing the GraphQL requests' slots.
	REST http.Handler
	// Search, when set, serves Backstage's search query endpoint under
	// /api/search (restapi.NewSearch), as REST is served.
	Search http.Handler
	// Docs, when set, serves built TechDocs sites under /docs/
	// (techdocs.Handler), behind the same authentication; BackstageDocs
	// serves Backstage's TechDocs endpoints under /api/techdocs/.
	Docs, BackstageDocs http.Handler
	// Metrics, when set, serves GET /metrics, before authentication: a
	// scraper sends no token, and what it reads is no catalog data.
	Metrics http.Handler
	// Hooks, when set, serves forges' push webhooks under /hooks/
	// (internal/hooks), before authentication: a webhook carries its
	// forge's signature, which the handler checks, and no token.
	Hooks http.Handler
	// Routes are more endpoints, by ServeMux pattern (a plugin's REST
	// API), behind authentication and sharing the GraphQL requests' slots.
	Routes map[string]http.Handler
	// AuthenticateInit decides, as Authenticate does for a request, who a
	// WebSocket's subscriptions run as, from the Authorization value of its
	// connection_init payload (browsers cannot set headers on WebSocket
	// requests). nil leaves them as the upgrade request was authenticated.
	AuthenticateInit func(ctx context.Context, header []string) (context.Context, error)
}

// New returns the HTTP handler of the whole API.
func New(opts Options) http.Handler {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lim := opts.Limits.Effective()
	exec := opts.Schema
	if exec == nil {
		exec = graph.NewExecutableSchema(graph.Config{Resolvers: opts.Resolver, Complexity: complexityRoot()})
	}
	gql := handler.New(exec)
	if opts.Observer != nil {
		// First, so that it is the outermost: it times all the rest.
		gql.Use(observeOperations{opts.Observer})
	}
	transports := []graphql.Transport{transport.Options{}, websocketTransport(lim, opts.AuthenticateInit), transport.SSE{}, get{}, post{}}
	for _, t := range transports {
		gql.AddTransport(t)
	}
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	// Always on: gqlgen's federation code answers _service, which a gateway
	// reads, only where introspection is; the operation limits refuse
	// __schema and __type themselves when it is disabled.
	gql.Use(extension.Introspection{})
	useLimits(gql, lim)
	gql.SetErrorPresenter(timeoutErrors(lim.Timeout, errorPresenter(log)))
	// Fresh loaders for every operation: their caches must not outlive it.
	gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if opts.Loaders != nil {
			ctx = loader.NewContext(ctx, loader.New(opts.Loaders))
		}
		return next(gqltype.WithOutputReserve(gqltype.WithStreamEnd(ctx)))
	})
	// Only the items of a list have siblings to batch with: a resolver
	// outside any list reads at once instead of waiting for a batch, and so
	// does one that gqlgen runs in sequence with its siblings (see
	// gqltype.Sequential), since they cannot ask together. The context
	// passes to the field's children, so each resolver sets it.
	//
	// Each field also spends its operation's budget (see runOperation):
	// one middleware does both, as it runs for every field of every
	// response.
	sequential := sequentialObjects(exec.Schema())
	gql.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		b := budgetOf(ctx)
		if fc != nil && fc.IsResolver {
			ctx = loader.WithDirect(ctx, sequential[fc.Object] || !gqltype.InList(fc))
		}
		if b == nil || fc == nil {
			return next(ctx)
		}
		return b.field(ctx, fc, next)
	})
	gql.SetRecoverFunc(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", p, "stack", string(debug.Stack()))
		return errors.New("internal error")
	})

	mux := http.NewServeMux()
	slots := newSlots(lim.MaxConcurrentRequests, lim.QueueTimeout)
	mux.Handle("/graphql", limitRequests(lim, slots, newStreams(lim.MaxSubscriptions), transports, gql))
	if opts.REST != nil {
		mux.Handle("/api/catalog/", limitREST(lim, slots, opts.REST))
	}
	if opts.Search != nil {
		mux.Handle("/api/search/", limitREST(lim, slots, opts.Search))
	}
	if opts.Docs != nil {
		mux.Handle("GET /docs/", limitREST(lim, slots, opts.Docs))
	}
	if opts.BackstageDocs != nil {
		mux.Handle("GET /api/techdocs/", limitREST(lim, slots, opts.BackstageDocs))
	}
	for pattern, h := range opts.Routes {
		mux.Handle(pattern, limitREST(lim, slots, h))
	}
	mux.HandleFunc("GET /{$}", graphiqlPage)
	mux.HandleFunc("GET /graphiql/{name}", graphiqlAsset)
	mux.HandleFunc("GET /favicon.ico", favicon)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if opts.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := opts.Ready(ctx); err != nil {
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	var h http.Handler = mux
	if opts.Authenticate != nil {
		h = opts.Authenticate(h)
	}
	if opts.Metrics != nil || opts.Hooks != nil {
		outer := http.NewServeMux()
		if opts.Metrics != nil {
			outer.Handle("GET /metrics", opts.Metrics)
		}
		if opts.Hooks != nil {
			outer.Handle("/hooks/", opts.Hooks)
		}
		outer.Handle("/", h)
		h = outer
	}
	// CORS headers go on refusals too, so that a browser can read them.
	return withRequestID(accessLog(log, opts.Observer, writeDeadline(lim.WriteTimeout, corsHandler(lim.CORS, h))))
}

// writeDeadline gives every request d to write its response. It is set on
// each request, not as the HTTP server's WriteTimeout, so that a handler
// that streams (a subscription) can lift it for its own response; and on
// every request, not only GraphQL ones, as it stays on the connection for
// the next request.
func writeDeadline(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
		next.ServeHTTP(w, r)
	})
}

// errorPresenter puts a domain error's code in extensions.code and its
// message in the response. Errors that carry no code are internal: they are
// logged once, with their path, and the client sees only "internal error".
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var pe *portal.Error
		if errors.As(err, &pe) {
			gqlErr.Message = pe.Message
			setCode(gqlErr, pe.Code)
			return gqlErr
		}
		var ge *gqlerror.Error
		if errors.As(err, &ge) && ge.Err == nil {
			// gqlgen's own: parse, validation, argument and APQ errors.
			// Some have no code.
			if _, ok := gqlErr.Extensions["code"]; !ok {
				setCode(gqlErr, portal.EINVALID)
			}
			return gqlErr
		}
		if errors.Is(err, errTooLarge) {
			gqlErr.Message = "the response is too large"
			setCode(gqlErr, portal.EINVALID)
			return gqlErr
		}
		if errors.Is(err, context.Canceled) {
			gqlErr.Message = "request canceled"
			setCode(gqlErr, portal.EINTERNAL)
			return gqlErr
		}
		log.ErrorContext(ctx, "internal error", "path", gqlErr.Path.String(), "err", err)
		gqlErr.Message = "internal error"
		setCode(gqlErr, portal.EINTERNAL)
		return gqlErr
	}
}

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush sends what is written so far: gqlgen's SSE transport needs an
// http.Flusher, and asks the writer itself, not a ResponseController.
func (s *statusRecorder) Flush() { http.NewResponseController(s.ResponseWriter).Flush() }

// accessLog logs every request at debug level, and failed ones at warn,
// and tells o of it.
func accessLog(log *slog.Logger, o Observer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		d := time.Since(start)
		if o != nil {
			o.ObserveRequest(route(r.URL.Path), method(r.Method), rec.status, d)
		}
		level := slog.LevelDebug
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		log.Log(r.Context(), level, "request", "request_id", portal.RequestIDFromContext(r.Context()), "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration_ms", d.Milliseconds())
	})
}

// sequentialObjects names the object types whose fields gqlgen resolves
// in sequence.
func sequentialObjects(s *ast.Schema) map[string]bool {
	out := map[string]bool{}
	for name, def := range s.Types {
		if def.Kind != ast.Object {
			continue
		}
		var names []string
		for _, d := range s.GetImplements(def) {
			names = append(names, d.Name)
		}
		if gqltype.Sequential(name, names) {
			out[name] = true
		}
	}
	return out
}
