package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// marker is what the requests below carry where a server might repeat it.
const marker = "zq-marker-7731"

// TestProtocolErrors is the regression test of requests that are no good
// GraphQL requests: each is answered with JSON holding GraphQL errors that
// all have extensions.code, with a fitting status, and none repeats what the
// client sent.
func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	srv := MustServeFiles(t, storetest.MustOpenSQLite(t), exampleCatalog(t))
	getQuery := func(params ...string) string {
		v := url.Values{}
		for i := 0; i < len(params); i += 2 {
			v.Set(params[i], params[i+1])
		}
		return "?" + v.Encode()
	}
	const query = `{ entities(first: 1) { totalCount } }`
	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		batch                                 bool
	}{
		{name: "MalformedJSON", body: `{"query": "` + marker, status: http.StatusBadRequest},
		{name: "JSONSyntax", body: `{"query": ` + marker + `}`, status: http.StatusBadRequest},
		{name: "NotARequest", body: `{"query": ["` + marker + `"]}`, status: http.StatusBadRequest},
		{name: "VariablesNotObject", body: `{"query": "{ __typename }", "variables": "` + marker + `"}`, status: http.StatusBadRequest},
		{name: "TextPlain", contentType: "text/plain", body: marker, status: http.StatusUnsupportedMediaType},
		{name: "FormEncoded", contentType: "application/x-www-form-urlencoded", body: "query=" + marker, status: http.StatusUnsupportedMediaType},
		{name: "NoContentType", contentType: "-", body: `{"query": "` + marker + `"}`, status: http.StatusUnsupportedMediaType},
		{name: "Put", method: http.MethodPut, body: `{"query": "` + marker + `"}`, status: http.StatusMethodNotAllowed},
		{name: "MutationOverGET", method: http.MethodGet,
			path:   getQuery("query", `mutation `+strings.ReplaceAll(marker, "-", "_")+` { deleteEntity(ref: "component:`+marker+`") { ref } }`),
			status: http.StatusMethodNotAllowed},
		{name: "GETVariablesNotJSON", method: http.MethodGet, path: getQuery("query", query, "variables", marker), status: http.StatusBadRequest},
		{name: "GETExtensionsNotJSON", method: http.MethodGet, path: getQuery("query", query, "extensions", "{"+marker), status: http.StatusBadRequest},
		{name: "GETBadEscape", method: http.MethodGet, path: "?query=%zz" + marker, status: http.StatusBadRequest},
		{name: "BatchOfScalars", body: `[1, "` + marker + `", null, true]`, status: http.StatusOK, batch: true},
		{name: "BatchOfArrays", body: `[[[[[["` + marker + `"]]]]]]`, status: http.StatusOK, batch: true},
		{name: "BatchTooDeep", body: strings.Repeat("[", 20_000) + `"` + marker + `"` + strings.Repeat("]", 20_000), status: http.StatusBadRequest},
		{name: "BatchBadItem", body: `[{"query": "{ __typename }"}, {"query": "` + marker + `]`, status: http.StatusBadRequest},
		{name: "BatchItemNotARequest", body: `[{"query": "{ __typename }"}, {"query": {"` + marker + `": 1}}]`, status: http.StatusOK, batch: true},
		{name: "APQHashMismatch", body: `{"query": "` + query + `", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "` + marker + `"}}}`,
			status: http.StatusOK},
		{name: "APQUnknownVersion", body: `{"query": "` + query + `", "extensions": {"persistedQuery": {"version": 7, "sha256Hash": "` + marker + `"}}}`,
			status: http.StatusOK},
		{name: "APQMalformed", body: `{"query": "` + query + `", "extensions": {"persistedQuery": "` + marker + `"}}`, status: http.StatusOK},
		{name: "APQNotFound", body: `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "` + marker + `"}}}`, status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, srv.URL+"/graphql"+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			switch tt.contentType {
			case "":
				req.Header.Set("Content-Type", "application/json")
			case "-":
			default:
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status %d; want %d\n%s", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q; want application/json", ct)
			}
			if strings.Contains(string(body), marker) || strings.Contains(string(body), strings.ReplaceAll(marker, "-", "_")) {
				t.Errorf("the response repeats what the client sent:\n%.500s", body)
			}
			responses := []json.RawMessage{body}
			if tt.batch {
				if err := json.Unmarshal(body, &responses); err != nil {
					t.Fatalf("batch response is no array: %v\n%.500s", err, body)
				}
			}
			errs := 0
			for _, b := range responses {
				r := decodeGraphQL(t, b)
				for _, e := range r.Errors {
					errs++
					if code, _ := e.Extensions["code"].(string); code == "" {
						t.Errorf("error %q has no extensions.code", e.Message)
					}
				}
			}
			if errs == 0 {
				t.Errorf("no error in %.500s", body)
			}
		})
	}
}
