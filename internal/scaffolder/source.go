package scaffolder

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/greenroomhq/greenroom/internal/forge"
	"github.com/greenroomhq/greenroom/internal/gitfs"
)

// Locator names the repository a forge's web URL of a folder or file
// shows: Forges, from the configured integrations.
type Locator interface {
	Locate(u *url.URL) (forge.Location, error)
}

// Locate implements Locator.
func (f *Forges) Locate(u *url.URL) (forge.Location, error) {
	loc, ok := forge.Parse(f.list, u)
	if !ok {
		return loc, fmt.Errorf("%s is not a folder or file URL of a known git host (GitHub's …/tree/REF/PATH, GitLab's …/-/tree/REF/PATH; integrations.github and integrations.gitlab name more hosts)", u.Redacted())
	}
	return loc, nil
}

// A TemplateBase is where a template's relative URLs (./skeleton) point:
// its descriptor's folder on this server (Dir) or on a forge (URL, ending
// in /).
type TemplateBase struct {
	Dir fs.FS
	URL *url.URL
}

// OpenTemplateBase opens base, as a task records it: an absolute
// directory, a URL of the descriptor's folder, or "" for none. close
// releases the directory.
func OpenTemplateBase(base string) (TemplateBase, func() error, error) {
	nothing := func() error { return nil }
	switch {
	case base == "":
		return TemplateBase{}, nothing, nil
	case filepath.IsAbs(base):
		root, err := os.OpenRoot(base)
		if err != nil {
			return TemplateBase{}, nothing, fmt.Errorf("the template's directory cannot be read: %w", unwrapPath(err))
		}
		return TemplateBase{Dir: root.FS()}, root.Close, nil
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return TemplateBase{}, nothing, fmt.Errorf("the template's location %q is neither a directory nor a URL", base)
	}
	return TemplateBase{URL: u}, nothing, nil
}

// BaseOfLocation is the TemplateBase a descriptor read from a location
// target has, as a task records it: the folder of a file, or of a URL.
func BaseOfLocation(kind, target string) string {
	switch kind {
	case "file":
		if filepath.IsAbs(target) {
			return filepath.Dir(target)
		}
	case "url":
		if u, err := url.Parse(target); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			return u.ResolveReference(&url.URL{Path: "./"}).String()
		}
	}
	return ""
}

// Fetch opens what a fetch action's url names, as Backstage resolves it:
// a path relative to the template's folder (./skeleton), here or on its
// forge, or an absolute URL of a folder or file on a forge. It returns the
// file system and the name in it. token, when given, is sent instead of
// the integration's.
func (ac *ActionContext) Fetch(ctx context.Context, raw, token string) (fs.FS, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("cannot fetch %s: %w", raw, err)
	}
	switch {
	case u.IsAbs():
		if u.Scheme != "https" && u.Scheme != "http" {
			return nil, "", fmt.Errorf("cannot fetch %s: only https URLs and paths in the template's folder can be fetched", u.Redacted())
		}
	case ac.Template.Dir != nil:
		p, err := Clean(raw)
		if err != nil {
			return nil, "", fmt.Errorf("cannot fetch %s: it leaves the template's directory", raw)
		}
		return ac.Template.Dir, p, nil
	case ac.Template.URL != nil:
		base := ac.Template.URL
		if u = base.ResolveReference(u); ac.sources != nil {
			return ac.sources.open(ctx, u, base, token)
		}
	default:
		return nil, "", fmt.Errorf("cannot fetch %s: the template has no folder to fetch from", raw)
	}
	if ac.sources == nil {
		return nil, "", fmt.Errorf("cannot fetch %s: no git host can be read here", u.Redacted())
	}
	return ac.sources.open(ctx, u, nil, token)
}

// sources opens forge URLs for one run, cloning each repository and ref
// once.
type sources struct {
	locator Locator
	mu      sync.Mutex
	clones  map[string]fs.FS // by remote and ref
}

// open opens u; base is the template's folder when u was relative to it.
func (s *sources) open(ctx context.Context, u, base *url.URL, token string) (fs.FS, string, error) {
	loc, err := s.locator.Locate(u)
	// A url relative to base may climb out of the template's folder
	// (../shared), but not out of its repository and ref.
	if base != nil && !strings.HasPrefix(u.String(), base.String()) {
		from, ferr := s.locator.Locate(base)
		if err != nil || ferr != nil || from.CloneURL() != loc.CloneURL() || from.Ref != loc.Ref {
			return nil, "", fmt.Errorf("cannot fetch %s: it leaves the template's repository", u.Redacted())
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("cannot fetch: %w", err)
	}
	key := loc.CloneURL() + "\x00" + loc.Ref + "\x00" + token
	s.mu.Lock()
	defer s.mu.Unlock() // one clone at a time: a run's steps are sequential
	fsys, ok := s.clones[key]
	if !ok {
		var auth transport.AuthMethod // nil, not a nil pointer, without a token
		if t := cmp.Or(token, loc.Token); t != "" {
			auth = &githttp.BasicAuth{Username: loc.GitUser(), Password: t}
		}
		if fsys, err = gitfs.Clone(ctx, loc.CloneURL(), auth, loc.Ref, ""); err != nil {
			return nil, "", fmt.Errorf("cannot fetch %s: %w", u.Redacted(), err)
		}
		s.clones[key] = fsys
	}
	return fsys, cmp.Or(loc.Path, "."), nil
}
