package restapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Catalog is the guarded read side of the catalog the handlers use: every
// method reads only what the caller in the context may read.
type Catalog interface {
	// EntityByRef returns an entity. Returns ENOTFOUND if there is none.
	EntityByRef(ctx context.Context, ref string) (*catalog.Record, error)
	// FindEntities returns a page of entities.
	FindEntities(ctx context.Context, q catalog.EntityQuery) (catalog.EntityPage, error)
	// CountEntities returns how many entities a filter selects.
	CountEntities(ctx context.Context, f catalog.EntityFilter) (int, error)
	// RelationsBySources returns the relations from refs.
	RelationsBySources(ctx context.Context, refs, types []string) ([]catalog.RelationRow, error)
	// ScanEntities returns a page of whole entities after a ref, in ref
	// order, with their relations.
	ScanEntities(ctx context.Context, f catalog.EntityFilter, after string, limit int) ([]*catalog.Record, []catalog.RelationRow, error)
	// PathFacet counts entities by the values of the field at a path.
	PathFacet(ctx context.Context, path string, f catalog.EntityFilter) ([]catalog.FacetValue, error)
}

// Options configures the handler.
type Options struct {
	Catalog Catalog
	Logger  *slog.Logger // nil logs nothing
	// Timeout bounds each request, but a streamed list, which has no
	// limit on its length; zero bounds none.
	Timeout time.Duration
	// WriteTimeout is how long each page of a streamed list may take to
	// be written: the list as a whole has no deadline, so that a catalog
	// of any size can be exported, but a client that stops reading does
	// not hold the request. Zero leaves the deadline the server set.
	WriteTimeout time.Duration
}

// Prefix is where the handler is mounted.
const Prefix = "/api/catalog"

// New returns the handler of the endpoints, for paths under [Prefix].
func New(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{Options: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /entities", h.entities)
	mux.HandleFunc("GET /entities/by-name/{kind}/{namespace}/{name}", h.timed(h.byName))
	mux.HandleFunc("POST /entities/by-refs", h.timed(h.byRefs))
	mux.HandleFunc("GET /entities/by-query", h.timed(h.byQuery))
	mux.HandleFunc("POST /entities/by-query", h.timed(h.byQueryPost))
	mux.HandleFunc("GET /entity-facets", h.timed(h.facets))
	mux.HandleFunc("POST /entity-facets", h.timed(h.facetsPost))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, portal.Errorf(portal.ENOTFOUND, "No route for %s %s", r.Method, r.URL.Path))
	})
	return http.StripPrefix(Prefix, mux)
}

type handler struct {
	Options
}

// timed bounds a request that is not streamed by the timeout.
func (h *handler) timed(next http.HandlerFunc) http.HandlerFunc {
	if h.Timeout <= 0 {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), h.Timeout)
		defer cancel()
		next(w, r.WithContext(ctx))
	}
}

// errorNames are Backstage's names of the errors of each code.
var errorNames = map[string]string{
	portal.EINVALID:         "InputError",
	portal.ENOTFOUND:        "NotFoundError",
	portal.EFORBIDDEN:       "NotAllowedError",
	portal.EUNAUTHENTICATED: "AuthenticationError",
	portal.ECONFLICT:        "ConflictError",
	portal.ETIMEOUT:         "ServiceUnavailableError",
	portal.EUNAVAILABLE:     "ServiceUnavailableError",
}

// errorBody is Backstage's error response.
type errorBody struct {
	Error struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
	Request struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
	Response struct {
		StatusCode int `json:"statusCode"`
	} `json:"response"`
}

// fail writes err as Backstage writes errors. An error without a code is
// internal: it is logged, and the client is told no more than that.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := portal.ErrorCode(err)
	if code == portal.EINTERNAL && r.Context().Err() != nil {
		code, err = portal.ETIMEOUT, portal.Errorf(portal.ETIMEOUT, "the request took longer than the server allows (%s) and was stopped", h.Timeout)
	}
	name, ok := errorNames[code]
	if !ok {
		h.Logger.ErrorContext(r.Context(), "internal error", "request_id", portal.RequestIDFromContext(r.Context()), "path", r.URL.Path, "err", err)
		name, code = "Error", portal.EINTERNAL
	}
	status := portal.HTTPStatus(code)
	var b errorBody
	b.Error.Name, b.Error.Message = name, portal.ErrorMessage(err)
	b.Request.Method, b.Request.URL = r.Method, r.RequestURI
	b.Response.StatusCode = status
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// invalid is an InputError.
func invalid(format string, args ...any) error {
	return portal.Errorf(portal.EINVALID, format, args...)
}
