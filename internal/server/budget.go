package server

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/greenroomhq/greenroom/internal/gqltype"
	"github.com/greenroomhq/greenroom/internal/loader"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// budgetKey keys the [budget] of the operation running; responseBytesKey
// the bytes of response a request's operations have counted, which the
// operations of a batch share.
var (
	budgetKey        = &contextKey{"budget"}
	responseBytesKey = &contextKey{"responseBytes"}
)

// budget is what an operation may still spend while it runs: time until
// its deadline and bytes of response. The complexity limit bounds the
// fields an operation resolves, not their size (one description or spec
// may be a megabyte), and gqlgen resolves every field of an operation
// whose context is done unless its resolver looks: so each field checks
// the budget as it resolves ([budget.field]), and once it is spent every
// field still to resolve fails at once, without reading anything.
type budget struct {
	maxBytes int64
	bytes    *atomic.Int64
	// halted is set once the deadline passed, the client went away or
	// the response grew past maxBytes; tooLarge says it was the latter.
	halted   atomic.Bool
	tooLarge atomic.Bool
}

// errTooLarge is what the fields resolved after the response grew too
// large return; [runOperation] answers the limit's error instead.
var errTooLarge = errors.New("response too large")

// runOperation runs an operation under its request's deadline (see
// limitRequests) and the response size limit of lim, and answers a
// response over the limit with the limit's error alone. The operations of
// a batch share the limit.
//
// The deadline goes on the context here, around the execution of the
// operation, and not on the request's: gqlgen answers null, without an
// error, to an operation whose context is done before it starts.
func runOperation(lim Limits) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		b := &budget{maxBytes: lim.MaxResponseBytes}
		if b.bytes, _ = ctx.Value(responseBytesKey).(*atomic.Int64); b.bytes == nil {
			b.bytes = new(atomic.Int64) // not served through limitRequests
		}
		if op := graphql.GetOperationContext(ctx); op.Operation != nil && op.Operation.Operation == ast.Subscription {
			return streamResponse(ctx, b, next)
		}
		if deadline, ok := ctx.Value(deadlineKey).(time.Time); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		}
		stop := context.AfterFunc(ctx, func() { b.halted.Store(true) })
		defer stop()
		resp := next(context.WithValue(ctx, budgetKey, b))
		if resp == nil {
			return nil
		}
		if b.tooLarge.Load() {
			return &graphql.Response{Errors: gqlerror.List{b.tooLargeError(b.bytes.Load())}}
		}
		if n := int64(len(resp.Data)); b.maxBytes > 0 && n > b.maxBytes {
			return &graphql.Response{Errors: gqlerror.List{b.tooLargeError(n)}}
		}
		if ctx.Err() != nil {
			resp.Errors = firstTimeout(resp.Errors)
		}
		return resp
	}
}

// streamResponse is [runOperation] for each response of a subscription:
// each event is sized on its own and read with fresh loaders, and none has
// a deadline, since its response waits for the event to happen. The
// reason a stream ends (see gqltype.EndStream) is its last response.
func streamResponse(ctx context.Context, b *budget, next graphql.ResponseHandler) *graphql.Response {
	b.bytes = new(atomic.Int64)
	loader.Reset(ctx)
	resp := next(context.WithValue(ctx, budgetKey, b))
	if err := gqltype.StreamEnded(ctx); err != nil && resp != nil {
		e := &gqlerror.Error{Message: portal.ErrorMessage(err), Extensions: map[string]any{"code": portal.ErrorCode(err)}}
		return &graphql.Response{Errors: gqlerror.List{e}}
	}
	if resp != nil && b.tooLarge.Load() {
		return &graphql.Response{Errors: gqlerror.List{b.tooLargeError(b.bytes.Load())}}
	}
	return resp
}

func (b *budget) tooLargeError(actual int64) *gqlerror.Error {
	return limitError("responseSize", b.maxBytes, actual,
		"the response is larger than the limit of %d bytes (%d bytes when it was stopped); ask for fewer or smaller fields", b.maxBytes, actual)
}

// firstTimeout keeps the first of the TIMEOUT errors of the fields that
// were still to resolve when the deadline passed, and every other error.
func firstTimeout(errs gqlerror.List) gqlerror.List {
	out := errs[:0]
	seen := false
	for _, e := range errs {
		if e.Extensions["code"] == portal.ETIMEOUT {
			if seen {
				continue
			}
			seen = true
		}
		out = append(out, e)
	}
	return out
}

// field resolves one field through next within the budget of ctx's
// operation: a field fails once the budget is spent, and a value that
// takes the response past its size limit spends it.
func (b *budget) field(ctx context.Context, fc *graphql.FieldContext, next graphql.Resolver) (any, error) {
	if b.halted.Load() {
		return nil, b.err(ctx)
	}
	res, err := next(ctx)
	if err != nil || b.maxBytes <= 0 {
		return res, err
	}
	// The name, its quotes, colon and comma, and the value; objects and
	// lists are counted by their fields.
	if b.bytes.Add(int64(len(fc.Field.Alias)+4+valueSize(res))) > b.maxBytes {
		b.tooLarge.Store(true)
		b.halted.Store(true)
		return nil, errTooLarge
	}
	return res, nil
}

// err is the error of a field that starts after the budget is spent.
func (b *budget) err(ctx context.Context) error {
	if b.tooLarge.Load() {
		return errTooLarge
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.Canceled
}

// budgetOf returns the budget of the operation ctx belongs to, or nil.
func budgetOf(ctx context.Context) *budget {
	b, _ := ctx.Value(budgetKey).(*budget)
	return b
}

// valueSize estimates the bytes a resolved value takes in the response:
// exactly for strings, closely for JSON values (spec, raw), 8 for other
// scalars and 0 for objects and lists, whose fields count themselves.
func valueSize(v any) int {
	switch v := v.(type) {
	case string:
		return len(v) + 2
	case *string:
		if v == nil {
			return 4
		}
		return len(*v) + 2
	case []string:
		n := 2
		for _, s := range v {
			n += len(s) + 3
		}
		return n
	case map[string]any, []any, json.RawMessage:
		return jsonSize(v)
	case interface{ Size() int }: // a value that writes itself (gqltype.Document)
		return v.Size()
	}
	return 8
}

// jsonSize estimates the size of a decoded JSON value.
func jsonSize(v any) int {
	switch v := v.(type) {
	case string:
		return len(v) + 2
	case map[string]any:
		n := 2
		for k, e := range v {
			n += len(k) + 4 + jsonSize(e)
		}
		return n
	case []any:
		n := 2
		for _, e := range v {
			n += 1 + jsonSize(e)
		}
		return n
	case json.RawMessage:
		return len(v)
	case json.Number:
		return len(v)
	case interface{ Size() int }: // a value that writes itself (gqltype.Document)
		return v.Size()
	}
	return 8
}
