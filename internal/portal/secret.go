package portal

import (
	"net/url"
	"strings"
)

// secretWords are the parts of a name that mark its value as secret: an
// argument's, a map key's, a query or fragment parameter's. They are
// matched anywhere in the lower-cased name, so that "apiKey",
// "client_secret", "X-Amz-Signature", "sig" and "access_token" are caught;
// a harmless name that contains one ("keyword", "author", "design") is
// caught too, which costs some detail but never lets a secret through.
var secretWords = []string{
	"password", "passwd", "pwd", "secret", "token", "key", "sig", "credential", "auth", "session", "cookie", "jwt",
}

// SecretName reports whether a name (of an argument, a key or a URL
// parameter) marks its value as secret. Surrounding spaces and percent
// escapes do not hide a name. It is the one rule of what looks secret:
// the audit log redacts such values, and location URLs may not carry them.
func SecretName(name string) bool {
	if u, err := url.QueryUnescape(name); err == nil {
		name = u
	}
	name = strings.ToLower(strings.TrimSpace(name))
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}
