package server

import (
	"context"
	"fmt"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// Limits bounds what one request to the GraphQL endpoint may ask of the
// server, so that the API can be exposed to clients it does not trust. In
// each numeric field, zero means the default of [DefaultLimits] and a
// negative value turns that limit off.
//
// A request over a limit fails before any resolver runs, with one GraphQL
// error whose extensions carry code INVALID, the name of the limit and,
// where they apply, its max and the actual value: {"code": "INVALID",
// "limit": "depth", "max": 15, "actual": 50}. A request that runs out of
// time fails with code TIMEOUT instead, and one the server is too busy to
// take with UNAVAILABLE: either may well succeed later.
type Limits struct {
	// MaxTokens bounds the number of tokens (names, punctuation, values;
	// not comments) in a query. It is checked before the query is parsed:
	// validation takes time quadratic in the number of fields of a
	// selection set, so that a query of a few thousand fields would tie up
	// a core for seconds before the limits below could see it.
	MaxTokens int
	// MaxDepth bounds the nesting of selection sets in an operation: in
	// `{ entity { owner { ref } } }` ref is at depth 3. Fragments add no
	// level of their own.
	MaxDepth int
	// MaxComplexity bounds the cost of an operation: each field costs 1
	// plus its selection, a field that reads the database 5, a mutation
	// 100, and the selection of a page is paid once per item it may hold
	// (first or last, 50 by default), that of a list of related entities
	// (dependsOn, members, …) once per entity it may return (first, 100 by
	// default).
	MaxComplexity int
	// MaxAliases bounds the number of aliased fields in a document: aliases
	// are how one request repeats the same expensive field.
	MaxAliases int
	// MaxBatch bounds the number of operations in one request sent as a
	// JSON array.
	MaxBatch int
	// MaxBodyBytes bounds the size of a request body; a larger one is
	// refused with HTTP 413.
	MaxBodyBytes int64
	// MaxResponseBytes bounds the size of a request's response (the
	// operations of a batch share it). Fields count their bytes as they
	// resolve, so an operation is stopped when it reaches the limit,
	// before it has spent more; its response is then the limit's error
	// alone, with actual the bytes counted when it stopped.
	MaxResponseBytes int64
	// Timeout bounds the time from a request's arrival to the end of its
	// last operation. Past it the operation's context is done, so database
	// calls are canceled, and the fields still running fail with TIMEOUT.
	Timeout time.Duration
	// ReadTimeout bounds the time from a request's arrival to the end of
	// its body: a client that sends it slower gets HTTP 408 and its
	// connection is closed. It is a deadline of each GraphQL request, set
	// when the request arrives, rather than the HTTP server's ReadTimeout,
	// which would also cut the long-lived streams of subscriptions.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from a request's arrival to the end of
	// its response, reading and running included: a client that does not
	// read its response loses the connection. It holds for every request
	// to the handler, set on each as it arrives, as ReadTimeout is.
	WriteTimeout time.Duration
	// MaxConcurrentRequests bounds the GraphQL requests served at once,
	// counted once their body is read. One more waits up to QueueTimeout
	// for a slot, then gets HTTP 503 with code UNAVAILABLE. The health
	// probes, /metrics and GraphiQL are not counted.
	MaxConcurrentRequests int
	// QueueTimeout is how long a request waits for a slot.
	QueueTimeout time.Duration
	// MaxSubscriptions bounds the streams open at once (WebSocket
	// connections and SSE subscriptions), counted apart from the requests
	// they outlive; one more is refused with HTTP 503 and code UNAVAILABLE.
	MaxSubscriptions int
	// APQCacheSize is the number of queries kept for Automatic Persisted
	// Queries, least recently used first out; negative turns APQ off.
	APQCacheSize int
	// DisableIntrospection refuses __schema and __type queries, which the
	// GraphiQL page at / and code generators need.
	DisableIntrospection bool
	// CORS says which other origins browsers may let call the API.
	CORS CORS
}

// DefaultLimits returns the limits a zero [Limits] stands for. They admit
// the introspection query of the GraphiQL page at /, 15 levels deep, and a
// page of the 1000 entities the API serves at most with their owners and
// systems (complexity 16,005), and a page of 500 with a list of related
// entities of each (60,005); they refuse pages of pages. A body of 1 MiB
// is less than the 4 MiB of YAML that ingestion reads from a file, so
// validateEntities of more than about 1 MiB of YAML needs MaxBodyBytes
// raised.
func DefaultLimits() Limits {
	return Limits{
		MaxTokens:             1000,
		MaxDepth:              15,
		MaxComplexity:         75_000,
		MaxAliases:            30,
		MaxBatch:              10,
		MaxBodyBytes:          1 << 20,
		MaxResponseBytes:      16 << 20,
		Timeout:               30 * time.Second,
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          time.Minute,
		MaxConcurrentRequests: 64,
		QueueTimeout:          time.Second,
		MaxSubscriptions:      10_000,
		APQCacheSize:          1000,
	}
}

// Effective returns the limits l stands for: each zero one set to its
// default.
func (l Limits) Effective() Limits {
	d := DefaultLimits()
	orDefault(&l.MaxTokens, d.MaxTokens)
	orDefault(&l.MaxDepth, d.MaxDepth)
	orDefault(&l.MaxComplexity, d.MaxComplexity)
	orDefault(&l.MaxAliases, d.MaxAliases)
	orDefault(&l.MaxBatch, d.MaxBatch)
	orDefault(&l.MaxBodyBytes, d.MaxBodyBytes)
	orDefault(&l.MaxResponseBytes, d.MaxResponseBytes)
	orDefault(&l.Timeout, d.Timeout)
	orDefault(&l.ReadTimeout, d.ReadTimeout)
	orDefault(&l.WriteTimeout, d.WriteTimeout)
	orDefault(&l.MaxConcurrentRequests, d.MaxConcurrentRequests)
	orDefault(&l.QueueTimeout, d.QueueTimeout)
	orDefault(&l.MaxSubscriptions, d.MaxSubscriptions)
	orDefault(&l.APQCacheSize, d.APQCacheSize)
	return l
}

// orDefault sets *v to def when it is zero.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// useLimits installs on gql the extensions that enforce lim on each
// operation: APQ, the token, depth, alias and complexity limits, the
// refusal of introspection when it is off, the deadline and the response
// size limit.
func useLimits(gql *handler.Server, lim Limits) {
	if lim.APQCacheSize > 0 {
		gql.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](lim.APQCacheSize)})
	}
	// After APQ, which puts in the query of a request that sent its hash.
	gql.Use(&operationLimits{lim: lim})
	gql.AroundResponses(runOperation(lim))
}

// limitError is the error of a request over a limit.
func limitError(limit string, maxValue, actual any, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message: fmt.Sprintf(format, args...),
		Extensions: map[string]any{
			"code":   portal.EINVALID,
			"limit":  limit,
			"max":    maxValue,
			"actual": actual,
		},
	}
}

// operationLimits refuses queries longer than its limits allow before they
// are parsed; and after gqlgen has parsed and validated them, operations
// nested deeper, aliased more or costing more than its limits allow, and
// introspection when it is off. Validation rejects fragment cycles, which
// the walks below rely on to end, and gives every field its definition.
type operationLimits struct {
	lim Limits
	es  graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = (*operationLimits)(nil)

// ExtensionName implements [graphql.HandlerExtension].
func (*operationLimits) ExtensionName() string { return "OperationLimits" }

// Validate implements [graphql.HandlerExtension]; it keeps the schema whose
// field costs the complexity limit reads.
func (o *operationLimits) Validate(es graphql.ExecutableSchema) error {
	o.es = es
	return nil
}

// MutateOperationParameters implements
// [graphql.OperationParameterMutator]: it counts the tokens of the query.
func (o *operationLimits) MutateOperationParameters(_ context.Context, params *graphql.RawParams) *gqlerror.Error {
	if m := o.lim.MaxTokens; m > 0 {
		if n := tokens(params.Query); n > m {
			return limitError("tokens", m, n, "the query has %d tokens; the limit is %d", n, m)
		}
	}
	return nil
}

// tokens counts the tokens of query, up to the first that is malformed:
// the parser reports that one.
func tokens(query string) int {
	lex := lexer.New(&ast.Source{Input: query})
	n := 0
	for {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return n
		}
		if tok.Kind != lexer.Comment {
			n++
		}
	}
}

// MutateOperationContext implements [graphql.OperationContextMutator]: it
// checks the operation about to run against each limit in turn.
func (o *operationLimits) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	if m := o.lim.MaxDepth; m > 0 {
		if d := depth(op.SelectionSet, map[string]int{}); d > m {
			return limitError("depth", m, d, "the operation is nested %d levels deep; the limit is %d", d, m)
		}
	}
	if m := o.lim.MaxAliases; m > 0 {
		if n := aliases(opCtx.Doc); n > m {
			return limitError("aliases", m, n, "the document has %d aliased fields; the limit is %d", n, m)
		}
	}
	if o.lim.DisableIntrospection && introspects(op.SelectionSet, map[string]bool{}) {
		return &gqlerror.Error{
			Message:    "introspection (__schema and __type) is turned off on this server",
			Extensions: map[string]any{"code": portal.EINVALID, "limit": "introspection"},
		}
	}
	if m := o.lim.MaxComplexity; m > 0 {
		if c := complexity(ctx, o.es, op, opCtx.Variables); c > m {
			return limitError("complexity", m, c, "the operation has complexity %d; the limit is %d", c, m)
		}
	}
	return nil
}

// depth returns the nesting of set: 1 for a selection of scalars. The
// depth of each fragment is computed once and kept in fragments, so that a
// document whose fragments spread each other many times takes linear time.
func depth(set ast.SelectionSet, fragments map[string]int) int {
	d := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			d = max(d, 1+depth(s.SelectionSet, fragments))
		case *ast.InlineFragment:
			d = max(d, depth(s.SelectionSet, fragments))
		case *ast.FragmentSpread:
			fd, ok := fragments[s.Name]
			if !ok {
				fd = depth(s.Definition.SelectionSet, fragments)
				fragments[s.Name] = fd
			}
			d = max(d, fd)
		}
	}
	return d
}

// aliases counts the aliased fields of every operation and fragment of
// doc, each where it is written.
func aliases(doc *ast.QueryDocument) int {
	var count func(ast.SelectionSet) int
	count = func(set ast.SelectionSet) int {
		n := 0
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Alias != s.Name {
					n++
				}
				n += count(s.SelectionSet)
			case *ast.InlineFragment:
				n += count(s.SelectionSet)
			}
		}
		return n
	}
	n := 0
	for _, op := range doc.Operations {
		n += count(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		n += count(f.SelectionSet)
	}
	return n
}

// introspects reports whether a root selection set asks for __schema or
// __type, the two introspection fields, which only the root may select.
// spread names the fragments already looked into.
func introspects(set ast.SelectionSet, spread map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if introspects(s.SelectionSet, spread) {
				return true
			}
		case *ast.FragmentSpread:
			if !spread[s.Name] {
				spread[s.Name] = true
				if introspects(s.Definition.SelectionSet, spread) {
					return true
				}
			}
		}
	}
	return false
}
