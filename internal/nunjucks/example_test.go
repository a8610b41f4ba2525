package nunjucks_test

import (
	"fmt"
	"strings"

	"github.com/greenroomhq/greenroom/internal/nunjucks"
)

// The scaffolder's use: a filter of its own, text templates rendered to
// strings, and single expressions kept as values.
func Example() {
	opts := &nunjucks.Options{
		Filters: map[string]nunjucks.Filter{
			"projectSlug": func(input any, _ []any, _ map[string]any) (any, error) {
				s, _ := input.(string)
				_, query, _ := strings.Cut(s, "?")
				owner, repo := "", ""
				for _, kv := range strings.Split(query, "&") {
					k, v, _ := strings.Cut(kv, "=")
					switch k {
					case "owner":
						owner = v
					case "repo":
						repo = v
					}
				}
				return owner + "/" + repo, nil
			},
		},
	}
	data := map[string]any{
		"parameters": map[string]any{
			"name":    "payments",
			"repoUrl": "github.com?owner=acme&repo=payments",
			"tags":    []any{"go", "grpc"},
		},
	}

	text, err := nunjucks.Parse("${{ parameters.repoUrl | projectSlug }}: {% for t in parameters.tags %}#${{ t }}{% if not loop.last %} {% endif %}{% endfor %}", opts)
	if err != nil {
		panic(err)
	}
	out, err := text.Render(data)
	if err != nil {
		panic(err)
	}
	fmt.Println(out)

	single, err := nunjucks.Parse("${{ parameters.tags }}", opts)
	if err != nil {
		panic(err)
	}
	v, defined, err := single.Value(data)
	fmt.Println(single.SingleExpression(), v, defined, err)
	// Output:
	// acme/payments: #go #grpc
	// true [go grpc] true <nil>
}
