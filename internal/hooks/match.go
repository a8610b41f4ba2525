package hooks

import (
	"net/url"
	"strings"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// bitbucketServer is the forge of Bitbucket Data Center pushes: they come
// through the bitbucket webhook but their files' URLs have another shape.
const bitbucketServer = "bitbucket-server"

// markers are, by forge, what comes between a repository's path and a
// branch in the URLs of its files, as Backstage's integrations read them:
//
//	github            /{owner}/{repo}/blob/{branch}/{path}, tree/, raw/
//	gitlab            /{group}/{subgroup…}/{project}/-/blob/{branch}/{path},
//	                  -/tree/, -/raw/, and blob/, tree/, raw/ of old versions
//	gitea             /{owner}/{repo}/src/branch/{branch}/{path}, raw/branch/,
//	                  media/branch/ (the same in Forgejo)
//	bitbucket         /{workspace}/{repo}/src/{branch}/{path}, raw/
//	bitbucket-server  /projects/{key}/repos/{repo}/browse/{path}?at=refs/heads/{branch},
//	                  raw/; the branch is in "at" instead
//
// GitHub's raw files have two more bases (see [parseRepo]), where the
// branch follows the repository's path directly. After a marker, the
// branch may be written "refs/heads/{branch}".
var markers = map[string][]string{
	GitHub:          {"blob/", "tree/", "raw/"},
	GitLab:          {"-/blob/", "-/tree/", "-/raw/", "blob/", "tree/", "raw/"},
	Gitea:           {"src/branch/", "raw/branch/", "media/branch/"},
	Bitbucket:       {"src/", "raw/"},
	bitbucketServer: {"browse", "raw"},
}

// A repo is a pushed repository, as the URLs of its files begin.
type repo struct {
	url   string // as the push named it
	bases []base
}

// A base is where the URLs of a repository's files begin.
type base struct {
	host    string // lower-case, without a default port
	path    string // without a trailing "/" or ".git"
	markers []string
	// at says that the branch is in the "at" query parameter rather than
	// after the marker, and that a URL without one (the default branch,
	// which a Bitbucket Data Center push does not name) is on every branch.
	at bool
}

// parseRepo returns the repository at rawURL, the web address a forge's
// push names it by.
func parseRepo(forge, rawURL string) (repo, error) {
	u, host, ok := parseHTTP(rawURL)
	p := strings.TrimSuffix(strings.TrimRight(u.Path, "/"), ".git")
	if !ok || p == "" {
		return repo{}, portal.Errorf(portal.EINVALID, "the push's repository URL %q is not that of a repository", rawURL)
	}
	rp := repo{url: rawURL}
	switch forge {
	case GitHub:
		raw := "raw." + host // GitHub Enterprise with subdomain isolation
		if host == "github.com" {
			raw = "raw.githubusercontent.com"
		}
		rp.bases = []base{
			{host: host, path: p, markers: markers[GitHub]},
			{host: raw, path: p, markers: []string{""}},
			{host: host, path: "/raw" + p, markers: []string{""}}, // GitHub Enterprise without it
		}
	case bitbucketServer:
		p = strings.TrimSuffix(p, "/browse")
		rp.bases = []base{{host: host, path: p, markers: markers[forge], at: true}}
	default:
		rp.bases = []base{{host: host, path: p, markers: markers[forge]}}
	}
	return rp, nil
}

// hasAny reports whether target is a file of the repository on one of
// branches.
func (rp repo) hasAny(target string, branches []string) bool {
	for _, b := range branches {
		if rp.has(target, b) {
			return true
		}
	}
	return false
}

// has reports whether target is the URL of a file or directory of the
// repository on branch. Host and path are compared without regard to case,
// as forges route them; the branch exactly, as git names it. A branch with
// slashes is matched by prefix ("feature/x/" begins the rest of the path),
// so a push to "feature" also matches a file of "feature/x" read as
// "x/…" on "feature": git's refs cannot hold both branches at once, and
// the cost is one refresh more.
func (rp repo) has(target, branch string) bool {
	u, host, ok := parseHTTP(target)
	if !ok || branch == "" {
		return false
	}
	for _, b := range rp.bases {
		if host != b.host {
			continue
		}
		rest, ok := cutPrefixFold(u.Path, b.path+"/")
		if !ok {
			rest, ok = cutPrefixFold(u.Path, b.path+".git/")
		}
		if !ok {
			continue
		}
		for _, m := range b.markers {
			after, ok := cutPrefixFold(rest, m)
			switch {
			case !ok:
			case b.at:
				if after == "" || after[0] == '/' {
					return onBranch(u.Query().Get("at"), branch)
				}
			default:
				after = strings.TrimPrefix(after, "refs/heads/")
				if after == branch || strings.HasPrefix(after, branch+"/") {
					return true
				}
			}
		}
	}
	return false
}

// onBranch reports whether a Bitbucket Data Center "at" parameter names
// branch: "refs/heads/{branch}" or "{branch}"; none is the default branch,
// which may be any.
func onBranch(at, branch string) bool {
	if at == "" {
		return true
	}
	return strings.TrimPrefix(at, "refs/heads/") == branch
}

// parseHTTP parses an http or https URL, and returns it with its host
// lower-cased and without the scheme's default port.
func parseHTTP(raw string) (*url.URL, string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &url.URL{}, "", false
	}
	host := strings.ToLower(u.Host)
	if u.Scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	} else {
		host = strings.TrimSuffix(host, ":80")
	}
	return u, host, true
}

// cutPrefixFold is [strings.CutPrefix] without regard to case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}
