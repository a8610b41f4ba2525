package audit

import (
	"net/url"
	"strings"
)

// Redacted replaces the value of an argument that looks secret.
const Redacted = "[redacted]"

// secretWords are the parts of an argument name that mark its value as
// secret. They are matched anywhere in the lower-cased name, so that
// "apiKey", "client_secret" and "GitHubToken" are caught; a harmless name
// that contains one ("keyword") is redacted too, which costs an audit
// reader some detail but never leaks a secret.
var secretWords = []string{"token", "secret", "password", "key", "credential", "authorization"}

// Redact returns a copy of args in which the value under every key that
// looks secret is replaced by [Redacted], at any depth of nested maps and
// lists, and every URL has its password and secret-looking query values
// replaced (see [RedactString]). args itself is not modified. Redacting
// twice changes nothing.
func Redact(args map[string]any) map[string]any {
	if args == nil {
		return nil
	}
	out := make(map[string]any, len(args))
	for k, v := range args {
		if isSecret(k) {
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
		return RedactString(v)
	default:
		return v
	}
}

// RedactString returns s with the secrets a URL can carry replaced by
// "redacted" (brackets would be escaped in a URL): the user information
// (https://user:token@host/) and the values of query parameters whose names
// look secret (?token=…). Any other string is returned as it is.
func RedactString(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	changed := false
	if u.User != nil {
		u.User, changed = url.User(urlRedacted), true
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if isSecret(k) {
				q[k], changed = []string{urlRedacted}, true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	if !changed {
		return s
	}
	return u.String()
}

// urlRedacted replaces secrets inside URLs.
const urlRedacted = "redacted"

func isSecret(key string) bool {
	key = strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(key, w) {
			return true
		}
	}
	return false
}
