package catalog

import (
	"net/url"
	"regexp"
	"strings"
)

// The field format rules of Backstage's catalog-model
// (KubernetesValidatorFunctions, makeValidator); backstage-spec.md §1.3.
var (
	reObjectName = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	reDNSLabel   = regexp.MustCompile(`^[a-z0-9]+(?:-+[a-z0-9]+)*$`)
	reKind       = regexp.MustCompile(`^[a-zA-Z][a-z0-9A-Z]*$`)
	reVersion    = regexp.MustCompile(`^[a-zA-Z0-9]+$`)
	reTag        = regexp.MustCompile(`^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`)
)

// Expectations quoted in error messages, worded as Backstage words them.
const (
	expectName       = "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total"
	expectNamespace  = "a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total"
	expectKind       = "a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total"
	expectAPIVersion = "a string that is a valid apiVersion such as backstage.io/v1alpha1: an optional DNS subdomain prefix and a '/', then 1-63 of [a-zA-Z0-9]"
	expectKey        = "a string that is a valid key: an optional DNS subdomain prefix and a '/', then sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters"
	expectLabelValue = "an empty string or a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total"
	expectTag        = "a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total"
	expectURL        = "a valid absolute URL"
)

// IsValidObjectName reports whether s is a valid metadata.name.
func IsValidObjectName(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && reObjectName.MatchString(s)
}

// IsValidNamespace reports whether s is a valid metadata.namespace (a DNS label).
func IsValidNamespace(s string) bool { return isDNSLabel(s) }

// IsValidKind reports whether s is a syntactically valid kind.
func IsValidKind(s string) bool { return len(s) >= 1 && len(s) <= 63 && reKind.MatchString(s) }

// IsValidAPIVersion reports whether s is [prefix/]version with a DNS
// subdomain prefix.
func IsValidAPIVersion(s string) bool {
	prefix, version, found := strings.Cut(s, "/")
	if !found {
		version, prefix = s, ""
	} else if !isDNSSubdomain(prefix) {
		return false
	}
	return len(version) >= 1 && len(version) <= 63 && reVersion.MatchString(version)
}

// IsValidKey reports whether s is a valid label or annotation key.
func IsValidKey(s string) bool {
	prefix, name, found := strings.Cut(s, "/")
	if !found {
		return IsValidObjectName(s)
	}
	if strings.Contains(name, "/") || !isDNSSubdomain(prefix) {
		return false
	}
	return IsValidObjectName(name)
}

// IsValidLabelValue reports whether s is a valid label value.
func IsValidLabelValue(s string) bool { return s == "" || IsValidObjectName(s) }

// IsValidTag reports whether s is a valid tag. Unlike Backstage's legacy
// validator, and like its effective one, ':' is allowed.
func IsValidTag(s string) bool { return len(s) >= 1 && len(s) <= 63 && reTag.MatchString(s) }

// IsValidURL reports whether s parses as an absolute URL, as the WHATWG URL
// constructor that Backstage uses requires: any scheme will do ("mailto:",
// "slack:#team"), but the special schemes need a host ("http:" alone is not
// a URL). Like that constructor, it ignores leading and trailing spaces and
// control characters, and tabs and newlines anywhere.
func IsValidURL(s string) bool {
	s = stripTabNewline.Replace(strings.TrimFunc(s, func(r rune) bool { return r <= ' ' }))
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ws", "wss", "ftp":
		// "http:host" and "http:/host" name a host too.
		return u.Host != "" || strings.TrimLeft(u.Opaque+u.Path, "/") != ""
	}
	return true
}

var stripTabNewline = strings.NewReplacer("\t", "", "\n", "", "\r", "")

func isDNSLabel(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && reDNSLabel.MatchString(s)
}

func isDNSSubdomain(s string) bool {
	if len(s) < 1 || len(s) > 253 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if !isDNSLabel(part) {
			return false
		}
	}
	return true
}
