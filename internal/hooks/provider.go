package hooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/greenroomhq/greenroom/internal/portal"
)

// A provider checks and reads the deliveries of one forge's webhooks.
type provider struct {
	// verify returns why the delivery is not the provider's, or "". The
	// reason is told to the sender and logged: it never quotes the secret
	// or the signature.
	verify func(h http.Header, body []byte, secret string) string
	// parse reads a verified delivery: a push, one to ignore, or EINVALID.
	parse func(h http.Header, body []byte) (push, error)
}

// push is what a verified delivery asks for: the refresh of a
// repository's locations on some branches, or nothing, for the reason in
// ignored.
type push struct {
	repo     repo
	branches []string
	ignored  string
}

var providers = map[string]provider{
	GitHub:    {verify: verifyGitHub, parse: parseGitHub},
	GitLab:    {verify: verifyGitLab, parse: parseGitLab},
	Gitea:     {verify: verifyGitea, parse: parseGitea},
	Bitbucket: {verify: verifyBitbucket, parse: parseBitbucket},
}

func verifyGitHub(h http.Header, body []byte, secret string) string {
	return checkMAC(h, "X-Hub-Signature-256", "sha256=", body, secret)
}

// verifyGitLab compares the token's and the secret's SHA-256, so that the
// comparison's time tells nothing of the secret's length either.
func verifyGitLab(h http.Header, _ []byte, secret string) string {
	token := h.Get("X-Gitlab-Token")
	if token == "" {
		return "missing X-Gitlab-Token header"
	}
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return "X-Gitlab-Token is not the gitlab secret"
	}
	return ""
}

// verifyGitea checks Forgejo's header when it is there: Forgejo sends the
// same signature under both names, and a wrong one is not rescued by the
// other.
func verifyGitea(h http.Header, body []byte, secret string) string {
	name := "X-Gitea-Signature"
	if h.Get("X-Forgejo-Signature") != "" {
		name = "X-Forgejo-Signature"
	}
	return checkMAC(h, name, "", body, secret)
}

func verifyBitbucket(h http.Header, body []byte, secret string) string {
	return checkMAC(h, "X-Hub-Signature", "sha256=", body, secret)
}

// checkMAC checks that header name holds prefix and the hex HMAC-SHA256 of
// body keyed with secret.
func checkMAC(h http.Header, name, prefix string, body []byte, secret string) string {
	v := h.Get(name)
	if v == "" {
		return "missing " + name + " header"
	}
	sig, err := hex.DecodeString(strings.TrimPrefix(v, prefix))
	if err != nil || !strings.HasPrefix(v, prefix) {
		return name + " is not " + prefix + "<hex HMAC-SHA256>"
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return name + " does not match the body and the secret"
	}
	return ""
}

// refPush is the part of a GitHub or Gitea push that names what was pushed.
type refPush struct {
	Ref        string `json:"ref"`
	Repository struct {
		HTMLURL string `json:"html_url"`
	} `json:"repository"`
}

func parseGitHub(h http.Header, body []byte) (push, error) {
	switch ev := h.Get("X-GitHub-Event"); ev {
	case "":
		return push{}, portal.Errorf(portal.EINVALID, "missing X-GitHub-Event header")
	case "push":
		return parseRefPush(GitHub, h, body)
	default:
		return ignore(ev), nil
	}
}

func parseGitea(h http.Header, body []byte) (push, error) {
	ev := h.Get("X-Forgejo-Event")
	if ev == "" {
		ev = h.Get("X-Gitea-Event")
	}
	switch ev {
	case "":
		return push{}, portal.Errorf(portal.EINVALID, "missing X-Gitea-Event header")
	case "push":
		return parseRefPush(Gitea, h, body)
	default:
		return ignore(ev), nil
	}
}

func parseRefPush(forge string, h http.Header, body []byte) (push, error) {
	var p refPush
	if err := decode(h, body, &p); err != nil {
		return push{}, err
	}
	return newPush(forge, p.Repository.HTMLURL, "repository.html_url", p.Ref)
}

// gitlabPush is the part of a GitLab push (project or system hook) that
// names what was pushed.
type gitlabPush struct {
	EventName string `json:"event_name"`
	Ref       string `json:"ref"`
	Project   struct {
		WebURL string `json:"web_url"`
	} `json:"project"`
	Repository struct {
		Homepage string `json:"homepage"`
	} `json:"repository"`
}

// parseGitLab reads a push to a project's hook, or to a system hook, which
// sends every event under one name.
func parseGitLab(h http.Header, body []byte) (push, error) {
	ev := h.Get("X-Gitlab-Event")
	switch ev {
	case "":
		return push{}, portal.Errorf(portal.EINVALID, "missing X-Gitlab-Event header")
	case "Push Hook", "System Hook":
	default:
		return ignore(ev), nil
	}
	var p gitlabPush
	if err := decode(h, body, &p); err != nil {
		return push{}, err
	}
	if ev == "System Hook" && p.EventName != "push" {
		return ignore(ev + " " + p.EventName), nil
	}
	repo := p.Project.WebURL
	if repo == "" {
		repo = p.Repository.Homepage
	}
	return newPush(GitLab, repo, "project.web_url", p.Ref)
}

// bitbucketRef is a ref a Bitbucket Cloud push changes: nil when it was
// created (as old) or deleted (as new).
type bitbucketRef struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

type bitbucketPush struct {
	Push struct {
		Changes []struct {
			New *bitbucketRef `json:"new"`
			Old *bitbucketRef `json:"old"`
		} `json:"changes"`
	} `json:"push"`
	Repository struct {
		Links struct {
			HTML struct {
				Href string `json:"href"`
			} `json:"html"`
		} `json:"links"`
	} `json:"repository"`
}

type bitbucketServerPush struct {
	Repository struct {
		Links struct {
			Self []struct {
				Href string `json:"href"`
			} `json:"self"`
		} `json:"links"`
	} `json:"repository"`
	Changes []struct {
		Ref struct {
			ID        string `json:"id"`
			DisplayID string `json:"displayId"`
			Type      string `json:"type"`
		} `json:"ref"`
		RefID string `json:"refId"`
	} `json:"changes"`
}

// parseBitbucket reads a push to Bitbucket Cloud (repo:push) or Data
// Center (repo:refs_changed), which may each change several refs.
func parseBitbucket(h http.Header, body []byte) (push, error) {
	var refs []string
	var forge, repo, field string
	switch ev := h.Get("X-Event-Key"); ev {
	case "":
		return push{}, portal.Errorf(portal.EINVALID, "missing X-Event-Key header")
	case "repo:push":
		var p bitbucketPush
		if err := decode(h, body, &p); err != nil {
			return push{}, err
		}
		for _, c := range p.Push.Changes {
			ref := c.New
			if ref == nil { // a deleted branch
				ref = c.Old
			}
			if ref != nil && ref.Type == "branch" && ref.Name != "" {
				refs = append(refs, "refs/heads/"+ref.Name)
			}
		}
		forge, repo, field = Bitbucket, p.Repository.Links.HTML.Href, "repository.links.html.href"
	case "repo:refs_changed":
		var p bitbucketServerPush
		if err := decode(h, body, &p); err != nil {
			return push{}, err
		}
		for _, c := range p.Changes {
			switch {
			case c.RefID != "":
				refs = append(refs, c.RefID)
			case c.Ref.ID != "":
				refs = append(refs, c.Ref.ID)
			case c.Ref.Type == "BRANCH" && c.Ref.DisplayID != "":
				refs = append(refs, "refs/heads/"+c.Ref.DisplayID)
			}
		}
		if len(p.Repository.Links.Self) > 0 {
			repo = p.Repository.Links.Self[0].Href
		}
		forge, field = bitbucketServer, "repository.links.self[0].href"
	default:
		return ignore(ev), nil
	}
	return newPush(forge, repo, field, refs...)
}

// newPush is a push of refs to the repository at repoURL, read from the
// payload's field; refs that are not branches are left out, and a push
// of none of them is ignored.
func newPush(forge, repoURL, field string, refs ...string) (push, error) {
	if repoURL == "" {
		return push{}, portal.Errorf(portal.EINVALID, "the push has no repository URL (%s)", field)
	}
	rp, err := parseRepo(forge, repoURL)
	if err != nil {
		return push{}, err
	}
	var branches []string
	for _, ref := range refs {
		if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok && b != "" {
			branches = append(branches, b)
		}
	}
	if len(branches) == 0 {
		return push{ignored: "the push changes no branch"}, nil
	}
	slices.Sort(branches)
	return push{repo: rp, branches: slices.Compact(branches)}, nil
}

func ignore(event string) push {
	return push{ignored: "event " + event + " is not a branch push"}
}

// decode reads a delivery's JSON: its body, or the body's payload
// parameter when GitHub or Gitea were set to send a form.
func decode(h http.Header, body []byte, v any) error {
	if mt, _, _ := mime.ParseMediaType(h.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return portal.Errorf(portal.EINVALID, "the body is not a form: %v", err)
		}
		body = []byte(form.Get("payload"))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return portal.Errorf(portal.EINVALID, "the body is not a push payload: %v", err)
	}
	return nil
}
