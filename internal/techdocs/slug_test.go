package techdocs

import "testing"

// MkDocs 1.4.2's ids, measured (backstage-spec.md §8.2).
func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Über & Co: the config file!": "uber-co-the-config-file",
		"Hello World":                 "hello-world",
		"  spaced  out  ":             "spaced-out",
		"snake_case stays":            "snake_case-stays",
		"a -- b":                      "a-b",
		"-leading":                    "-leading",
		"日本語":                         "",
		"Version 2.0 (beta)":          "version-20-beta",
		"C++ & C#":                    "c-c",
	} {
		if got := slugify(in); got != want {
			t.Errorf("slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnique(t *testing.T) {
	used := map[string]bool{}
	var got []string
	for _, id := range []string{"usage", "usage", "usage", "", "", "x_1", "x_1", "x"} {
		got = append(got, unique(id, used))
	}
	want := []string{"usage", "usage_1", "usage_2", "_1", "_2", "x_1", "x_2", "x"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("unique: %v, want %v", got, want)
		}
	}
}
