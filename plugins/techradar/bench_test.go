package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
)

// BenchmarkEntities measures the plugin's part of the gateway's
// 100-component screen (gateway/bench_test.go): one _entities request of
// 100 Component representations carrying their tags, as Hive Gateway sends
// it, over loopback HTTP.
//
//	go test ./plugins/techradar -run '^$' -bench Entities
func BenchmarkEntities(b *testing.B) {
	radar, err := filepath.Abs("../../examples/techradar/radar.yaml")
	if err != nil {
		b.Fatal(err)
	}
	p := startPlugin(b, "--radar", "larkspur="+radar, "--database", filepath.Join(b.TempDir(), "techradar.db"))
	reps := make([]any, 100)
	for i := range reps {
		reps[i] = map[string]any{"__typename": "Component", "ref": fmt.Sprintf("component:default/svc-%03d", i), "tags": []string{"go", "kafka", "team-a"}}
	}
	body, _ := json.Marshal(map[string]any{
		"query":     `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Component { techRadarEntries { id title } } } }`,
		"variables": map[string]any{"representations": reps},
	})
	do := func() []byte {
		resp, err := http.Post(p.url+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return out
	}
	if out := do(); !bytes.Contains(out, []byte(`"kafka"`)) || bytes.Contains(out, []byte(`"errors"`)) {
		b.Fatalf("%.500s", out)
	}
	b.ReportAllocs()
	for b.Loop() {
		do()
	}
}
