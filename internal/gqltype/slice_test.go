package gqltype_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/greenroomhq/greenroom/internal/gqltype"
)

// TestMarshalChunked checks that every element is marshalled once, in its
// place, with its index in the field context, and that a panicking element
// becomes null with an error while the others are kept.
func TestMarshalChunked(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 500} {
		ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter,
			func(ctx context.Context, err any) error { return errors.New("panic") })
		got := gqltype.MarshalChunked(ctx, n, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
			if idx := graphql.GetFieldContext(ctx).Index; idx == nil || *idx != i {
				t.Errorf("n=%d: element %d has index %v in its field context", n, i, idx)
			}
			if i == 3 {
				panic("element 3")
			}
			return graphql.MarshalInt(i)
		})
		if len(got) != n {
			t.Fatalf("n=%d: %d elements", n, len(got))
		}
		for i, m := range got {
			want := strconv.Itoa(i)
			if i == 3 {
				want = "null"
			}
			var b strings.Builder
			m.MarshalGQL(&b)
			if b.String() != want {
				t.Errorf("n=%d: element %d is %s; want %s", n, i, b.String(), want)
			}
		}
		if errs := graphql.GetErrors(ctx); (n > 3) != (len(errs) == 1) {
			t.Errorf("n=%d: %d errors; want one when element 3 exists", n, len(errs))
		}
	}
}
