package scaffolder

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	gitobject "github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/greenroomhq/greenroom/internal/forge"
)

// Integration is a source host that templates publish to (see
// internal/forge).
type Integration = forge.Integration

// Forges are the integrations publish actions may use.
type Forges struct {
	list   []Integration
	client *http.Client
}

// NewForges returns the configured integrations beside the public hosts.
// client makes the REST calls (http.DefaultClient when nil).
func NewForges(list []Integration, client *http.Client) *Forges {
	if client == nil {
		client = &http.Client{Timeout: time.Minute}
	}
	return &Forges{list: list, client: client}
}

// Integrations maps each host to its kind, for parseRepoUrl.
func (f *Forges) Integrations() Integrations {
	in := Integrations{}
	for host, kind := range DefaultIntegrations {
		in[host] = kind
	}
	for _, i := range f.list {
		in[i.Host] = i.Kind
	}
	return in
}

func (f *Forges) lookup(kind, host string) (Integration, error) {
	i, ok := forge.Lookup(f.list, host)
	if !ok || i.APIBaseURL == "" {
		return Integration{}, fmt.Errorf("no %s integration is configured for %s", kind, host)
	}
	if i.Kind != kind {
		return Integration{}, fmt.Errorf("%s is a %s host, not %s", host, i.Kind, kind)
	}
	return i, nil
}

// PublishActions are publish:git, publish:github and publish:gitlab.
func (f *Forges) PublishActions() []Action {
	return []Action{publishGit{}, publishGitHub{f}, publishGitLab{f}}
}

// pushInput is what every publish action takes to commit and push.
type pushInput struct {
	DefaultBranch    string `json:"defaultBranch"`
	GitCommitMessage string `json:"gitCommitMessage"`
	GitAuthorName    string `json:"gitAuthorName"`
	GitAuthorEmail   string `json:"gitAuthorEmail"`
	SourcePath       string `json:"sourcePath"`
	Token            string `json:"token"`
}

var pushProps = map[string]any{
	"defaultBranch":    str("Sets the default branch on the repository. The default value is 'main'"),
	"gitCommitMessage": str("Sets the commit message on the repository. The default value is 'initial commit'"),
	"gitAuthorName":    str("Sets the default author name for the commit. The default value is 'Scaffolder'"),
	"gitAuthorEmail":   str("Sets the default author email for the commit."),
	"sourcePath":       str("Path within the workspace that will be used as the repository root. If omitted, the entire workspace will be published as the repository."),
	"token":            str("The token to use for authorization"),
}

func withPushProps(props map[string]any) map[string]any {
	for k, v := range pushProps {
		props[k] = v
	}
	return props
}

// push commits the workspace (or its sourcePath) as the first commit of a
// new repository and pushes it to remote over smart HTTP. The repository
// is kept in memory, so nothing is added to the workspace. In a dry run
// the commit is made and not pushed: its hash is still the real one.
func push(ctx context.Context, ac *ActionContext, in pushInput, remote string, auth *githttp.BasicAuth) (string, error) {
	u, err := url.Parse(remote)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("remote %q is not an http(s) URL: only smart HTTP remotes are supported", remote)
	}
	src, err := Clean(in.SourcePath)
	if err != nil {
		return "", err
	}
	branch := cmp.Or(in.DefaultBranch, "main")
	// WithBoundOS keeps go-git from following a symlink out of the
	// workspace; links are committed as links.
	wt := osfs.New(path.Join(ac.Workspace.Dir(), src), osfs.WithBoundOS())
	repo, err := git.InitWithOptions(memory.NewStorage(), wt, git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)})
	if err != nil {
		return "", err
	}
	w, err := repo.Worktree()
	if err != nil {
		return "", err
	}
	if err := w.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		return "", fmt.Errorf("git add: %w", err)
	}
	sig := &gitobject.Signature{Name: cmp.Or(in.GitAuthorName, "Scaffolder"), Email: cmp.Or(in.GitAuthorEmail, "scaffolder@greenroom.invalid"), When: time.Now()}
	hash, err := w.Commit(cmp.Or(in.GitCommitMessage, "initial commit"), &git.CommitOptions{Author: sig, AllowEmptyCommits: true})
	if err != nil {
		return "", fmt.Errorf("git commit: %w", err)
	}
	if ac.DryRun {
		ac.Logf("Dry run: would push commit %s to branch %s of %s", hash, branch, remote)
		return hash.String(), nil
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{remote}}); err != nil {
		return "", err
	}
	ref := config.RefSpec("refs/heads/" + branch + ":refs/heads/" + branch)
	opts := &git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{ref}}
	if auth != nil {
		opts.Auth = auth
	}
	if err := repo.PushContext(ctx, opts); err != nil {
		return "", fmt.Errorf("git push to %s: %w", redact(remote), err)
	}
	ac.Logf("Pushed commit %s to branch %s of %s", hash, branch, redact(remote))
	return hash.String(), nil
}

// redact drops credentials written into a URL.
func redact(remote string) string {
	u, err := url.Parse(remote)
	if err != nil {
		return "the remote"
	}
	u.User = nil
	return u.String()
}

// publishGit is publish:git: the workspace pushed to a repository that
// exists, on any git server that speaks smart HTTP.
type publishGit struct{}

func (publishGit) Info() ActionInfo {
	return ActionInfo{
		ID:          "publish:git",
		Description: "Initializes a git repository of the content in the workspace, and pushes it to an existing repository on any git server over smart HTTP.",
		Input: object([]string{"remoteUrl"}, withPushProps(map[string]any{
			"remoteUrl": str("The http(s) URL of the repository to push to"),
			"username":  str("The user name to authenticate with the token (default x-access-token)"),
		})),
		Output: object(nil, map[string]any{
			"remoteUrl":  map[string]any{"type": "string", "examples": []any{"https://git.example.com/team/repo.git"}},
			"commitHash": str("The hash of the commit pushed"),
		}),
		DryRun: true,
	}
}

func (publishGit) Run(ctx context.Context, ac *ActionContext) error {
	var in struct {
		pushInput
		RemoteURL string `json:"remoteUrl"`
		Username  string `json:"username"`
	}
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	var auth *githttp.BasicAuth
	if in.Token != "" {
		auth = &githttp.BasicAuth{Username: cmp.Or(in.Username, "x-access-token"), Password: in.Token}
	}
	hash, err := push(ctx, ac, in.pushInput, in.RemoteURL, auth)
	if err != nil {
		return err
	}
	ac.Output("remoteUrl", in.RemoteURL)
	ac.Output("commitHash", hash)
	return nil
}

// publishGitHub is publish:github: a repository created through GitHub's
// REST API (POST /orgs/{org}/repos or /user/repos), its topics set, and
// the workspace pushed to it.
type publishGitHub struct{ f *Forges }

var publishOutput = object(nil, map[string]any{
	"remoteUrl":       map[string]any{"type": "string", "description": "A URL to the repository with the provider", "examples": []any{"https://github.com/org/repo.git"}},
	"repoContentsUrl": map[string]any{"type": "string", "description": "A URL to the root of the repository", "examples": []any{"https://github.com/org/repo/blob/main"}},
	"commitHash":      str("The git commit hash of the initial commit"),
})

func (publishGitHub) Info() ActionInfo {
	return ActionInfo{
		ID:          "publish:github",
		Description: "Initializes a git repository of contents in workspace and publishes it to GitHub.",
		Input: object([]string{"repoUrl"}, withPushProps(map[string]any{
			"repoUrl":        str("Repository Location"),
			"description":    str("Repository Description"),
			"homepage":       str("Repository Homepage"),
			"access":         str("Sets an admin collaborator on the repository. Can either be a user reference different from 'owner' in 'repoUrl' or team reference, eg. 'org/team-name'"),
			"repoVisibility": map[string]any{"type": "string", "enum": []any{"private", "public", "internal"}},
			"topics":         map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		})),
		Output: publishOutput,
		DryRun: true,
	}
}

// forgeInput is the input publish:github and publish:gitlab share.
type forgeInput struct {
	pushInput
	RepoURL        string   `json:"repoUrl"`
	Description    string   `json:"description"`
	Homepage       string   `json:"homepage"`
	RepoVisibility string   `json:"repoVisibility"`
	Topics         []string `json:"topics"`
}

// forgeTarget reads a forge publish action's input and finds the
// integration of the host its repoUrl names.
func (f *Forges) forgeTarget(ac *ActionContext, kind string) (forgeInput, RepoURL, Integration, error) {
	var in forgeInput
	if err := ac.DecodeInput(&in); err != nil {
		return in, RepoURL{}, Integration{}, err
	}
	loc, err := f.Integrations().ParseRepoURL(in.RepoURL)
	if err != nil {
		return in, loc, Integration{}, err
	}
	integ, err := f.lookup(kind, loc.Host)
	return in, loc, integ, err
}

// dryPublish is a forge publish in a dry run: the commit made, nothing
// created or pushed, the outputs those of the repository at web.
func dryPublish(ctx context.Context, ac *ActionContext, in pushInput, web, blob string) error {
	hash, err := push(ctx, ac, in, web+".git", nil)
	if err == nil {
		published(ac, web+".git", web+blob+cmp.Or(in.DefaultBranch, "main"), hash)
	}
	return err
}

// published sets the outputs every publish action to a forge sets.
func published(ac *ActionContext, remote, contents, hash string) {
	ac.Output("remoteUrl", remote)
	ac.Output("repoContentsUrl", contents)
	ac.Output("commitHash", hash)
}

func (p publishGitHub) Run(ctx context.Context, ac *ActionContext) error {
	in, loc, integ, err := p.f.forgeTarget(ac, forge.GitHub)
	if err != nil {
		return err
	}
	branch := cmp.Or(in.DefaultBranch, "main")
	if ac.DryRun {
		ac.Logf("Dry run: would create the repository %s/%s on %s", loc.Owner, loc.Repo, loc.Host)
		return dryPublish(ctx, ac, in.pushInput, "https://"+loc.Host+"/"+loc.Owner+"/"+loc.Repo, "/blob/")
	}
	token, err := tokenFor(in.Token, integ)
	if err != nil {
		return err
	}
	api := &restClient{base: integ.APIBaseURL, client: p.f.client, header: http.Header{
		"Authorization": {"Bearer " + token}, "Accept": {"application/vnd.github+json"}, "X-Github-Api-Version": {"2022-11-28"},
	}}
	var owner struct {
		Type string `json:"type"`
	}
	if err := api.do(ctx, http.MethodGet, "/users/"+url.PathEscape(loc.Owner), nil, &owner); err != nil {
		return err
	}
	visibility := cmp.Or(in.RepoVisibility, "private")
	body := map[string]any{"name": loc.Repo, "private": visibility == "private", "description": in.Description, "homepage": in.Homepage}
	createPath := "/user/repos"
	if owner.Type == "Organization" {
		createPath = "/orgs/" + url.PathEscape(loc.Owner) + "/repos"
		body["visibility"] = visibility
	}
	var repo struct {
		CloneURL string `json:"clone_url"`
		HTMLURL  string `json:"html_url"`
	}
	if err := api.do(ctx, http.MethodPost, createPath, body, &repo); err != nil {
		return fmt.Errorf("creating the repository %s/%s: %w", loc.Owner, loc.Repo, err)
	}
	ac.Logf("Created the repository %s", repo.HTMLURL)
	if len(in.Topics) > 0 {
		topics := map[string]any{"names": in.Topics}
		if err := api.do(ctx, http.MethodPut, "/repos/"+url.PathEscape(loc.Owner)+"/"+url.PathEscape(loc.Repo)+"/topics", topics, nil); err != nil {
			return fmt.Errorf("setting the topics: %w", err)
		}
	}
	hash, err := push(ctx, ac, in.pushInput, repo.CloneURL, &githttp.BasicAuth{Username: "x-access-token", Password: token})
	if err != nil {
		return err
	}
	published(ac, repo.CloneURL, repo.HTMLURL+"/blob/"+branch, hash)
	return nil
}

// publishGitLab is publish:gitlab: a project created through GitLab's REST
// API (GET /namespaces/{path}, POST /projects) and the workspace pushed to
// it.
type publishGitLab struct{ f *Forges }

func (publishGitLab) Info() ActionInfo {
	out := object(nil, map[string]any{
		"remoteUrl":       map[string]any{"type": "string", "examples": []any{"https://gitlab.com/group/repo.git"}},
		"repoContentsUrl": map[string]any{"type": "string", "examples": []any{"https://gitlab.com/group/repo/-/blob/main"}},
		"commitHash":      str("The git commit hash of the initial commit"),
		"projectId":       map[string]any{"type": "number", "description": "The ID of the project"},
	})
	return ActionInfo{
		ID:          "publish:gitlab",
		Description: "Initializes a git repository of the content in the workspace, and publishes it to GitLab.",
		Input: object([]string{"repoUrl"}, withPushProps(map[string]any{
			"repoUrl":        str("Repository Location"),
			"description":    str("Project description"),
			"repoVisibility": map[string]any{"type": "string", "enum": []any{"private", "public", "internal"}},
			"topics":         map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		})),
		Output: out,
		DryRun: true,
	}
}

func (p publishGitLab) Run(ctx context.Context, ac *ActionContext) error {
	in, loc, integ, err := p.f.forgeTarget(ac, forge.GitLab)
	if err != nil {
		return err
	}
	branch := cmp.Or(in.DefaultBranch, "main")
	if ac.DryRun {
		ac.Logf("Dry run: would create the project %s/%s on %s", loc.Owner, loc.Repo, loc.Host)
		ac.Output("projectId", 0)
		return dryPublish(ctx, ac, in.pushInput, "https://"+loc.Host+"/"+loc.Owner+"/"+loc.Repo, "/-/blob/")
	}
	token, err := tokenFor(in.Token, integ)
	if err != nil {
		return err
	}
	api := &restClient{base: integ.APIBaseURL, client: p.f.client, header: http.Header{"Private-Token": {token}}}
	var ns struct {
		ID int64 `json:"id"`
	}
	if err := api.do(ctx, http.MethodGet, "/namespaces/"+url.PathEscape(loc.Owner), nil, &ns); err != nil {
		return fmt.Errorf("finding the namespace %s: %w", loc.Owner, err)
	}
	body := map[string]any{
		"name": loc.Repo, "path": loc.Repo, "namespace_id": ns.ID, "visibility": cmp.Or(in.RepoVisibility, "private"),
		"description": in.Description, "default_branch": branch,
	}
	if len(in.Topics) > 0 {
		body["topics"] = in.Topics
	}
	var project struct {
		ID            int64  `json:"id"`
		HTTPURLToRepo string `json:"http_url_to_repo"`
		WebURL        string `json:"web_url"`
	}
	if err := api.do(ctx, http.MethodPost, "/projects", body, &project); err != nil {
		return fmt.Errorf("creating the project %s/%s: %w", loc.Owner, loc.Repo, err)
	}
	ac.Logf("Created the project %s", project.WebURL)
	hash, err := push(ctx, ac, in.pushInput, project.HTTPURLToRepo, &githttp.BasicAuth{Username: "oauth2", Password: token})
	if err != nil {
		return err
	}
	published(ac, project.HTTPURLToRepo, project.WebURL+"/-/blob/"+branch, hash)
	ac.Output("projectId", project.ID)
	return nil
}

// tokenFor is the step's token, or else the integration's.
func tokenFor(step string, integ Integration) (string, error) {
	if token := cmp.Or(step, integ.Token); token != "" {
		return token, nil
	}
	return "", fmt.Errorf("no token for %s: give the step a token or configure the integration's", integ.Host)
}

// restClient calls a forge's JSON REST API. A handful of calls is all the
// publish actions make, so they are written against the documented
// endpoints rather than through a client library per forge.
type restClient struct {
	base   string
	client *http.Client
	header http.Header
}

// maxResponse bounds what a forge's answer may hold.
const maxResponse = 4 << 20

func (c *restClient) do(ctx context.Context, method, p string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.base, "/")+p, rd)
	if err != nil {
		return err
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s %s: %w", method, p, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var msg struct {
			Message any `json:"message"`
		}
		json.Unmarshal(data, &msg)
		return fmt.Errorf("%s %s: %s: %v", method, p, resp.Status, msg.Message)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: the answer is not JSON: %w", method, p, err)
		}
	}
	return nil
}
