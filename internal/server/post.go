package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// The transports below are gqlgen's, with two changes: a response that
// holds only data is written as it is, and a request that is no GraphQL
// request is refused with a GraphQL error that has a code and does not
// repeat what the client sent (gqlgen's POST transport puts the whole body
// in its error). Requests that fail in gqlgen's executor (parse,
// validation, limits, APQ) are left to gqlgen, so that their status codes
// and shapes stay its own; the error presenter gives their errors a code.

// post is gqlgen's POST transport. gqlgen encodes every response with
// encoding/json, which re-reads and compacts the data it has just written,
// a twentieth of the time of a page of 500 entities.
type post struct{ transport.POST }

var _ graphql.Transport = post{}

func (p post) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, invalid("the request body could not be read"))
		return
	}
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		writeError(w, http.StatusBadRequest, notARequest(err))
		return
	}
	start := graphql.Now()
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: start}
	ctx := r.Context()
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		p.POST.Do(w, r, exec)
		return
	}
	w.Header().Set("Content-Type", responseType(r.Header.Get("Accept")))
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

// get is gqlgen's GET transport, which runs queries only.
type get struct{ transport.GET }

var _ graphql.Transport = get{}

func (g get) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, invalid("the URL's query string is not URL-encoded"))
		return
	}
	params := &graphql.RawParams{Query: query.Get("query"), OperationName: query.Get("operationName"), Headers: r.Header}
	params.ReadTime.Start = graphql.Now()
	for name, dst := range map[string]*map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
		v := query.Get(name)
		if v == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil {
			writeError(w, http.StatusBadRequest, invalid("the %s parameter is not a JSON object", name))
			return
		}
	}
	params.ReadTime.End = graphql.Now()
	ctx := r.Context()
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		g.GET.Do(w, r, exec)
		return
	}
	if rc.Operation.Operation != ast.Query {
		// As GraphQL over HTTP says: GET must not change anything.
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, invalid("a %s must be sent with POST; GET runs queries only", rc.Operation.Operation))
		return
	}
	w.Header().Set("Content-Type", responseType(r.Header.Get("Accept")))
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

// writeResponse writes resp; one that holds only data is written as it is.
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	if len(resp.Errors) == 0 && len(resp.Extensions) == 0 && resp.Label == "" && len(resp.Path) == 0 &&
		resp.HasNext == nil && len(resp.Data) > 0 {
		io.WriteString(w, `{"data":`)
		w.Write(resp.Data)
		io.WriteString(w, "}")
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Write(b)
}

// notARequest is the error of a body that does not decode as a GraphQL
// request. It names where JSON's syntax breaks, never what is there.
func notARequest(err error) *gqlerror.Error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return invalid("the request body is not valid JSON (at byte %d)", syntax.Offset)
	}
	return invalid("the request body is not a GraphQL request: a JSON object with a query string, " +
		"and optionally an operationName string and variables and extensions objects")
}

// invalid is the error of a request that is no GraphQL request.
func invalid(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": portal.EINVALID}}
}

// unsupported refuses a request that no transport of the GraphQL endpoint
// takes: 415 for a POST (its content type), 405 for another method.
func unsupported(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		writeError(w, http.StatusUnsupportedMediaType, invalid("a POST to the GraphQL endpoint must have Content-Type application/json"))
		return
	}
	w.Header().Set("Allow", "GET, POST, OPTIONS")
	writeError(w, http.StatusMethodNotAllowed, invalid("the GraphQL endpoint takes GET and POST requests"))
}

// responseType chooses the response's media type from the request's Accept
// header as gqlgen's POST transport does by default.
func responseType(accept string) string {
	if accept == "" {
		return "application/json"
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", "application/json":
			return "application/json"
		case "application/graphql-response+json":
			return "application/graphql-response+json"
		}
	}
	return "application/graphql-response+json"
}
