package gqltype

import (
	"context"
	"runtime"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// minChunked is the shortest list MarshalChunked splits across goroutines.
const minChunked = 8

// MarshalChunked marshals the elements of a list in one chunk per CPU, each
// chunk on one goroutine, where gqlgen's graphql.MarshalSliceConcurrently,
// whose signature it shares, starts a goroutine per element. The generator
// (cmd/greenroom-gqlgen) uses it for lists of the types whose fields never
// wait for their siblings (see Sequential): for them a goroutine per element
// is pure cost, a third of the time of a page of 500 components, while one
// per CPU keeps every core busy.
func MarshalChunked(ctx context.Context, length int, _ int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	ret := make(graphql.Array, length)
	one := func(i int) {
		childCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		if !omitPanicHandler {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					ret[i] = graphql.Null
				}
			}()
		}
		ret[i] = marshalElement(childCtx, i)
	}
	chunks := min(runtime.GOMAXPROCS(0), length)
	if chunks <= 1 || length < minChunked {
		for i := range length {
			one(i)
		}
		return ret
	}
	var wg sync.WaitGroup
	for c := range chunks {
		lo, hi := c*length/chunks, (c+1)*length/chunks
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				one(i)
			}
		})
	}
	wg.Wait()
	return ret
}
