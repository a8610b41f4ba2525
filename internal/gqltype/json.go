package gqltype

import (
	"encoding/json"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalJSON writes a value of the JSON scalar. A json.RawMessage, which
// is what the store keeps (an entity's raw document), is written as it is:
// gqlgen's graphql.MarshalAny runs it through encoding/json, which
// re-reads and compacts bytes that are compact JSON already, 70% of the
// time of a page of 500 raw entities.
//
// A graphql.Marshaler is a value that writes itself: CatalogEntity.document
// writes the stored bytes and the relations after them, without copying
// them into one slice first.
func MarshalJSON(v any) graphql.Marshaler {
	if m, ok := v.(graphql.Marshaler); ok {
		return m
	}
	if raw, ok := v.(json.RawMessage); ok && len(raw) > 0 {
		return graphql.WriterFunc(func(w io.Writer) { w.Write(raw) })
	}
	// gqlgen's MarshalAny encodes with a json.Encoder, which ends each
	// value with a newline inside the response.
	if b, err := json.Marshal(v); err == nil {
		return graphql.WriterFunc(func(w io.Writer) { w.Write(b) })
	}
	return graphql.MarshalAny(v)
}

// UnmarshalJSON reads a value of the JSON scalar, as gqlgen's
// graphql.UnmarshalAny does.
func UnmarshalJSON(v any) (any, error) {
	return graphql.UnmarshalAny(v)
}
