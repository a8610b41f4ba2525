package audit_test

import (
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
					"name": "svc",
					"auth": map[string]any{"password": "hunter2", "user": "jane"},
					"steps": []any{
						map[string]any{"id": "fetch", "token": "abc"},
						[]any{map[string]any{"secretValue": 1.0}, "plain"},
						"text",
					},
				},
			},
			want: map[string]any{
				"input": map[string]any{
					"name": "svc",
					"auth": map[string]any{"password": r, "user": "jane"},
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

func TestRedactString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://jane:ghp_SECRET@git.example.com/a.yaml", "https://redacted@git.example.com/a.yaml"},
		{"https://git.example.com/a.yaml?token=abc&ref=main", "https://git.example.com/a.yaml?ref=main&token=redacted"},
		{"https://git.example.com/a.yaml?ref=main", "https://git.example.com/a.yaml?ref=main"},
		{"component:default/x", "component:default/x"},
		{"not a url://", "not a url://"},
	} {
		if got := audit.RedactString(c.in); got != c.want {
			t.Errorf("RedactString(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	got := audit.Redact(map[string]any{"target": "https://u:p@h.example/x"})
	if got["target"] != "https://redacted@h.example/x" {
		t.Errorf("Redact left a URL's password: %v", got)
	}
}
