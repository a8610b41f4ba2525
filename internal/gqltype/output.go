package gqltype

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"
)

// An operation's response is written into one bytes.Buffer, which gqlgen
// grows by doubling as each field writes itself. A page of whole entities
// (CatalogEntity.document: 0.8 MB for 500 components) grew it a dozen
// times, zeroing and copying twice its size, a tenth of the page's CPU.
// The resolver that reads the page knows its documents before any is
// written: it reserves their size, and the first of them grows the buffer
// once by that much.

type reserveKey struct{}

// WithOutputReserve returns ctx with an empty reserve for its operation's
// response; the server installs one for every operation.
func WithOutputReserve(ctx context.Context) context.Context {
	return context.WithValue(ctx, reserveKey{}, new(atomic.Int64))
}

// ReserveOutput adds n bytes to the reserve of ctx's operation.
func ReserveOutput(ctx context.Context, n int) {
	if r, ok := ctx.Value(reserveKey{}).(*atomic.Int64); ok {
		r.Add(int64(n))
	}
}

// Document is a JSON value written as the bytes it holds (Head, then
// Tail, without copying them into one slice), which knows its size for the
// response budget.
type Document struct {
	Head, Tail []byte
	reserve    *atomic.Int64
}

// NewDocument returns the document of head and tail, which takes the
// reserve of ctx's operation when it is written first.
func NewDocument(ctx context.Context, head, tail []byte) Document {
	r, _ := ctx.Value(reserveKey{}).(*atomic.Int64)
	return Document{Head: head, Tail: tail, reserve: r}
}

// MarshalGQL writes the document, growing gqlgen's buffer by the
// operation's reserve first when one is left.
func (d Document) MarshalGQL(w io.Writer) {
	if d.reserve != nil {
		if n := d.reserve.Swap(0); n > 0 {
			if b, ok := w.(*bytes.Buffer); ok {
				b.Grow(int(n))
			}
		}
	}
	w.Write(d.Head)
	w.Write(d.Tail)
}

// Size is the bytes the document takes in the response.
func (d Document) Size() int { return len(d.Head) + len(d.Tail) }
