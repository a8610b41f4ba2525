package audit_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/audit"
)

func TestRedact(t *testing.T) {
	const r = audit.Redacted
	tests := []struct {
		name string
		args map[string]any
		want map[string]any
	}{
		{name: "nil", args: nil, want: nil},
		{
			name: "plain arguments are kept",
			args: map[string]any{"ref": "component:default/svc", "dryRun": true, "limit": 3.0, "none": nil},
			want: map[string]any{"ref": "component:default/svc", "dryRun": true, "limit": 3.0, "none": nil},
		},
		{
			name: "each secret word, in any case and position",
			args: map[string]any{
				"token": "t", "githubToken": "t", "CLIENT_SECRET": "s", "Password": "p", "apiKey": "k",
				"credentials": map[string]any{"user": "u"}, "Authorization": "Bearer x", "target": "https://x",
			},
			want: map[string]any{
				"token": r, "githubToken": r, "CLIENT_SECRET": r, "Password": r, "apiKey": r,
				"credentials": r, "Authorization": r, "target": "https://x",
			},
		},
		{
			name: "nested maps and lists",
			args: map[string]any{
				"input": map[string]any{
					"name":  "svc",
					"login": map[string]any{"password": "hunter2", "user": "jane"},
					"steps": []any{
						map[string]any{"id": "fetch", "token": "abc"},
						[]any{map[string]any{"secretValue": 1.0}, "plain"},
						"text",
					},
				},
			},
			want: map[string]any{
				"input": map[string]any{
					"name":  "svc",
					"login": map[string]any{"password": r, "user": "jane"},
					"steps": []any{
						map[string]any{"id": "fetch", "token": r},
						[]any{map[string]any{"secretValue": r}, "plain"},
						"text",
					},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := audit.Redact(tt.args)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Redact mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, audit.Redact(got)); diff != "" {
				t.Errorf("redacting twice changed the result (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRedact_CopiesInput checks that the caller's arguments, which may
// still be in use by the request, keep their secrets.
func TestRedact_CopiesInput(t *testing.T) {
	args := map[string]any{
		"token":  "abc",
		"nested": map[string]any{"password": "hunter2"},
		"list":   []any{map[string]any{"key": "k"}},
	}
	audit.Redact(args)
	want := map[string]any{
		"token":  "abc",
		"nested": map[string]any{"password": "hunter2"},
		"list":   []any{map[string]any{"key": "k"}},
	}
	if diff := cmp.Diff(want, args); diff != "" {
		t.Errorf("Redact modified its input (-want +got):\n%s", diff)
	}
}

// TestRedactString tries every way a secret was found to pass the
// redaction of URLs: each input holds "SECRET", which must not survive.
func TestRedactString(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"Userinfo", "https://jane:ghp_SECRET@git.example.com/a.yaml", "https://redacted@git.example.com/a.yaml"},
		{"UserOnly", "https://ghp_SECRET@git.example.com/a.yaml", "https://redacted@git.example.com/a.yaml"},
		{"AtInPassword", "https://jane:p@SECRET@git.example.com/a.yaml", "https://redacted@git.example.com/a.yaml"},
		{"Query", "https://git.example.com/a.yaml?token=SECRET&ref=main", "https://git.example.com/a.yaml?token=redacted&ref=main"},
		{"LeadingSpace", " https://jane:SECRET@git.example.com/a.yaml?token=SECRET", " https://redacted@git.example.com/a.yaml?token=redacted"},
		{"LeadingTabAndNewline", "\t\nhttps://jane:SECRET@h.example/x", "\t\nhttps://redacted@h.example/x"},
		{"MalformedPort", "https://jane:SECRET@git.example.com:abc/a.yaml?token=SECRET", "https://redacted@git.example.com:abc/a.yaml?token=redacted"},
		{"InvalidPercentEscape", "https://git.example.com/a%zz.yaml?token=SECRET%zz&x=%", "https://git.example.com/a%zz.yaml?token=redacted&x=%"},
		{"EscapedName", "https://git.example.com/a.yaml?to%6Ben=SECRET", "https://git.example.com/a.yaml?to%6Ben=redacted"},
		{"Fragment", "https://app.example.com/cb#access_token=SECRET&token_type=bearer", "https://app.example.com/cb#access_token=redacted&token_type=redacted"},
		{"AmazonSigned", "https://b.s3.amazonaws.com/a.yaml?X-Amz-Credential=AKIA%2FSECRET&X-Amz-Signature=SECRET&X-Amz-Security-Token=SECRET&X-Amz-Expires=60",
			"https://b.s3.amazonaws.com/a.yaml?X-Amz-Credential=redacted&X-Amz-Signature=redacted&X-Amz-Security-Token=redacted&X-Amz-Expires=60"},
		{"AzureSAS", "https://a.blob.core.windows.net/c/a.yaml?sv=2022-11-02&sp=r&sig=SECRET%3D", "https://a.blob.core.windows.net/c/a.yaml?sv=2022-11-02&sp=r&sig=redacted"},
		{"GoogleSigned", "https://storage.googleapis.com/b/a.yaml?X-Goog-Signature=SECRET", "https://storage.googleapis.com/b/a.yaml?X-Goog-Signature=redacted"},
		{"NameCase", "https://h.example/x?API_KEY=SECRET&Password=SECRET", "https://h.example/x?API_KEY=redacted&Password=redacted"},
		{"Semicolons", "https://h.example/x;jsessionid=SECRET?a=1", "https://h.example/x;jsessionid=redacted"},
		{"Backslashes", "https:\\\\jane:SECRET@h.example\\x", "https:\\\\redacted@h.example\\x"},
		{"NoSlashes", "https:jane:SECRET@h.example/x", "https:redacted@h.example/x"},
		{"InText", "cannot read url:https://jane:SECRET@h.example/x?token=SECRET: 404", "cannot read url:https://redacted@h.example/x?token=redacted 404"},
		{"Field", "{password: SECRET, user: jane}", "{password: redacted, user: jane}"},
		{"QuotedField", `{"client_secret": "SECRET two", "id": 1}`, `{"client_secret": redacted, "id": 1}`},
		{"Plain", "https://git.example.com/a.yaml?ref=main", "https://git.example.com/a.yaml?ref=main"},
		{"Ref", "component:default/x", "component:default/x"},
		{"Path", "file:/srv/catalog/all.yaml", "file:/srv/catalog/all.yaml"},
		{"NotURL", "not a url://", "not a url://"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := audit.RedactString(c.in)
			if got != c.want {
				t.Errorf("RedactString(%q) = %q; want %q", c.in, got, c.want)
			}
			if strings.Contains(got, "SECRET") {
				t.Errorf("RedactString(%q) = %q: the secret is left", c.in, got)
			}
			if again := audit.RedactString(got); again != got {
				t.Errorf("redacting twice changed %q to %q", got, again)
			}
		})
	}
	got := audit.Redact(map[string]any{"target": "https://u:p@h.example/x"})
	if got["target"] != "https://redacted@h.example/x" {
		t.Errorf("Redact left a URL's password: %v", got)
	}
}

// TestRedact_Documents checks that a string that is long or of several
// lines, such as a YAML document, is kept as its digest, with none of its
// text.
func TestRedact_Documents(t *testing.T) {
	doc := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\n  annotations:\n    github.com/token: SECRET\nspec:\n  password: SECRET\n"
	long := "x" + strings.Repeat("SECRET", 100)
	got := audit.Redact(map[string]any{"yaml": doc, "note": long, "list": []any{doc}})
	want := map[string]any{"yaml": audit.Digest(doc), "note": audit.Digest(long), "list": []any{audit.Digest(doc)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Redact mismatch (-want +got):\n%s", diff)
	}
	d := audit.Digest(doc)
	if d["bytes"] != len(doc) || len(d["sha256"].(string)) != 64 {
		t.Errorf("Digest = %v; want the SHA-256 in hex and the size, %d", d, len(doc))
	}
	if diff := cmp.Diff(got, audit.Redact(got)); diff != "" {
		t.Errorf("redacting twice changed the result (-want +got):\n%s", diff)
	}
}

// TestEvent_Redacted checks that an event's target and error message are
// redacted with its arguments.
func TestEvent_Redacted(t *testing.T) {
	e := audit.Event{
		Action:       "registerLocation",
		Target:       " https://jane:SECRET@h.example:x/a.yaml#access_token=SECRET",
		Arguments:    map[string]any{"target": " https://h.example/a.yaml?sig=SECRET", "token": "SECRET"},
		ErrorMessage: "cannot read https://h.example/a.yaml?X-Amz-Signature=SECRET",
	}
	got := e.Redacted()
	for _, s := range []string{got.Target, got.ErrorMessage, fmt.Sprint(got.Arguments)} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("Redacted left a secret in %q", s)
		}
	}
	if !strings.Contains(e.Target, "SECRET") || e.Arguments["token"] != "SECRET" {
		t.Error("Redacted modified the event it was called on")
	}
}
