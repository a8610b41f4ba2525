package scaffolder

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/nunjucks"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Integrations maps a repository host to its kind of integration
// (github, gitlab, bitbucketCloud, bitbucketServer, azure, gitea, gerrit),
// which decides what a repository URL must name.
type Integrations map[string]string

// DefaultIntegrations are the public hosts Backstage knows without
// configuration.
var DefaultIntegrations = Integrations{
	"github.com":    "github",
	"gitlab.com":    "gitlab",
	"bitbucket.org": "bitbucketCloud",
	"dev.azure.com": "azure",
}

// RepoURL is a repository location as Backstage's RepoUrlPicker writes it:
// host?owner=o&repo=r[&organization=…&workspace=…&project=…].
type RepoURL struct {
	Host, Owner, Repo, Organization, Workspace, Project string
}

// ParseRepoURL parses a RepoUrlPicker value and checks that it names what
// its host's integration needs: owner and repo on GitHub (and hosts of no
// known kind but listed); owner and repo on GitLab unless it names a
// project; workspace, project and repo on Bitbucket Cloud; project and repo
// on Bitbucket Server and Azure; repo on Gitea and Gerrit. A host with no
// integration is an EINVALID error, as in Backstage.
func (in Integrations) ParseRepoURL(s string) (RepoURL, error) {
	u, err := url.Parse("https://" + s)
	if err != nil || u.Host == "" {
		return RepoURL{}, portal.Errorf(portal.EINVALID, "invalid repo URL passed to publisher: %s", s)
	}
	q := u.Query()
	r := RepoURL{Host: u.Host, Owner: q.Get("owner"), Repo: q.Get("repo"), Organization: q.Get("organization"),
		Workspace: q.Get("workspace"), Project: q.Get("project")}
	// A host is configured with its port, if it has one.
	kind, ok := in[strings.ToLower(u.Host)]
	if !ok {
		kind, ok = in[strings.ToLower(u.Hostname())]
	}
	if !ok {
		return RepoURL{}, portal.Errorf(portal.EINVALID, "no matching integration configuration for host %s, please check your integrations config", u.Host)
	}
	need := []string{"repo"}
	switch kind {
	case "bitbucketCloud":
		need = append(need, "workspace", "project")
	case "bitbucketServer", "azure":
		need = append(need, "project")
	case "gitlab":
		if r.Project == "" {
			need = append(need, "owner")
		}
	case "gitea", "gerrit":
	default:
		need = append(need, "owner")
	}
	for _, name := range need {
		if q.Get(name) == "" {
			return RepoURL{}, portal.Errorf(portal.EINVALID, "invalid repo URL passed to publisher: %s, missing %s", s, name)
		}
	}
	return r, nil
}

// object is r as the parseRepoUrl filter returns it: the parts it names.
func (r RepoURL) object() map[string]any {
	out := map[string]any{"host": r.Host, "repo": r.Repo}
	for k, v := range map[string]string{"owner": r.Owner, "organization": r.Organization, "workspace": r.Workspace, "project": r.Project} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// Filters returns Backstage's template filters (backstage-spec.md §3.2):
// parseRepoUrl, parseEntityRef, pick and projectSlug.
func (in Integrations) Filters() map[string]nunjucks.Filter {
	return map[string]nunjucks.Filter{
		"parseRepoUrl": func(input any, _ []any, _ map[string]any) (any, error) {
			r, err := in.ParseRepoURL(fmt.Sprint(input))
			if err != nil {
				return nil, err
			}
			return r.object(), nil
		},
		"projectSlug": func(input any, _ []any, _ map[string]any) (any, error) {
			r, err := in.ParseRepoURL(fmt.Sprint(input))
			if err != nil {
				return nil, err
			}
			return r.Owner + "/" + r.Repo, nil
		},
		"parseEntityRef": func(input any, args []any, _ map[string]any) (any, error) {
			s, ok := input.(string)
			if !ok {
				return nil, fmt.Errorf("parseEntityRef: the reference must be a string")
			}
			var d catalog.RefDefaults
			if len(args) > 0 {
				if opts, ok := args[0].(map[string]any); ok {
					d.Kind, _ = opts["defaultKind"].(string)
					d.Namespace, _ = opts["defaultNamespace"].(string)
				}
			}
			ref, err := catalog.ParseRef(s, d)
			if err != nil {
				return nil, err
			}
			return map[string]any{"kind": ref.Kind, "namespace": ref.Namespace, "name": ref.Name}, nil
		},
		"pick": func(input any, args []any, _ map[string]any) (any, error) {
			if len(args) == 0 {
				return nil, fmt.Errorf("pick: name the key to pick")
			}
			v := input
			for _, key := range strings.Split(fmt.Sprint(args[0]), ".") {
				m, ok := v.(map[string]any)
				if !ok {
					return nil, nil
				}
				v = m[key]
			}
			return v, nil
		},
	}
}
