package portal

import "context"

type requestIDKey struct{}

// NewContextWithRequestID returns a context that carries the id of the
// request it serves, which audit events and logs keep.
func NewContextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFromContext returns the id of the request ctx serves, or "".
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
