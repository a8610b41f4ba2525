package ingest_test

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/ingest"
)

// docSummary is what a test checks of one [ingest.Document].
type docSummary struct {
	Index int
	Line  int
	Value map[string]any
	Err   string // a substring of the error; "" when there is none
}

func checkDocs(t *testing.T, src string, want []docSummary) []ingest.Document {
	t.Helper()
	docs := slices.Collect(ingest.ParseYAML([]byte(src), ingest.DefaultMaxEntitySize))
	var got []docSummary
	for _, d := range docs {
		s := docSummary{Index: d.Index, Line: d.Line, Value: d.Value}
		if d.Err != nil {
			s.Err = d.Err.Error()
		}
		got = append(got, s)
	}
	if len(got) != len(want) {
		t.Fatalf("ParseYAML(%q) returned %d documents %+v; want %d", src, len(got), got, len(want))
	}
	for i := range want {
		if want[i].Err == "" && got[i].Err != "" || !strings.Contains(got[i].Err, want[i].Err) {
			t.Errorf("document %d error = %q; want one containing %q", i, got[i].Err, want[i].Err)
		}
		if (want[i].Err == "") != (docs[i].Err == nil) {
			t.Errorf("document %d Err = %v; want an error: %t", i, docs[i].Err, want[i].Err != "")
		}
		got[i].Err = want[i].Err
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseYAML(%q) mismatch (-want +got):\n%s", src, diff)
	}
	return docs
}

func TestParseYAML_Documents(t *testing.T) {
	one := map[string]any{"a": int64(1)}
	two := map[string]any{"b": int64(2)}
	tests := []struct {
		name string
		src  string
		want []docSummary
	}{
		{name: "Single", src: "a: 1\n", want: []docSummary{{0, 1, one, ""}}},
		{name: "NoFinalNewline", src: "a: 1", want: []docSummary{{0, 1, one, ""}}},
		{name: "Two", src: "a: 1\n---\nb: 2\n", want: []docSummary{{0, 1, one, ""}, {1, 3, two, ""}}},
		{name: "LeadingMarker", src: "---\na: 1\n---\nb: 2\n", want: []docSummary{{0, 2, one, ""}, {1, 4, two, ""}}},
		{name: "TrailingMarker", src: "a: 1\n---\n", want: []docSummary{{0, 1, one, ""}}},
		{name: "TrailingMarkers", src: "a: 1\n---\n---\n", want: []docSummary{{0, 1, one, ""}}},
		{name: "EmptyFile", src: "", want: nil},
		{name: "OnlyNewlines", src: "\n\n", want: nil},
		{name: "OnlyMarker", src: "---\n", want: nil},
		{name: "OnlyMarkers", src: "---\n---\n", want: nil},
		{name: "OnlyComment", src: "# nothing here\n", want: nil},
		{name: "EmptyDocumentBetween", src: "a: 1\n---\n---\nb: 2\n", want: []docSummary{{0, 1, one, ""}, {2, 4, two, ""}}},
		{name: "CommentDocumentBetween", src: "a: 1\n---\n# nothing\n---\nb: 2\n", want: []docSummary{{0, 1, one, ""}, {2, 5, two, ""}}},
		{name: "NullDocuments", src: "a: 1\n---\n~\n---\nnull\n---\nb: 2\n", want: []docSummary{{0, 1, one, ""}, {3, 7, two, ""}}},
		{name: "EmptyFirstDocument", src: "---\n---\nb: 2\n", want: []docSummary{{1, 3, two, ""}}},
		{name: "DocumentEndMarker", src: "a: 1\n...\nb: 2\n", want: []docSummary{{0, 1, one, ""}, {1, 3, two, ""}}},
		{name: "DocumentEndThenMarker", src: "a: 1\n...\n---\nb: 2\n", want: []docSummary{{0, 1, one, ""}, {1, 4, two, ""}}},
		{name: "LeadingComment", src: "# yaml-language-server: $schema=./schema.json\n---\na: 1\n", want: []docSummary{{0, 3, one, ""}}},
		{name: "YAMLDirective", src: "%YAML 1.2\n---\na: 1\n---\nb: 2\n", want: []docSummary{{0, 3, one, ""}, {1, 5, two, ""}}},
		{name: "CommentAfterMarker", src: "a: 1\n--- # second\nb: 2\n", want: []docSummary{{0, 1, one, ""}, {1, 3, two, ""}}},
		{name: "CRLF", src: "a: 1\r\n---\r\nb: 2\r\n", want: []docSummary{{0, 1, one, ""}, {1, 3, two, ""}}},
		{name: "IndentedDashesInBlockScalar", src: "a: |\n  ---\n  text\nb: 2\n", want: []docSummary{{0, 1, map[string]any{"a": "---\ntext\n", "b": int64(2)}, ""}}},
		{name: "DashesInKey", src: "---x: 1\n", want: []docSummary{{0, 1, map[string]any{"---x": int64(1)}, ""}}},
		{name: "CommentBeforeBody", src: "# header\n\na: 1\n", want: []docSummary{{0, 3, one, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDocs(t, tt.src, tt.want)
		})
	}
}

// TestParseYAML_SyntaxError checks that an error in one document is
// reported at its line in the file, and that the documents before and after
// it still parse.
func TestParseYAML_SyntaxError(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		errIndex int
		line     int
	}{
		{
			name:     "MappingValue",
			src:      "a: 1\n---\nname: x\nfoo: bar: baz\n---\nb: 2\n",
			errIndex: 1,
			line:     4,
		},
		{
			name: "DeepInFile",
			src: "apiVersion: v1\nkind: A\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: B\nmetadata:\n  name: b\n---\n" +
				"apiVersion: v1\nkind: C\nmetadata:\n  name: c\n   bad: indent\n---\nb: 2\n",
			errIndex: 2,
			line:     15,
		},
		{
			name:     "FirstDocument",
			src:      "a: b: c\n---\nb: 2\n",
			errIndex: 0,
			line:     1,
		},
		{
			name:     "UnclosedQuote",
			src:      "a: 1\n---\nx: 1\ny: \"open\n---\nb: 2\n",
			errIndex: 1,
			line:     4,
		},
		{
			name:     "BlockSequenceInMapping",
			src:      "a: 1\n---\nx: 1\ny: - a\n---\nb: 2\n",
			errIndex: 1,
			line:     4,
		},
		// Errors of yaml.v3's parser, rather than its scanner, come with
		// lines counted from 0; they must still name the line in the file.
		{
			name:     "UnclosedFlowSequence",
			src:      "a: 1\n---\napiVersion: v1\nkind: Component\nmetadata:\n  name: [oops\n---\nb: 2\n",
			errIndex: 1,
			line:     6,
		},
		{
			name:     "UnclosedFlowMapping",
			src:      "a: 1\n---\nx: 1\ny: {a: 1\n---\nb: 2\n",
			errIndex: 1,
			line:     4,
		},
		{
			name:     "BadIndentation",
			src:      "a: 1\n---\nx: 1\na:\n  b: 1\n c: 2\n---\nb: 2\n",
			errIndex: 1,
			line:     6,
		},
		{
			name:     "SequenceThenKey", // the line where the sequence starts
			src:      "a: 1\n---\nx: 1\nlist:\n  - a\n  b: 1\n---\nb: 2\n",
			errIndex: 1,
			line:     5,
		},
		{
			name:     "UndefinedTagHandle",
			src:      "a: 1\n---\nx: 1\ny: !e!foo bar\n---\nb: 2\n",
			errIndex: 1,
			line:     4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := slices.Collect(ingest.ParseYAML([]byte(tt.src), ingest.DefaultMaxEntitySize))
			if len(docs) != tt.errIndex+2 {
				t.Fatalf("got %d documents; want %d", len(docs), tt.errIndex+2)
			}
			for i, d := range docs {
				if i == tt.errIndex {
					continue
				}
				if d.Err != nil || d.Value == nil {
					t.Errorf("document %d = %+v, %v; want a value and no error", i, d.Value, d.Err)
				}
			}
			d := docs[tt.errIndex]
			if d.Value != nil {
				t.Errorf("Value = %+v; want nil", d.Value)
			}
			var se *ingest.SyntaxError
			if !errors.As(d.Err, &se) {
				t.Fatalf("Err = %v (%T); want a *ingest.SyntaxError", d.Err, d.Err)
			}
			if se.Line != tt.line {
				t.Errorf("SyntaxError.Line = %d; want %d (%v)", se.Line, tt.line, se)
			}
			if want := fmt.Sprintf("YAML syntax error at line %d: ", tt.line); !strings.HasPrefix(d.Err.Error(), want) {
				t.Errorf("Err = %q; want it to start with %q", d.Err, want)
			}
			if got := d.LineOf("spec.owner"); got != d.Line {
				t.Errorf("LineOf on a broken document = %d; want its first line %d", got, d.Line)
			}
		})
	}
}

func TestParseYAML_RootNotObject(t *testing.T) {
	tests := []struct {
		name string
		root string
		got  string
	}{
		{name: "Sequence", root: "- a\n- b\n", got: "array"},
		{name: "FlowSequence", root: "[]\n", got: "array"},
		{name: "String", root: "just some text\n", got: "string"},
		{name: "BlockScalar", root: "|\n  text\n", got: "string"},
		{name: "Number", root: "42\n", got: "number"},
		{name: "Bool", root: "true\n", got: "boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDocs(t, "a: 1\n---\n"+tt.root+"---\nb: 2\n", []docSummary{
				{0, 1, map[string]any{"a": int64(1)}, ""},
				{1, 3, nil, "expected object at root, got " + tt.got},
				{2, 3 + strings.Count(tt.root, "\n") + 1, map[string]any{"b": int64(2)}, ""},
			})
		})
	}
}

func TestParseYAML_Keys(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []docSummary
	}{
		{
			// Merge keys are not applied: "<<" stays an ordinary key.
			name: "MergeKeyLiteral",
			src:  "base: &base\n  a: 1\nobj:\n  <<: *base\n  b: 2\n",
			want: []docSummary{{0, 1, map[string]any{
				"base": map[string]any{"a": int64(1)},
				"obj":  map[string]any{"<<": map[string]any{"a": int64(1)}, "b": int64(2)},
			}, ""}},
		},
		{
			name: "MergeKeyList",
			src:  "x: &x {a: 1}\ny: &y {b: 2}\nz:\n  <<: [*x, *y]\n",
			want: []docSummary{{0, 1, map[string]any{
				"x": map[string]any{"a": int64(1)},
				"y": map[string]any{"b": int64(2)},
				"z": map[string]any{"<<": []any{map[string]any{"a": int64(1)}, map[string]any{"b": int64(2)}}},
			}, ""}},
		},
		{
			name: "MergeKeyDoesNotOverride",
			src:  "base: &base {owner: team-a}\nspec:\n  owner: team-b\n  <<: *base\n",
			want: []docSummary{{0, 1, map[string]any{
				"base": map[string]any{"owner": "team-a"},
				"spec": map[string]any{"owner": "team-b", "<<": map[string]any{"owner": "team-a"}},
			}, ""}},
		},
		{
			name: "DuplicateKey",
			src:  "a: 1\na: 2\n---\nb: 2\n",
			want: []docSummary{{0, 1, nil, `line 2: duplicate key "a"`}, {1, 4, map[string]any{"b": int64(2)}, ""}},
		},
		{
			name: "DuplicateNestedKey",
			src:  "b: 0\n---\nmetadata:\n  name: x\n  namespace: y\n  name: z\n",
			want: []docSummary{{0, 1, map[string]any{"b": int64(0)}, ""}, {1, 3, nil, `line 6: duplicate key "name"`}},
		},
		{
			name: "DuplicateKeyQuoted",
			src:  "a: 1\n'a': 2\n",
			want: []docSummary{{0, 1, nil, `duplicate key "a"`}},
		},
		{
			name: "NonScalarKey",
			src:  "? [a, b]\n: 1\n",
			want: []docSummary{{0, 1, nil, "mapping keys must be scalars"}},
		},
		{
			name: "NumericKeyIsText",
			src:  "1: one\ntrue: yes\n~: nothing\n",
			want: []docSummary{{0, 1, map[string]any{"1": "one", "true": "yes", "~": "nothing"}, ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDocs(t, tt.src, tt.want)
		})
	}
}

func TestParseYAML_Aliases(t *testing.T) {
	src := "defaults: &d\n  owner: team-a\n  tags: [b, a]\nspec: *d\nlist: &l [1, two]\nother: *l\nname: &n artist-web\ncopy: *n\n"
	docs := checkDocs(t, src, []docSummary{{0, 1, map[string]any{
		"defaults": map[string]any{"owner": "team-a", "tags": []any{"b", "a"}},
		"spec":     map[string]any{"owner": "team-a", "tags": []any{"b", "a"}},
		"list":     []any{int64(1), "two"},
		"other":    []any{int64(1), "two"},
		"name":     "artist-web",
		"copy":     "artist-web",
	}, ""}})
	// Each alias is a copy: sorting one list in place, as catalog.Parse
	// does, must not change the other.
	v := docs[0].Value
	tags := v["spec"].(map[string]any)["tags"].([]any)
	tags[0], tags[1] = tags[1], tags[0]
	if got := v["defaults"].(map[string]any)["tags"]; !cmp.Equal(got, []any{"b", "a"}) {
		t.Errorf("defaults.tags = %v after changing spec.tags; want [b a]", got)
	}
}

func TestParseYAML_Scalars(t *testing.T) {
	tests := []struct {
		text string
		want any
	}{
		// Timestamps stay strings.
		{"2001-12-14", "2001-12-14"},
		{"2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"},
		{"2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43.10 -5"},
		{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"},
		// Integers are int64, in YAML 1.2's core forms.
		{"42", int64(42)},
		{"0", int64(0)},
		{"-7", int64(-7)},
		{"+12", int64(12)},
		{"017", int64(17)},
		{"08", int64(8)},
		{"0o17", int64(15)},
		{"0x1F", int64(31)},
		{"0x1f", int64(31)},
		{"9223372036854775807", int64(9223372036854775807)},
		{"-9223372036854775808", int64(-9223372036854775808)},
		{"9223372036854775808", float64(9223372036854775808)},
		// Floats are float64.
		{"1.5", 1.5},
		{"-0.25", -0.25},
		{".5", 0.5},
		{"1.", 1.0},
		{"1e3", 1000.0},
		{"6.02E+23", 6.02e23},
		{"+1.5e-3", 1.5e-3},
		// YAML 1.1 number forms are strings in YAML 1.2.
		{"1_000", "1_000"},
		{"1_000.5", "1_000.5"},
		{"0b101", "0b101"},
		{"0X1F", "0X1F"},
		{"-0x1F", "-0x1F"},
		{"0o8", "0o8"},
		{"1:30", "1:30"},
		// YAML 1.1 booleans are strings in YAML 1.2.
		{"yes", "yes"},
		{"no", "no"},
		{"Yes", "Yes"},
		{"NO", "NO"},
		{"on", "on"},
		{"off", "off"},
		{"y", "y"},
		{"n", "n"},
		{"true", true},
		{"True", true},
		{"TRUE", true},
		{"false", false},
		{"False", false},
		{"FALSE", false},
		{"tRUE", "tRUE"},
		// Null.
		{"", nil},
		{"~", nil},
		{"null", nil},
		{"Null", nil},
		{"NULL", nil},
		{"nULL", "nULL"},
		// Quoting and explicit tags.
		{"'42'", "42"},
		{`"true"`, "true"},
		{"'2001-12-14'", "2001-12-14"},
		{"!!str 42", "42"},
		{"!!str yes", "yes"},
		{"!!int '7'", int64(7)},
		{"!!timestamp 2001-12-14", "2001-12-14"},
		{"!!binary aGVsbG8=", "aGVsbG8="},
		{"!custom value", "value"},
		{"plain text", "plain text"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			src := "v: " + tt.text + "\n"
			docs := slices.Collect(ingest.ParseYAML([]byte(src), ingest.DefaultMaxEntitySize))
			if len(docs) != 1 || docs[0].Err != nil {
				t.Fatalf("ParseYAML(%q) = %+v; want one document without error", src, docs)
			}
			got, ok := docs[0].Value["v"]
			if !ok {
				t.Fatalf("ParseYAML(%q) has no key v: %+v", src, docs[0].Value)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("value of %q mismatch (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestDocument_LineOf(t *testing.T) {
	src := strings.Join([]string{
		"apiVersion: backstage.io/v1alpha1", //  1
		"kind: Group",                       //  2
		"metadata:",                         //  3
		"  name: team-a",                    //  4
		"spec:",                             //  5
		"  type: team",                      //  6
		"  children: []",                    //  7
		"---",                               //  8
		"# the component",                   //  9
		"apiVersion: backstage.io/v1alpha1", // 10
		"kind: Component",                   // 11
		"metadata:",                         // 12
		"  name: artist-web",                // 13
		"  tags:",                           // 14
		"    - java",                        // 15
		"    - data",                        // 16
		"  links:",                          // 17
		"    - url: https://example.com",    // 18
		"      title: Example",              // 19
		"spec:",                             // 20
		"  type: website",                   // 21
		"  lifecycle: production",           // 22
		"  owner: team-a",                   // 23
		"  providesApis: [artist-api, search-api]", // 24
		"  defaults: &d",   // 25
		"    system: core", // 26
		"  copy: *d",       // 27
		"",
	}, "\n")
	docs := slices.Collect(ingest.ParseYAML([]byte(src), ingest.DefaultMaxEntitySize))
	if len(docs) != 2 || docs[0].Err != nil || docs[1].Err != nil {
		t.Fatalf("ParseYAML = %+v; want two documents without errors", docs)
	}
	tests := []struct {
		doc  int
		path string
		want int
	}{
		{0, "", 1},
		{0, "spec.children", 7},
		{0, "metadata.name", 4},
		{1, "", 10},
		{1, "kind", 11},
		{1, "metadata", 12},
		{1, "metadata.name", 13},
		{1, "spec.owner", 23},
		{1, "metadata.tags", 14},
		{1, "metadata.tags.0", 15},
		{1, "metadata.tags.1", 16},
		{1, "metadata.links.0", 18},
		{1, "metadata.links.0.url", 18},
		{1, "metadata.links.0.title", 19},
		{1, "spec.providesApis.1", 24},
		{1, "spec.copy.system", 26},
		// Missing fields point at the nearest ancestor that exists.
		{1, "spec.system", 20},
		{1, "metadata.tags.5", 14},
		{1, "metadata.tags.x", 14},
		{1, "metadata.name.extra", 13},
		{1, "metadata.annotations.backstage.io/techdocs-ref", 12},
		{1, "relations", 10},
	}
	if docs[1].Line != 10 {
		t.Errorf("docs[1].Line = %d; want 10", docs[1].Line)
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%s", tt.doc, tt.path), func(t *testing.T) {
			if got := docs[tt.doc].LineOf(tt.path); got != tt.want {
				t.Errorf("LineOf(%q) = %d; want %d", tt.path, got, tt.want)
			}
		})
	}
}

// TestParseYAML_AliasBomb checks that a "billion laughs" document is
// refused quickly instead of expanded, and that it does not stop the
// documents after it.
func TestParseYAML_AliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString(`a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	prev := "a"
	for _, c := range "bcdefghi" { // 9^9 strings once expanded
		fmt.Fprintf(&b, "%c: &%c [%s]\n", c, c, strings.TrimSuffix(strings.Repeat("*"+prev+",", 9), ","))
		prev = string(c)
	}
	b.WriteString("---\nok: 1\n")

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	docs := slices.Collect(ingest.ParseYAML([]byte(b.String()), ingest.DefaultMaxEntitySize))
	runtime.ReadMemStats(&after)

	if len(docs) != 2 {
		t.Fatalf("got %d documents; want 2", len(docs))
	}
	if !errors.Is(docs[0].Err, ingest.ErrTooLarge) {
		t.Errorf("bomb Err = %v; want ErrTooLarge", docs[0].Err)
	}
	if docs[0].Value != nil {
		t.Error("bomb Value is set; want nil")
	}
	if docs[1].Err != nil || !cmp.Equal(docs[1].Value, map[string]any{"ok": int64(1)}) {
		t.Errorf("document after the bomb = %v, %v; want {ok: 1}", docs[1].Value, docs[1].Err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("ParseYAML allocated %d MiB; want well under 64 MiB", alloc>>20)
	}
}

// aliasBomb returns YAML lines that give key a value of more than 100 MB
// once its aliases are expanded: a 1,000-character string repeated 10^5
// times, in 111,111 values, well under the limit on values.
func aliasBomb(key, indent string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%sl0: &l0 %q\n", indent, strings.Repeat("x", 1000))
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&b, "%sl%d: &l%d [%s]\n", indent, i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), 10), ","))
	}
	fmt.Fprintf(&b, "%s%s: *l5\n", indent, key)
	return b.String()
}

// TestParseYAML_AliasBombBytes checks that a document whose aliases repeat
// a long string is refused once it passes the byte limit, before the
// memory is spent, though it has few values.
func TestParseYAML_AliasBombBytes(t *testing.T) {
	src := aliasBomb("bomb", "") + "---\nok: 1\n"
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	docs := slices.Collect(ingest.ParseYAML([]byte(src), ingest.DefaultMaxEntitySize))
	runtime.ReadMemStats(&after)
	if len(docs) != 2 {
		t.Fatalf("got %d documents; want 2", len(docs))
	}
	if !errors.Is(docs[0].Err, ingest.ErrTooLarge) || !strings.Contains(docs[0].Err.Error(), "1048576 bytes") {
		t.Errorf("bomb Err = %v; want ErrTooLarge naming the limit", docs[0].Err)
	}
	if docs[1].Err != nil || docs[1].Size == 0 {
		t.Errorf("document after the bomb = %+v; want it decoded, with its size", docs[1])
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("ParseYAML allocated %d MiB; want under 16 MiB", alloc>>20)
	}
}

func TestParseYAML_RecursiveAlias(t *testing.T) {
	checkDocs(t, "a: &a\n  b: *a\n---\nok: 1\n", []docSummary{
		{0, 1, nil, "alias *a is part of the value it refers to"},
		{1, 4, map[string]any{"ok": int64(1)}, ""},
	})
	checkDocs(t, "list: &l [1, *l]\n", []docSummary{{0, 1, nil, "alias *l is part of the value it refers to"}})
}
