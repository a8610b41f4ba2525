package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/greenroomhq/greenroom/internal/store/storetest"
)

// TestPOST_Responses checks the POST transport's two ways out: a response
// with only data, written as it is, and one with errors, encoded by gqlgen;
// both are JSON of the right media type.
func TestPOST_Responses(t *testing.T) {
	srv := MustServeFiles(t, storetest.MustOpenSQLite(t), exampleCatalog(t))
	for _, c := range []struct {
		name, body, accept, wantType string
		wantErrors                   bool
	}{
		{"data", `{"query":"{ entity(ref: \"component:catalog-service\") { ref } }"}`, "", "application/json", false},
		{"data, graphql-response accepted", `{"query":"{ entities(first: 2) { edges { node { ref } } } }"}`, "application/graphql-response+json", "application/graphql-response+json", false},
		{"field error", `{"query":"{ entity(ref: \"not a ref\") { ref } }"}`, "application/json", "application/json", true},
		{"parse error", `{"query":"{ entity("}`, "", "application/json", true},
		{"bad JSON", `{"query":`, "", "application/json", true},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Data   json.RawMessage
			Errors []json.RawMessage
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil {
			t.Errorf("%s: response is not JSON: %v", c.name, err)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != c.wantType {
			t.Errorf("%s: Content-Type %q; want %q", c.name, got, c.wantType)
		}
		if (len(out.Errors) > 0) != c.wantErrors {
			t.Errorf("%s: errors %s; want errors %v", c.name, out.Errors, c.wantErrors)
		}
		if !c.wantErrors && (len(out.Data) == 0 || string(out.Data) == "null") {
			t.Errorf("%s: no data", c.name)
		}
	}
}
