package restapi

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func TestAppendPruned(t *testing.T) {
	doc := `{"apiVersion":"backstage.io/v1alpha1","kind":"Component",
		"metadata":{"name":"a","annotations":{"backstage.io/techdocs-ref":"dir:.","x\u002ey":"esc"},"tags":["go"]},
		"spec":{"type":"service","owner":"team-a"},
		"odd":{"b.c":1},"odd.b":{"c":2}}`
	for _, tc := range []struct {
		fields []string
		want   string
	}{
		{[]string{"kind", "metadata.name"}, `{"kind":"Component","metadata":{"name":"a"}}`},
		// Document order, whatever the fields' order.
		{[]string{"spec.owner", "kind"}, `{"kind":"Component","spec":{"owner":"team-a"}}`},
		{[]string{"metadata.annotations.backstage.io/techdocs-ref"}, `{"metadata":{"annotations":{"backstage.io/techdocs-ref":"dir:."}}}`},
		// A key written with an escape is matched decoded and kept as written.
		{[]string{"metadata.annotations.x.y"}, `{"metadata":{"annotations":{"x\u002ey":"esc"}}}`},
		// A field that names nothing adds nothing, not even its way.
		{[]string{"metadata.nope", "spec.type.deeper", "nope"}, `{}`},
		// A whole subtree wins over a path into it, in either order.
		{[]string{"metadata.name", "metadata"}, `{"metadata":{"name":"a","annotations":{"backstage.io/techdocs-ref":"dir:.","x\u002ey":"esc"},"tags":["go"]}}`},
		{[]string{"metadata.tags"}, `{"metadata":{"tags":["go"]}}`},
		// Backstage joins a segment to the next only when it is not a key:
		// odd.b.c goes through odd, not odd.b.
		{[]string{"odd.b.c"}, `{"odd":{"b.c":1}}`},
	} {
		got, ok := appendPruned([]byte("x"), []byte(doc), tc.fields)
		if !ok {
			t.Fatalf("%v: not an object", tc.fields)
		}
		if string(got) != "x"+tc.want {
			t.Errorf("%v:\n got %s\nwant x%s", tc.fields, got, tc.want)
		}
	}
	for _, bad := range []string{``, `[]`, `"s"`, `{"a":`, `{"a":1`, `{"a" 1}`, `{"a":"x}`, `{"a":{"b":1}`, `{a:1}`, `{"a":1,}`} {
		if got, ok := appendPruned(nil, []byte(bad), []string{"a"}); ok {
			t.Errorf("%q: pruned to %s, want not an object", bad, got)
		}
	}
}

// TestAppendPruned_AgreesWithBackstage prunes the example catalog's
// documents and compares with Backstage's algorithm written over decoded
// maps (getPathArrayAndValue then lodash set).
func TestAppendPruned_AgreesWithBackstage(t *testing.T) {
	docs := exampleDocuments(t)
	fieldSets := [][]string{
		{"kind", "metadata.name"},
		{"metadata.annotations.backstage.io/techdocs-ref", "spec.owner"},
		{"metadata", "metadata.name", "spec.type"},
		{"spec.profile.displayName", "spec.members", "spec.definition"},
		{"metadata.labels", "metadata.links", "spec.lifecycle", "apiVersion"},
	}
	for _, doc := range docs {
		var m map[string]any
		if err := json.Unmarshal(doc, &m); err != nil {
			t.Fatal(err)
		}
		for _, fields := range fieldSets {
			got, ok := appendPruned(nil, doc, fields)
			if !ok {
				t.Fatalf("%s: not an object", doc)
			}
			var gotMap map[string]any
			if err := json.Unmarshal(got, &gotMap); err != nil {
				t.Fatalf("pruned output %s: %v", got, err)
			}
			if diff := cmp.Diff(backstagePick(m, fields), gotMap); diff != "" {
				t.Errorf("%v of %s (-backstage +greenroom):\n%s", fields, doc, diff)
			}
		}
	}
}

// backstagePick is Backstage's parseEntityTransformParams over a decoded
// document, for objects (Greenroom does not index into arrays).
func backstagePick(doc map[string]any, fields []string) map[string]any {
	out := map[string]any{}
	for _, f := range fields {
		parts := strings.Split(f, ".")
		var path []string
		var at any = doc
		found := true
		for i := 0; i < len(parts); i++ {
			obj, _ := at.(map[string]any)
			if v, ok := obj[parts[i]]; ok {
				path, at = append(path, parts[i]), v
				continue
			}
			if i+1 < len(parts) {
				parts[i+1] = parts[i] + "." + parts[i+1]
				continue
			}
			found = false
		}
		if !found {
			continue
		}
		to := out
		for _, p := range path[:len(path)-1] {
			next, ok := to[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				to[p] = next
			}
			to = next
		}
		to[path[len(path)-1]] = at
	}
	return out
}

// exampleDocuments returns every document of the example catalog as JSON.
func exampleDocuments(t *testing.T) [][]byte {
	t.Helper()
	var docs [][]byte
	root := filepath.Join("..", "..", "examples", "catalog")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".yaml" {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		dec := yaml.NewDecoder(f)
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
			data, err := json.Marshal(doc)
			if err != nil {
				return err
			}
			docs = append(docs, data)
		}
	})
	if err != nil || len(docs) < 20 {
		t.Fatalf("example catalog: %d documents, %v", len(docs), err)
	}
	return docs
}
