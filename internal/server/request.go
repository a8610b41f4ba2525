package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// contextKey is a value for use with context.WithValue. It's used as a
// pointer so it fits in an interface{} without allocation.
type contextKey struct{ name string }

// deadlineKey keys the time by which a request's operations must end.
var deadlineKey = &contextKey{"deadline"}

// limitRequests enforces, in front of the GraphQL handler next, the limits
// that concern a whole HTTP request rather than one operation: its
// deadlines, its body size, the size of its batch and the number of
// requests served at once.
//
// The deadline to read the body is set on the connection for this request
// alone (http.ResponseController), not on the HTTP server, whose
// ReadTimeout would also cut a long-lived request such as a subscription's
// stream (see [writeDeadline] for writing).
//
// A POST body that is a JSON array is a batch (gqlgen's POST transport
// reads one operation only): each operation runs through next in turn, as a
// request of its own, and the response is the array of their responses, in
// order. They run one after the other so that a batch costs the server no
// more at once than a single operation, and share the request's deadline.
//
// A request that none of transports takes is refused here, as a GraphQL
// error, rather than by gqlgen, which answers it in plain text.
func limitRequests(lim Limits, slots *slots, streams *streams, transports []graphql.Transport, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.ContainsFunc(transports, func(t graphql.Transport) bool { return t.Supports(r) }) {
			unsupported(w, r)
			return
		}
		arrival := time.Now()
		rc := http.NewResponseController(w)
		if isStream(r) {
			// A stream holds no slot and has no deadline: it lives as long
			// as its client keeps it, counted apart. Its body, an SSE
			// subscription's operation, is bounded as any other.
			if !streams.acquire() {
				writeError(w, http.StatusServiceUnavailable, &gqlerror.Error{
					Message:    fmt.Sprintf("the server serves as many subscriptions as it can (%d); try again later", streams.max),
					Extensions: map[string]any{"code": portal.EUNAVAILABLE, "limit": "subscriptions", "max": streams.max},
				})
				return
			}
			defer streams.release()
			rc.SetWriteDeadline(time.Time{})
			if lim.MaxBodyBytes > 0 && r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, lim.MaxBodyBytes)
			}
			next.ServeHTTP(w, r)
			return
		}
		ctx := context.WithValue(r.Context(), responseBytesKey, new(atomic.Int64))
		if lim.Timeout > 0 {
			ctx = context.WithValue(ctx, deadlineKey, arrival.Add(lim.Timeout))
		}
		r = r.WithContext(ctx)
		if r.Method != http.MethodPost {
			slots.serve(w, r, next)
			return
		}
		if lim.MaxBodyBytes > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, lim.MaxBodyBytes)
		}
		if lim.ReadTimeout > 0 {
			rc.SetReadDeadline(arrival.Add(lim.ReadTimeout))
		}
		body, err := io.ReadAll(r.Body)
		if lim.ReadTimeout > 0 && err == nil {
			// The server reads on in the background to notice a client
			// that goes away: the deadline would cancel the request.
			rc.SetReadDeadline(time.Time{})
		}
		var tooLarge *http.MaxBytesError
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			// net/http closes the connection after a failed body read.
			writeError(w, http.StatusRequestTimeout, &gqlerror.Error{
				Message: fmt.Sprintf("the request body took longer than the limit of %s to arrive", lim.ReadTimeout),
				Extensions: map[string]any{
					"code":  portal.ETIMEOUT,
					"limit": "readTimeout",
					"max":   lim.ReadTimeout.String(),
				},
			})
			return
		case errors.As(err, &tooLarge):
			writeError(w, http.StatusRequestEntityTooLarge, &gqlerror.Error{
				Message: fmt.Sprintf("the request body is larger than the limit of %d bytes", tooLarge.Limit),
				Extensions: map[string]any{
					"code":  portal.EINVALID,
					"limit": "bodySize",
					"max":   tooLarge.Limit,
				},
			})
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, &gqlerror.Error{
				Message:    "the request body could not be read",
				Extensions: map[string]any{"code": portal.EINVALID},
			})
			return
		}
		if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '[' {
			r.Body = io.NopCloser(bytes.NewReader(body))
			slots.serve(w, r, next)
			return
		}
		slots.serve(w, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			serveBatch(w, r, body, lim.MaxBatch, next)
		}))
	})
}

// isStream reports whether r opens a stream: a WebSocket upgrade or an SSE
// subscription (graphql-sse's distinct connections mode).
func isStream(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		(r.Method == http.MethodPost && strings.Contains(r.Header.Get("Accept"), "text/event-stream"))
}

// streams counts the streams open; it refuses more than max.
type streams struct {
	open atomic.Int64
	max  int64
}

func newStreams(max int) *streams { return &streams{max: int64(max)} }

func (s *streams) acquire() bool {
	if s.open.Add(1) > s.max {
		s.open.Add(-1)
		return false
	}
	return true
}

func (s *streams) release() { s.open.Add(-1) }

// slots bounds the requests served at once; nil bounds none. A request
// holds its slot until its handler returns: a transport that streams
// (subscriptions over SSE or WebSocket) should count its streams apart,
// or each would hold a slot for as long as it is open.
type slots struct {
	free chan struct{}
	wait time.Duration
}

func newSlots(n int, wait time.Duration) *slots {
	if n <= 0 {
		return nil
	}
	return &slots{free: make(chan struct{}, n), wait: wait}
}

// serve serves r through next once a slot is free, or answers HTTP 503
// with code UNAVAILABLE when none frees up within the wait.
func (s *slots) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if !s.acquire(r.Context()) {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, &gqlerror.Error{
			Message: s.busy(),
			Extensions: map[string]any{
				"code":  portal.EUNAVAILABLE,
				"limit": "concurrentRequests",
				"max":   cap(s.free),
			},
		})
		return
	}
	defer s.release()
	next.ServeHTTP(w, r)
}

// busy says why a request found no slot.
func (s *slots) busy() string {
	return fmt.Sprintf("the server is serving as many requests as it can (%d); try again shortly", cap(s.free))
}

// acquire takes a slot, waiting up to s.wait for one, and reports whether
// it got one; a nil s always does. A slot taken is given back by release.
func (s *slots) acquire(ctx context.Context) bool {
	if s == nil {
		return true
	}
	select {
	case s.free <- struct{}{}:
		return true
	default:
		return s.await(ctx)
	}
}

// release gives back a slot acquire took.
func (s *slots) release() {
	if s != nil {
		<-s.free
	}
}

// await waits up to s.wait for a slot and takes it.
func (s *slots) await(ctx context.Context) bool {
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case s.free <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// limitREST enforces on the REST endpoints (internal/restapi) the limits
// of whole requests: they take the same slots as GraphQL requests, and
// their bodies are bounded in size. The handler bounds its requests' time
// itself, since a streamed list has no deadline. A refusal has the shape
// of Backstage's errors, which REST clients read.
func limitREST(lim Limits, s *slots, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lim.MaxBodyBytes > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, lim.MaxBodyBytes)
		}
		if !s.acquire(r.Context()) {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{
				"error":    map[string]string{"name": "ServiceUnavailableError", "message": s.busy()},
				"request":  map[string]string{"method": r.Method, "url": r.RequestURI},
				"response": map[string]int{"statusCode": http.StatusServiceUnavailable},
			})
			return
		}
		defer s.release()
		next.ServeHTTP(w, r)
	})
}

// serveBatch runs each operation of a batch through next and writes the
// array of their responses.
func serveBatch(w http.ResponseWriter, r *http.Request, body []byte, maxBatch int, next http.Handler) {
	var ops []json.RawMessage
	if err := json.Unmarshal(body, &ops); err != nil {
		writeError(w, http.StatusBadRequest, invalid("the batch is not a JSON array of operations"))
		return
	}
	if len(ops) == 0 {
		writeError(w, http.StatusBadRequest, &gqlerror.Error{
			Message:    "the batch holds no operation",
			Extensions: map[string]any{"code": portal.EINVALID},
		})
		return
	}
	if maxBatch > 0 && len(ops) > maxBatch {
		writeError(w, http.StatusBadRequest, limitError("batch", maxBatch, len(ops),
			"the batch holds %d operations; the limit is %d", len(ops), maxBatch))
		return
	}
	var out bytes.Buffer
	out.WriteByte('[')
	for i, op := range ops {
		if i > 0 {
			out.WriteByte(',')
		}
		if trimmed := bytes.TrimLeft(op, " \t\r\n"); trimmed[0] != '{' {
			b, _ := json.Marshal(graphql.Response{Errors: gqlerror.List{invalid("operation %d of the batch is not a JSON object", i)}})
			out.Write(b)
			continue
		}
		one := r.Clone(r.Context())
		one.Body = io.NopCloser(bytes.NewReader(op))
		one.ContentLength = int64(len(op))
		var resp responseBuffer
		next.ServeHTTP(&resp, one)
		out.Write(bytes.TrimSpace(resp.body.Bytes()))
	}
	out.WriteByte(']')
	w.Header().Set("Content-Type", "application/json")
	w.Write(out.Bytes())
}

// responseBuffer keeps the response to one operation of a batch. Its
// status is dropped: a batch answers 200, and each of its responses says
// in its errors what went wrong.
type responseBuffer struct {
	header http.Header
	body   bytes.Buffer
}

func (b *responseBuffer) Header() http.Header {
	if b.header == nil {
		b.header = http.Header{}
	}
	return b.header
}

func (b *responseBuffer) Write(p []byte) (int, error) { return b.body.Write(p) }

func (b *responseBuffer) WriteHeader(int) {}

// writeError writes a GraphQL response made of one error.
func writeError(w http.ResponseWriter, status int, err *gqlerror.Error) {
	writeJSON(w, status, graphql.Response{Errors: gqlerror.List{err}})
}

// timeoutErrors presents the error of a field that ran out of time with
// code TIMEOUT, and passes the others on to next. Running out of time is
// no internal error: it is neither logged nor hidden. A driver may report a
// query interrupted midway in its own words rather than as the context's
// error, so once the deadline has passed an error that carries no code of
// its own counts as a timeout too.
func timeoutErrors(timeout time.Duration, next graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		if !timedOut(ctx, err) {
			return next(ctx, err)
		}
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		gqlErr.Message = fmt.Sprintf("the request took longer than the server allows (%s) and was stopped", timeout)
		gqlErr.Extensions = map[string]any{"code": portal.ETIMEOUT, "limit": "timeout", "max": timeout.String()}
		return gqlErr
	}
}

// timedOut reports whether err is the doing of the operation's deadline.
// The deadline must have passed: a deadline of another's making, such as
// an HTTP client's while reading a location, is an internal error.
func timedOut(ctx context.Context, err error) bool {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pe *portal.Error
	var ge *gqlerror.Error
	return !errors.As(err, &pe) && !(errors.As(err, &ge) && ge.Err == nil)
}
