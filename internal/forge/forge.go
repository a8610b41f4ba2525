// Package forge knows the source hosts Greenroom works with beside the
// catalog — GitHub (and GitHub Enterprise) and GitLab (and self-hosted
// GitLab) — as Backstage's integrations config describes them: a kind, a
// host, the base URL of its REST API and a token. Publish actions create
// repositories through them (internal/scaffolder), and ingestion reads the
// files their web URLs show (a catalog-info.yaml registered by
// catalog:register, say) through their APIs, as Backstage's UrlReaders do.
package forge

import (
	"cmp"
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

// A Location is what a forge's web URL of a file or folder names: on
// GitHub https://HOST/OWNER/REPO/blob|tree/REF/PATH, on GitLab
// https://HOST/GROUP/PROJECT/-/blob|tree/REF/PATH. The ref is taken to
// have no slash; Path is "" for the repository's root.
type Location struct {
	Integration
	// Repo is OWNER/REPO on GitHub, GROUP/…/PROJECT on GitLab.
	Repo      string
	Ref, Path string
	// Blob says the URL showed a file (blob/), not a folder (tree/).
	Blob bool
	// Scheme is the URL's, which its git remote shares.
	Scheme string
}

// Parse returns the location a web URL of a known host names.
func Parse(list []Integration, u *url.URL) (Location, bool) {
	i, ok := Lookup(list, u.Host)
	if !ok {
		return Location{}, false
	}
	loc := Location{Integration: i, Scheme: u.Scheme}
	p := strings.TrimPrefix(u.Path, "/")
	var kind, rest string
	switch i.Kind {
	case GitHub:
		parts := strings.SplitN(p, "/", 4)
		if len(parts) < 4 {
			return Location{}, false
		}
		loc.Repo, kind, rest = parts[0]+"/"+parts[1], parts[2], parts[3]
	case GitLab:
		var ok bool
		if loc.Repo, rest, ok = strings.Cut(p, "/-/"); !ok {
			return Location{}, false
		}
		kind, rest, _ = strings.Cut(rest, "/")
	default:
		return Location{}, false
	}
	loc.Ref, loc.Path, _ = strings.Cut(rest, "/")
	loc.Path = strings.TrimSuffix(loc.Path, "/")
	if (kind != "blob" && kind != "tree") || loc.Repo == "" || loc.Ref == "" || (kind == "blob" && loc.Path == "") {
		return Location{}, false
	}
	loc.Blob = kind == "blob"
	return loc, true
}

// CloneURL is the git remote of the location's repository, on the host
// of its web URL, as GitHub (Enterprise) and GitLab serve them.
func (l Location) CloneURL() string {
	return cmp.Or(l.Scheme, "https") + "://" + l.Host + "/" + l.Repo + ".git"
}

// GitUser is the user name a token is sent with over git's smart HTTP:
// GitHub takes any name with an installation or personal token,
// GitLab's documented one is oauth2.
func (l Location) GitUser() string {
	if l.Kind == GitLab {
		return "oauth2"
	}
	return "x-access-token"
}

// RawRequest returns the API request that reads the file a forge's web
// blob URL shows (see Location), and whether u is such a URL of a known
// host: on GitHub from the repository contents API (GET
// /repos/OWNER/REPO/contents/PATH?ref=REF, media type raw), on GitLab
// from the repository files API (GET /projects/ID/repository/files/PATH/raw).
// The header carries the token.
func RawRequest(list []Integration, u *url.URL) (string, http.Header, bool) {
	loc, ok := Parse(list, u)
	if !ok || !loc.Blob || loc.APIBaseURL == "" {
		return "", nil, false
	}
	base := strings.TrimSuffix(loc.APIBaseURL, "/")
	h := http.Header{}
	if loc.Kind == GitLab {
		if loc.Token != "" {
			h.Set("Private-Token", loc.Token)
		}
		return base + "/projects/" + url.PathEscape(loc.Repo) + "/repository/files/" + url.PathEscape(loc.Path) +
			"/raw?ref=" + url.QueryEscape(loc.Ref), h, true
	}
	h.Set("Accept", "application/vnd.github.raw")
	if loc.Token != "" {
		h.Set("Authorization", "Bearer "+loc.Token)
	}
	owner, repo, _ := strings.Cut(loc.Repo, "/")
	return base + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/contents/" +
		escapePath(loc.Path) + "?ref=" + url.QueryEscape(loc.Ref), h, true
}

// escapePath escapes each segment of a slash-separated path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
