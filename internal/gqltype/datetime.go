package gqltype

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// MarshalDateTime writes a value of the DateTime scalar: RFC 3339, UTC.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.UTC().Format(time.RFC3339Nano)))
	})
}

// UnmarshalDateTime reads a value of the DateTime scalar: RFC 3339 with
// any offset. Anything else is INVALID, saying what is expected, rather
// than gqlgen's internal error.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, portal.Errorf(portal.EINVALID, "a DateTime is a string in RFC 3339, such as 2026-05-04T09:12:03Z")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, portal.Errorf(portal.EINVALID, "%q is not a DateTime: write it in RFC 3339, such as 2026-05-04T09:12:03Z", s)
	}
	return t, nil
}
