package gqltype

import (
	"context"
	"sync/atomic"
)

type streamEndKey struct{}

// WithStreamEnd returns ctx able to carry the reason a subscription's
// stream ends ([EndStream]), for the server to answer with as the
// stream's last response: gqlgen ends a stream when its channel closes,
// and has no way for a resolver to say why.
func WithStreamEnd(ctx context.Context) context.Context {
	return context.WithValue(ctx, streamEndKey{}, new(atomic.Pointer[error]))
}

// EndStream records why the stream of ctx's operation ends. The resolver
// then sends nil on its channel and closes it.
func EndStream(ctx context.Context, err error) {
	if p, ok := ctx.Value(streamEndKey{}).(*atomic.Pointer[error]); ok {
		p.Store(&err)
	}
}

// StreamEnded returns the reason recorded by [EndStream], or nil.
func StreamEnded(ctx context.Context) error {
	if p, ok := ctx.Value(streamEndKey{}).(*atomic.Pointer[error]); ok {
		if err := p.Load(); err != nil {
			return *err
		}
	}
	return nil
}
