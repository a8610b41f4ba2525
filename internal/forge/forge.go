// Package forge knows the source hosts Greenroom works with beside the
// catalog — GitHub (and GitHub Enterprise) and GitLab (and self-hosted
// GitLab) — as Backstage's integrations config describes them: a kind, a
// host, the base URL of its REST API and a token. Publish actions create
// repositories through them (internal/scaffolder), and ingestion reads the
// files their web URLs show (a catalog-info.yaml registered by
// catalog:register, say) through their APIs, as Backstage's UrlReaders do.
package forge

import (
	"net/http"
	"net/url"
	"strings"
)

// Integration is one host of a forge.
type Integration struct {
	Kind       string `json:"kind" yaml:"kind"` // github or gitlab
	Host       string `json:"host" yaml:"host"`
	APIBaseURL string `json:"apiBaseUrl" yaml:"apiBaseUrl"`
	Token      string `json:"token" yaml:"token"`
}

// The kinds of forge.
const (
	GitHub = "github"
	GitLab = "gitlab"
)

// Public are the public hosts, known without configuration (and without
// a token).
var Public = []Integration{
	{Kind: GitHub, Host: "github.com", APIBaseURL: "https://api.github.com"},
	{Kind: GitLab, Host: "gitlab.com", APIBaseURL: "https://gitlab.com/api/v4"},
}

// Lookup returns the integration of a host (host[:port], compared without
// regard to case) among list and then the public hosts.
func Lookup(list []Integration, host string) (Integration, bool) {
	for _, l := range [][]Integration{list, Public} {
		for _, i := range l {
			if strings.EqualFold(i.Host, host) {
				if i.APIBaseURL == "" {
					for _, p := range Public {
						if strings.EqualFold(p.Host, host) {
							i.APIBaseURL = p.APIBaseURL
						}
					}
				}
				return i, true
			}
		}
	}
	return Integration{}, false
}

// RawRequest returns the API request that reads the file a forge's web
// URL shows, and whether u is such a URL of a known host: on GitHub
// https://HOST/OWNER/REPO/blob/REF/PATH, read from the repository
// contents API (GET /repos/OWNER/REPO/contents/PATH?ref=REF, media type
// raw); on GitLab https://HOST/GROUP/PROJECT/-/blob/REF/PATH, read from
// the repository files API (GET /projects/ID/repository/files/PATH/raw).
// The ref is taken to have no slash. The header carries the token.
func RawRequest(list []Integration, u *url.URL) (string, http.Header, bool) {
	i, ok := Lookup(list, u.Host)
	if !ok || i.APIBaseURL == "" {
		return "", nil, false
	}
	base := strings.TrimSuffix(i.APIBaseURL, "/")
	h := http.Header{}
	switch i.Kind {
	case GitHub:
		parts := strings.SplitN(strings.TrimPrefix(u.Path, "/"), "/", 5)
		if len(parts) < 5 || parts[2] != "blob" || parts[4] == "" {
			return "", nil, false
		}
		h.Set("Accept", "application/vnd.github.raw")
		if i.Token != "" {
			h.Set("Authorization", "Bearer "+i.Token)
		}
		return base + "/repos/" + url.PathEscape(parts[0]) + "/" + url.PathEscape(parts[1]) + "/contents/" +
			escapePath(parts[4]) + "?ref=" + url.QueryEscape(parts[3]), h, true
	case GitLab:
		project, rest, ok := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/-/blob/")
		ref, file, ok2 := strings.Cut(rest, "/")
		if !ok || !ok2 || project == "" || file == "" {
			return "", nil, false
		}
		if i.Token != "" {
			h.Set("Private-Token", i.Token)
		}
		return base + "/projects/" + url.PathEscape(project) + "/repository/files/" + url.PathEscape(file) +
			"/raw?ref=" + url.QueryEscape(ref), h, true
	}
	return "", nil, false
}

// escapePath escapes each segment of a slash-separated path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
