package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// Redacted replaces the value of an argument that looks secret.
const Redacted = "[redacted]"

// urlRedacted replaces secrets inside strings, URLs above all (brackets
// would be escaped in a URL).
const urlRedacted = "redacted"

// maxText is the longest string argument kept as text: a longer one, or
// one of several lines, is a document (YAML, JSON, a certificate) whose
// secrets cannot be found reliably, and is kept as its [Digest].
const maxText = 512

// Digest stands for a document in the log: its SHA-256, which tells
// whether two events carried the same document, and its size, and nothing
// of its text.
func Digest(s string) map[string]any {
	sum := sha256.Sum256([]byte(s))
	return map[string]any{"sha256": hex.EncodeToString(sum[:]), "bytes": len(s)}
}

// Redact returns a copy of args fit to keep in the log: the value under
// every name that looks secret ([portal.SecretName]) is replaced by [Redacted],
// at any depth of nested maps and lists; every string longer than 512
// bytes or of more than one line is replaced by its [Digest]; and every
// other string has the secrets it carries replaced (see [RedactString]).
// args itself is not modified. Redacting twice changes nothing.
func Redact(args map[string]any) map[string]any {
	if args == nil {
		return nil
	}
	out := make(map[string]any, len(args))
	for k, v := range args {
		if portal.SecretName(k) {
			out[k] = Redacted
		} else {
			out[k] = redactValue(v)
		}
	}
	return out
}

func redactValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return Redact(v)
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = redactValue(item)
		}
		return out
	case string:
		if len(v) > maxText || strings.ContainsAny(v, "\n\r") {
			return Digest(v)
		}
		return RedactString(v)
	default:
		return v
	}
}

// The patterns of RedactString. They look for what a URL parser would
// take apart without requiring that one could: a URL that url.Parse
// refuses (a leading space, a malformed port, a bad percent escape) is
// still fetched by lenient clients, and still holds its secret.
var (
	// userinfo is what precedes the last @ of a URL's authority: from the
	// scheme's colon and its slashes (any number, either way, as browsers
	// accept them) to the end of the authority at /, \, ?, # or a space.
	userinfo = regexp.MustCompile(`(?i)([a-z][a-z0-9+.\-]*:[/\\]*)([^/\\?#\s@]*(?:@[^/\\?#\s@]*)*)@`)
	// param is name=value after the start of a query (?), a fragment (#),
	// another parameter (& or ;) or a space, or at the start of the text.
	param = regexp.MustCompile(`(^|[?#&;\s])([^=?#&;\s]+)=([^&#;\s]*)`)
	// field is name: value, as YAML, JSON or a header writes it; the value
	// is quoted, or runs to a space, a comma or a closing brace.
	field = regexp.MustCompile(`(^|[\s{,"'])([\w.\-]+)(["']?\s*:\s*)("[^"]*"|'[^']*'|[^\s,}'"]+)`)
)

// RedactString returns s with the secrets it may carry replaced by
// "redacted": the user information of anything like a URL
// (https://user:token@host/), the value of every name=value parameter
// (?token=…, #access_token=…, &X-Amz-Signature=…) and of every name: value
// field whose name looks secret ([portal.SecretName]). s is searched, not parsed,
// so that no malformed URL escapes. Any other string is returned as it is.
func RedactString(s string) string {
	s = userinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := userinfo.FindStringSubmatch(m)
		return sub[1] + urlRedacted + "@"
	})
	s = param.ReplaceAllStringFunc(s, func(m string) string {
		sub := param.FindStringSubmatch(m)
		if !portal.SecretName(sub[2]) {
			return m
		}
		return sub[1] + sub[2] + "=" + urlRedacted
	})
	return field.ReplaceAllStringFunc(s, func(m string) string {
		sub := field.FindStringSubmatch(m)
		if !portal.SecretName(sub[2]) {
			return m
		}
		return sub[1] + sub[2] + sub[3] + urlRedacted
	})
}

// Redacted returns e as it may be kept: its arguments redacted with
// [Redact], and its target and error message, which may quote a URL, with
// [RedactString].
func (e Event) Redacted() Event {
	e.Arguments = Redact(e.Arguments)
	e.Target = RedactString(e.Target)
	e.ErrorMessage = RedactString(e.ErrorMessage)
	return e
}
