package search

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseQuery(t *testing.T) {
	for _, c := range []struct {
		q    string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"  Payment-Gateway  ", []string{"payment", "gateway"}, true},
		{`"a" OR b* NEAR(c) {name}: -d ^e`, []string{"a", "or", "b", "near", "c", "name", "d", "e"}, true},
		{"go go GO", []string{"go"}, true},
		{"Grüße café", []string{"grüße", "café"}, true},
		{"a b c d e f g h i j", []string{"a", "b", "c", "d", "e", "f", "g", "h"}, true},
		{strings.Repeat("x", MaxQueryLength), []string{strings.Repeat("x", MaxQueryLength)}, true},
		{strings.Repeat("x", MaxQueryLength+1), nil, false},
		{"%_'\\;--", nil, true},
	} {
		got, ok := ParseQuery(c.q)
		if ok != c.ok || !cmp.Equal(got, c.want) {
			t.Errorf("ParseQuery(%q) = %q, %v; want %q, %v", c.q, got, ok, c.want, c.ok)
		}
	}
}

func TestCorrections(t *testing.T) {
	vocab := []string{"playback", "playbook", "payment", "gateway", "lookup", "ledger", "artist", "artists", "kotlin"}
	for _, c := range []struct {
		word string
		want []string
	}{
		{"playbak", []string{"playback"}},  // a letter left out
		{"plyaback", []string{"playback"}}, // two swapped
		{"paymnet", []string{"payment"}},   // swapped
		{"gatewya", []string{"gateway"}},   // swapped at the end
		{"lookpu", []string{"lookup"}},     // swapped at the end
		{"artst", []string{"artist"}},      // one edit; artists is two away
		{"kotln", []string{"kotlin"}},      //
		{"playbok", []string{"playbook"}},  // playback is two edits away
		{"ledgre", []string{"ledger"}},     //
		{"led", nil},                       // too short to correct
		{"zzzzzz", nil},                    //
		{"playback", []string{"playbook"}}, // a word is not its own correction
		{"lpayback", []string{"playback"}}, // the first two swapped
	} {
		if got := Corrections(c.word, vocab); !cmp.Equal(got, c.want) {
			t.Errorf("Corrections(%q) = %q, want %q", c.word, got, c.want)
		}
	}
}

func TestCandidateRanges(t *testing.T) {
	r, lo, hi := CandidateRanges("lpayback")
	if !cmp.Equal(r, [][2]string{{"l", "m"}, {"p", "q"}}) || lo != 6 || hi != 10 {
		t.Errorf("CandidateRanges(lpayback) = %q %d %d", r, lo, hi)
	}
	if r, _, _ := CandidateRanges("ab"); r != nil {
		t.Errorf("a word too short to correct has ranges %q", r)
	}
}

func TestTerms(t *testing.T) {
	seen := map[string]bool{"go": true}
	long := strings.Repeat("é", 40) // 80 bytes
	got := Terms(seen, "Payment-Gateway v2 go", "payment 2024 "+long)
	if want := []string{"payment", "gateway", "v2", "2024", strings.Repeat("é", 32)}; !cmp.Equal(got, want) {
		t.Errorf("Terms = %q, want %q", got, want)
	}
	if !seen["gateway"] || len(seen) != 6 {
		t.Errorf("seen = %v", seen)
	}
}

func TestSnippet(t *testing.T) {
	words := Plan{Mode: ModeWords, Words: [][]string{{"pay"}, {"gate"}}}
	parts := Plan{Mode: ModeParts, Words: [][]string{{"atewa"}}}
	long := strings.Repeat("filler ", 40) + "the Payment <gateway> & more " + strings.Repeat("tail ", 40)
	for _, c := range []struct {
		name string
		plan Plan
		text string
		want string
	}{
		{"prefix marks the word", words, "Takes card payments through the gateway.", "Takes card <mark>payments</mark> through the <mark>gateway</mark>."},
		{"part marks the part", parts, "payment-gateway", "payment-g<mark>atewa</mark>y"},
		{"escaped", words, `<script>pay("x")</script>`, `&lt;script&gt;<mark>pay</mark>(&#34;x&#34;)&lt;/script&gt;`},
		{"no match shows the beginning", words, "Records every entry.", "Records every entry."},
		{"cut around the first match", words, long, "…filler filler filler filler filler the <mark>Payment</mark> &lt;<mark>gateway</mark>&gt; &amp; more " + strings.TrimSpace(strings.Repeat("tail ", 21)) + "…"},
		{"empty", words, "", ""},
		{"all", Plan{Mode: ModeAll}, "pay gate", "pay gate"},
		{"case folded", words, "PAYMENT Gate", "<mark>PAYMENT</mark> <mark>Gate</mark>"},
	} {
		if got := c.plan.Snippet(c.text).HTML(); got != c.want {
			t.Errorf("%s: got\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
	if got := words.Snippet("pay <b>").Tagged("[", "]", func(s string) string { return s }); got != "[pay] <b>" {
		t.Errorf("Tagged = %q", got)
	}
}
