package ingest

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// errForbidden is returned for a file or URL the operator's settings keep
// ingestion from reading: outside the file roots, or on a host that is not
// allowed.
var errForbidden = errors.New("forbidden by the catalog settings")

// URLAuth is a credential sent with every request to one host, so that
// location URLs, which every reader of the catalog sees, need not carry it.
type URLAuth struct {
	// Host is matched exactly against the URL's host (with its port, if the
	// URL names one), without regard to case.
	Host string
	// Header is the request header to set, such as Authorization.
	Header string
	// Value is the header's value, such as "Bearer …".
	Value string
	// AllowHTTP sends the credential over plain http too; by default only
	// https requests carry it.
	AllowHTTP bool
}

func (a URLAuth) applies(u *url.URL) bool {
	return strings.EqualFold(u.Host, a.Host) && (u.Scheme == "https" || (a.AllowHTTP && u.Scheme == "http"))
}

// HostAllowed reports whether host (a name or an address, without port)
// matches one of patterns, in path.Match syntax without regard to case
// ("*.example.com"); no patterns allow every host.
func HostAllowed(patterns []string, host string) bool {
	if len(patterns) == 0 {
		return true
	}
	host = strings.ToLower(host)
	for _, p := range patterns {
		if ok, err := path.Match(strings.ToLower(p), host); err == nil && ok {
			return true
		}
	}
	return false
}

// CheckHostPattern returns an error for a malformed host pattern.
func CheckHostPattern(p string) error {
	if _, err := path.Match(p, ""); err != nil || p == "" {
		return fmt.Errorf("host pattern %q is malformed", p)
	}
	return nil
}

// CheckLocationURL parses the target of a url location and refuses one
// that is not an http(s) URL or that carries credentials: user information,
// or query or fragment parameters named like one (see [portal.SecretName]).
// Every reader of the catalog sees a location's target; credentials belong
// in [URLAuth].
func CheckLocationURL(target string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("the target is not a valid http or https URL")
	}
	if u.User != nil {
		return nil, errors.New("the target must not carry credentials (user:password@): every reader of the catalog sees it; configure catalog.urlAuth for its host instead")
	}
	for _, part := range []string{u.RawQuery, u.EscapedFragment()} {
		if name := credentialParam(part); name != "" {
			return nil, fmt.Errorf("the target must not carry credentials (parameter %q): every reader of the catalog sees it; configure catalog.urlAuth for its host instead", name)
		}
	}
	return u, nil
}

// credentialParam returns the name of the first parameter of a query
// string (or a fragment written as one) that looks like a credential. It
// splits by hand rather than with url.ParseQuery, which stops at the first
// malformed escape.
func credentialParam(query string) string {
	for _, pair := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
		name, _, _ := strings.Cut(pair, "=")
		if portal.SecretName(name) {
			return name
		}
	}
	return ""
}

// guardedTransport refuses requests to hosts that are not allowed, and adds
// each host's credential. It sits under the client, so that it sees every
// request, redirects included, and a credential never follows a redirect to
// another host.
type guardedTransport struct {
	base  http.RoundTripper
	hosts []string
	auth  []URLAuth
}

func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !HostAllowed(t.hosts, req.URL.Hostname()) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("host %s is not among catalog.allowedHosts: %w", req.URL.Hostname(), errForbidden)
	}
	for _, a := range t.auth {
		if a.applies(req.URL) {
			req = req.Clone(req.Context())
			req.Header.Set(a.Header, a.Value)
			break
		}
	}
	return t.base.RoundTrip(req)
}
