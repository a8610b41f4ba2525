package radar

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

const radarYAML = `
quadrants:
  - {id: languages, name: Languages}
  - {id: platforms, name: Platforms}
rings:
  - {id: adopt, name: Adopt, color: "#5BA300"}
  - {id: trial, name: Trial, color: "#009EB0"}
  - {id: hold, name: Hold, color: "#E09B96", description: Do not start new work with it.}
entries:
  - id: go
    title: Go
    quadrant: languages
    links: [{url: "https://go.dev", title: Go}]
    timeline:
      - {date: "2023-01-10", ringId: trial}
      - {date: "2024-06-01", ringId: adopt, description: Most services are Go now.}
  - id: php
    title: PHP
    quadrant: languages
    timeline:
      - {date: "2022-01-01", ringId: trial}
      - {date: "2024-02-01T10:00:00Z", ringId: hold}
  - id: kafka
    key: kafka-key
    title: Kafka
    quadrant: platforms
    timeline:
      - {date: "2024-03-01", ringId: adopt, moved: 0}
`

func TestParse(t *testing.T) {
	r, err := Parse("radar.yaml", []byte(radarYAML))
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := time.Parse(time.RFC3339, s); return d }
	want := []Entry{
		{ID: "go", Key: "go", Title: "Go", Quadrant: "languages", Links: []Link{{URL: "https://go.dev", Title: "Go"}}, Timeline: []Snapshot{
			{Date: day("2024-06-01T00:00:00Z"), RingID: "adopt", Description: "Most services are Go now.", Moved: 1},
			{Date: day("2023-01-10T00:00:00Z"), RingID: "trial", Moved: 0},
		}},
		{ID: "php", Key: "php", Title: "PHP", Quadrant: "languages", Timeline: []Snapshot{
			{Date: day("2024-02-01T10:00:00Z"), RingID: "hold", Moved: -1},
			{Date: day("2022-01-01T00:00:00Z"), RingID: "trial", Moved: 0},
		}},
		{ID: "kafka", Key: "kafka-key", Title: "Kafka", Quadrant: "platforms", Timeline: []Snapshot{
			{Date: day("2024-03-01T00:00:00Z"), RingID: "adopt", Moved: 0},
		}},
	}
	if diff := cmp.Diff(want, r.Entries); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	// The same radar as JSON reads the same.
	var doc map[string]any
	if err := jsonFromYAML(radarYAML, &doc); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(doc)
	again, err := Parse("radar.json", data)
	if err != nil || !cmp.Equal(again, r) {
		t.Errorf("as JSON: %v\n%s", err, cmp.Diff(r, again))
	}
	// What Backstage's frontend reads: dates as ISO strings, newest first.
	out, _ := r.Backstage()
	if !strings.Contains(string(out), `"timeline":[{"date":"2024-06-01T00:00:00Z","ringId":"adopt","description":"Most services are Go now.","moved":1}`) {
		t.Errorf("Backstage's response: %s", out)
	}
}

func TestParse_Errors(t *testing.T) {
	for _, c := range []struct {
		name, data, want string
	}{
		{"radar.yaml", strings.Replace(radarYAML, "quadrant: platforms", "quadrant: tools", 1), `entry "kafka": quadrant "tools" is not one of the radar's`},
		{"radar.yaml", strings.Replace(radarYAML, "ringId: hold", "ringId: assess", 1), `entry "php", timeline[1]: ring "assess" is not one of the radar's`},
		{"radar.yaml", strings.Replace(radarYAML, "id: php", "id: go", 1), `entry "go": the id is taken by another entry`},
		{"radar.yaml", strings.Replace(radarYAML, `"2022-01-01"`, `"yesterday"`, 1), `entry "php", timeline[0]: date "yesterday" is not a date`},
		{"radar.yaml", strings.Replace(radarYAML, "moved: 0", "moved: 2", 1), `entry "kafka", timeline[0]: moved is -1, 0 or 1, not 2`},
		{"radar.yaml", strings.Replace(radarYAML, `color: "#009EB0"`, `color: ""`, 1), `ring #2 needs an id, a name and a color`},
		{"radar.yaml", "quadrants: [", "radar.yaml: yaml"},
		{"radar.json", `{"quadrants": [}`, "radar.json: invalid character"},
		{"radar.txt", "x", `a radar file is .json, .yaml, .yml or .csv, not ".txt"`},
		{"radar.csv", "title,ring\nGo,adopt\n", `line 1: no "quadrant" column`},
		{"radar.csv", "title,ring,quadrant,moved\nGo,adopt,languages,up\n", `line 2, entry "Go": moved "up" is not a number`},
		{"radar.csv", "title,ring,quadrant\nGo,adopt,languages\nGo,trial,platforms\n", `line 3, entry "Go": quadrant "platforms", where an earlier row has "languages"`},
		{"radar.csv", "title,ring,quadrant\nC++,adopt,languages\nC#,adopt,languages\nC,hold,languages\n", ""},
	} {
		_, err := Parse(c.name, []byte(c.data))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %q: %v", c.name, c.data, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s %q: error %v; want %q", c.name, c.data, err, c.want)
		}
	}
	if _, err := Parse("radar.json", make([]byte, MaxFileSize+1)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("a file too large: %v", err)
	}
}

func TestParse_CSV(t *testing.T) {
	r, err := Parse("radar.csv", []byte(`title,ring,quadrant,moved,description,url,date
Go,trial,Languages,0,New here,https://go.dev,2023-01-10
Go,adopt,Languages,5,Everywhere now,,2024-06-01
"Postgres, 15",adopt,Data,,,,2024-01-01
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := []Quadrant{{"Languages", "Languages"}, {"Data", "Data"}}; !cmp.Equal(r.Quadrants, got) {
		t.Errorf("quadrants %v", r.Quadrants)
	}
	if len(r.Rings) != 2 || r.Rings[0].ID != "trial" || r.Rings[0].Color == "" {
		t.Errorf("rings %v", r.Rings)
	}
	if len(r.Entries) != 2 || r.Entries[0].ID != "go" || len(r.Entries[0].Timeline) != 2 ||
		r.Entries[0].Timeline[0].RingID != "adopt" || r.Entries[0].Timeline[0].Moved != 1 || r.Entries[1].ID != "postgres-15" {
		t.Errorf("entries %+v", r.Entries)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"Go": "go", "C++": "c-plus-plus", "C#": "c-sharp", "Node.js 20": "node-js-20", "  x  ": "x"} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func jsonFromYAML(s string, out *map[string]any) error { return yaml.Unmarshal([]byte(s), out) }
