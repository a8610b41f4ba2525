package hooks_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/hooks"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// secrets are distinct, so that a delivery signed for one provider fails
// at another even where the schemes agree.
var secrets = map[string]string{
	hooks.GitHub:    "gh-secret",
	hooks.GitLab:    "gl-secret",
	hooks.Gitea:     "gt-secret",
	hooks.Bitbucket: "bb-secret",
}

// locs are the registered locations: for each forge, some that a push to
// acme/api on main refreshes and some it must not.
var locs = []catalog.Location{
	{ID: "gh-main", Type: "url", Target: "https://github.com/acme/api/blob/main/catalog-info.yaml"},
	{ID: "gh-raw", Type: "url", Target: "https://raw.githubusercontent.com/acme/api/main/more.yaml"},
	{ID: "gh-dev", Type: "url", Target: "https://github.com/acme/api/blob/dev/catalog-info.yaml"},
	{ID: "gh-prefix", Type: "url", Target: "https://github.com/acme/api-docs/blob/main/catalog-info.yaml"},
	{ID: "gh-other", Type: "url", Target: "https://github.com/acme/web/blob/main/catalog-info.yaml"},
	{ID: "gh-file", Type: "file", Target: "https://github.com/acme/api/blob/main/catalog-info.yaml"},
	{ID: "gl-main", Type: "url", Target: "https://gitlab.com/acme/platform/api/-/blob/main/catalog-info.yaml"},
	{ID: "gl-dev", Type: "url", Target: "https://gitlab.com/acme/platform/api/-/blob/dev/catalog-info.yaml"},
	{ID: "gl-prefix", Type: "url", Target: "https://gitlab.com/acme/platform/api-docs/-/blob/main/catalog-info.yaml"},
	{ID: "gt-main", Type: "url", Target: "https://gitea.example.com/acme/api/src/branch/main/catalog-info.yaml"},
	{ID: "gt-dev", Type: "url", Target: "https://gitea.example.com/acme/api/src/branch/dev/catalog-info.yaml"},
	{ID: "bb-main", Type: "url", Target: "https://bitbucket.org/acme/api/src/main/catalog-info.yaml"},
	{ID: "bb-feature", Type: "url", Target: "https://bitbucket.org/acme/api/raw/feature/x/catalog-info.yaml"},
	{ID: "bb-dev", Type: "url", Target: "https://bitbucket.org/acme/api/src/dev/catalog-info.yaml"},
	{ID: "bbs-main", Type: "url", Target: "https://bitbucket.example.com/projects/PRJ/repos/api/browse/catalog-info.yaml?at=refs/heads/main"},
	{ID: "bbs-default", Type: "url", Target: "https://bitbucket.example.com/projects/PRJ/repos/api/browse/default.yaml"},
	{ID: "bbs-dev", Type: "url", Target: "https://bitbucket.example.com/projects/PRJ/repos/api/browse/catalog-info.yaml?at=dev"},
}

type locations []catalog.Location

func (l locations) Locations(context.Context) ([]catalog.Location, error) { return l, nil }

// refresher records the refreshes asked for, and the principal they were
// asked for as; fail makes the refresh of a location fail.
type refresher struct {
	mu   sync.Mutex
	ids  []string
	as   []string
	fail map[string]error
}

func (r *refresher) RefreshSoon(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fail[id]; err != nil {
		return err
	}
	r.ids = append(r.ids, id)
	r.as = append(r.as, portal.PrincipalFromContext(ctx).Ref)
	return nil
}

func (r *refresher) refreshed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(slices.Values(r.ids))
}

// syncBuffer is a log destination the server's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	srv *httptest.Server
	ref *refresher
	log *syncBuffer
}

// MustServe serves a handler over locs, changed by opt, until the test ends.
func MustServe(tb testing.TB, opt func(*hooks.Options)) *fixture {
	tb.Helper()
	f := &fixture{ref: &refresher{}, log: &syncBuffer{}}
	opts := hooks.Options{
		Secrets: secrets, Locations: locations(locs), Refresher: f.ref,
		Principal: &portal.Principal{Kind: portal.PrincipalService, Ref: "service:greenroom"},
		Logger:    slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if opt != nil {
		opt(&opts)
	}
	f.srv = httptest.NewServer(hooks.New(opts))
	tb.Cleanup(f.srv.Close)
	return f
}

// response is a decoded answer.
type response struct {
	Status    int
	Refreshed []string
	Ignored   string
	Error     string
}

func (f *fixture) send(tb testing.TB, method, provider string, h http.Header, body []byte) response {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, f.srv.URL+hooks.Prefix+provider, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header = h.Clone()
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type %q; want JSON", ct)
	}
	var out struct {
		Refreshed []string `json:"refreshed"`
		Ignored   string   `json:"ignored"`
		Error     string   `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		tb.Fatalf("decode answer: %v", err)
	}
	slices.Sort(out.Refreshed)
	return response{Status: resp.StatusCode, Refreshed: out.Refreshed, Ignored: out.Ignored, Error: out.Error}
}

func hexMAC(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// signed returns the headers scheme's sender sends with body and event,
// signed with secret. Scheme is a provider, "forgejo", or "github-form"
// (GitHub sending a form with the JSON in its payload parameter).
func signed(scheme, secret, event string, body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	switch scheme {
	case hooks.GitHub, "github-form":
		h.Set("X-Hub-Signature-256", "sha256="+hexMAC(secret, body))
		h.Set("X-GitHub-Event", event)
		if scheme == "github-form" {
			h.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	case hooks.GitLab:
		h.Set("X-Gitlab-Token", secret)
		h.Set("X-Gitlab-Event", event)
	case hooks.Gitea:
		h.Set("X-Gitea-Signature", hexMAC(secret, body))
		h.Set("X-Gitea-Event", event)
	case "forgejo":
		h.Set("X-Forgejo-Signature", hexMAC(secret, body))
		h.Set("X-Forgejo-Event", event)
		h.Set("X-Gitea-Signature", hexMAC(secret, body))
		h.Set("X-Gitea-Event", event)
	case hooks.Bitbucket:
		h.Set("X-Hub-Signature", "sha256="+hexMAC(secret, body))
		h.Set("X-Event-Key", event)
	}
	return h
}

func githubPush(ref, repo string) []byte {
	return fmt.Appendf(nil, `{"ref":%q,"before":"a","after":"b","repository":{"full_name":"acme/api","html_url":%q,`+
		`"clone_url":"https://github.com/acme/api.git"},"commits":[]}`, ref, repo)
}

func gitlabPush(ref, webURL string) []byte {
	return fmt.Appendf(nil, `{"object_kind":"push","event_name":"push","ref":%q,"project":{"path_with_namespace":"acme/platform/api",`+
		`"web_url":%q},"repository":{"homepage":%q}}`, ref, webURL, webURL)
}

const bitbucketCloudPush = `{"actor":{},"repository":{"full_name":"acme/api","links":{"html":{"href":"https://bitbucket.org/acme/api"}}},
"push":{"changes":[
 {"new":{"type":"branch","name":"main"},"old":{"type":"branch","name":"main"}},
 {"new":{"type":"branch","name":"feature/x"},"old":null},
 {"new":null,"old":{"type":"branch","name":"gone"}},
 {"new":{"type":"tag","name":"dev"},"old":null}]}}`

const bitbucketServerPush = `{"eventKey":"repo:refs_changed","repository":{"slug":"api","project":{"key":"PRJ"},
"links":{"clone":[{"href":"https://bitbucket.example.com/scm/prj/api.git","name":"http"}],
"self":[{"href":"https://bitbucket.example.com/projects/PRJ/repos/api/browse"}]}},
"changes":[
 {"ref":{"id":"refs/heads/main","displayId":"main","type":"BRANCH"},"refId":"refs/heads/main","type":"UPDATE"},
 {"ref":{"id":"refs/tags/dev","displayId":"dev","type":"TAG"},"refId":"refs/tags/dev","type":"ADD"}]}`

// delivery is a push as a provider sends it.
type delivery struct {
	name, provider, scheme, event string
	body                          []byte
	want                          []string // the locations refreshed
}

var pushes = []delivery{
	{"GitHub", hooks.GitHub, hooks.GitHub, "push", githubPush("refs/heads/main", "https://github.com/acme/api"),
		[]string{"gh-main", "gh-raw"}},
	{"GitHubDeletedBranch", hooks.GitHub, hooks.GitHub, "push", githubPush("refs/heads/dev", "https://github.com/acme/api"),
		[]string{"gh-dev"}},
	{"GitHubForm", hooks.GitHub, "github-form", "push",
		[]byte("payload=" + url.QueryEscape(string(githubPush("refs/heads/main", "https://github.com/acme/api")))),
		[]string{"gh-main", "gh-raw"}},
	{"GitLab", hooks.GitLab, hooks.GitLab, "Push Hook", gitlabPush("refs/heads/main", "https://gitlab.com/acme/platform/api"),
		[]string{"gl-main"}},
	{"GitLabSystemHook", hooks.GitLab, hooks.GitLab, "System Hook", gitlabPush("refs/heads/dev", "https://gitlab.com/acme/platform/api"),
		[]string{"gl-dev"}},
	{"Gitea", hooks.Gitea, hooks.Gitea, "push", githubPush("refs/heads/main", "https://gitea.example.com/acme/api"),
		[]string{"gt-main"}},
	{"Forgejo", hooks.Gitea, "forgejo", "push", githubPush("refs/heads/dev", "https://gitea.example.com/acme/api"),
		[]string{"gt-dev"}},
	{"BitbucketCloud", hooks.Bitbucket, hooks.Bitbucket, "repo:push", []byte(bitbucketCloudPush),
		[]string{"bb-feature", "bb-main"}},
	{"BitbucketDataCenter", hooks.Bitbucket, hooks.Bitbucket, "repo:refs_changed", []byte(bitbucketServerPush),
		[]string{"bbs-default", "bbs-main"}},
}

func TestHandler_Push(t *testing.T) {
	for _, d := range pushes {
		t.Run(d.name, func(t *testing.T) {
			f := MustServe(t, nil)
			got := f.send(t, http.MethodPost, d.provider, signed(d.scheme, secrets[d.provider], d.event, d.body), d.body)
			if got.Status != http.StatusAccepted {
				t.Fatalf("status %d (%s); want 202", got.Status, got.Error)
			}
			if diff := cmp.Diff(d.want, got.Refreshed); diff != "" {
				t.Errorf("answer's refreshed mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(d.want, f.ref.refreshed()); diff != "" {
				t.Errorf("refreshes mismatch (-want +got):\n%s", diff)
			}
			for _, as := range f.ref.as {
				if as != "service:greenroom" {
					t.Errorf("refresh asked for as %q; want service:greenroom", as)
				}
			}
		})
	}
	t.Run("NoMatch", func(t *testing.T) {
		f := MustServe(t, nil)
		body := githubPush("refs/heads/main", "https://github.com/acme/nothing")
		got := f.send(t, http.MethodPost, hooks.GitHub, signed(hooks.GitHub, secrets[hooks.GitHub], "push", body), body)
		if got.Status != http.StatusAccepted || got.Refreshed == nil || len(got.Refreshed) != 0 {
			t.Errorf("got %+v; want 202 and refreshed []", got)
		}
	})
}

// TestHandler_Refused checks that no refused delivery refreshes anything.
func TestHandler_Refused(t *testing.T) {
	type refusal struct {
		name     string
		provider string
		header   http.Header
		body     []byte
		want     int
	}
	var tests []refusal
	for _, d := range pushes {
		tests = append(tests,
			refusal{d.name + "/EmptySecret", d.provider, signed(d.scheme, "", d.event, d.body), d.body, 401},
			refusal{d.name + "/MalformedJSON", d.provider, signed(d.scheme, secrets[d.provider], d.event, []byte(`{"ref":`)), []byte(`{"ref":`), 400},
		)
		// GitLab's token does not cover the body: only TLS keeps it whole.
		if d.provider != hooks.GitLab {
			tampered := bytes.ReplaceAll(d.body, []byte("api"), []byte("web"))
			tests = append(tests,
				refusal{d.name + "/Tampered", d.provider, signed(d.scheme, secrets[d.provider], d.event, d.body), tampered, 401})
		}
	}
	for _, d := range pushes {
		if d.scheme == "forgejo" {
			continue
		}
		// A missing header is the one from signed("", …): every scheme's
		// header is absent.
		h := signed(d.scheme, "", d.event, d.body)
		for _, name := range []string{"X-Hub-Signature-256", "X-Gitlab-Token", "X-Gitea-Signature", "X-Hub-Signature"} {
			h.Del(name)
		}
		tests = append(tests, refusal{d.name + "/NoSignatureHeader", d.provider, h, d.body, 401})
	}
	gh := pushes[0].body
	bb := []byte(bitbucketCloudPush)
	forgejoBad := signed("forgejo", secrets[hooks.Gitea], "push", gh)
	forgejoBad.Set("X-Forgejo-Signature", hexMAC("wrong", gh))
	noEvent := signed(hooks.GitHub, secrets[hooks.GitHub], "", gh)
	noEvent.Del("X-GitHub-Event")
	badHex := signed(hooks.GitHub, secrets[hooks.GitHub], "push", gh)
	badHex.Set("X-Hub-Signature-256", "sha256=zz")
	noPrefix := signed(hooks.GitHub, secrets[hooks.GitHub], "push", gh)
	noPrefix.Set("X-Hub-Signature-256", hexMAC(secrets[hooks.GitHub], gh))
	tests = append(tests,
		// another provider's scheme, with that provider's own secret
		refusal{"GitHubSchemeAtBitbucket", hooks.Bitbucket, signed(hooks.GitHub, secrets[hooks.GitHub], "push", bb), bb, 401},
		refusal{"BitbucketSchemeAtGitHub", hooks.GitHub, signed(hooks.Bitbucket, secrets[hooks.Bitbucket], "repo:push", gh), gh, 401},
		refusal{"GiteaSchemeAtGitHub", hooks.GitHub, signed(hooks.Gitea, secrets[hooks.Gitea], "push", gh), gh, 401},
		refusal{"GitHubSchemeAtGitea", hooks.Gitea, signed(hooks.GitHub, secrets[hooks.GitHub], "push", gh), gh, 401},
		refusal{"GitLabSchemeAtGitea", hooks.Gitea, signed(hooks.GitLab, secrets[hooks.GitLab], "push", gh), gh, 401},
		refusal{"GiteaSchemeAtGitLab", hooks.GitLab, signed(hooks.Gitea, secrets[hooks.Gitea], "Push Hook", gh), gh, 401},
		// the right scheme with another provider's secret
		refusal{"GitHubSignedWithGiteaSecret", hooks.GitHub, signed(hooks.GitHub, secrets[hooks.Gitea], "push", gh), gh, 401},
		refusal{"BitbucketSignedWithGitHubSecret", hooks.Bitbucket, signed(hooks.Bitbucket, secrets[hooks.GitHub], "repo:push", bb), bb, 401},
		refusal{"GitLabTokenOfGitHub", hooks.GitLab, signed(hooks.GitLab, secrets[hooks.GitHub], "Push Hook", gh), gh, 401},
		refusal{"GitLabTokenPrefix", hooks.GitLab, signed(hooks.GitLab, secrets[hooks.GitLab][:3], "Push Hook", gh), gh, 401},
		refusal{"ForgejoHeaderWrong", hooks.Gitea, forgejoBad, gh, 401},
		refusal{"MalformedSignature", hooks.GitHub, badHex, gh, 401},
		refusal{"SignatureWithoutPrefix", hooks.GitHub, noPrefix, gh, 401},
		refusal{"NoEventHeader", hooks.GitHub, noEvent, gh, 400},
		refusal{"UnknownProvider", "svn", signed(hooks.GitHub, secrets[hooks.GitHub], "push", gh), gh, 404},
		refusal{"NoRepositoryURL", hooks.GitHub, signed(hooks.GitHub, secrets[hooks.GitHub], "push", []byte(`{"ref":"refs/heads/main"}`)),
			[]byte(`{"ref":"refs/heads/main"}`), 400},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := MustServe(t, nil)
			got := f.send(t, http.MethodPost, tt.provider, tt.header, tt.body)
			if got.Status != tt.want {
				t.Errorf("status %d (%s); want %d", got.Status, got.Error, tt.want)
			}
			if got.Error == "" {
				t.Error("no error message")
			}
			if ids := f.ref.refreshed(); len(ids) > 0 {
				t.Errorf("refreshed %v; want none", ids)
			}
		})
	}
}

// TestHandler_Ignored checks that verified events other than branch pushes
// are answered 200 and refresh nothing.
func TestHandler_Ignored(t *testing.T) {
	tests := []struct {
		name, provider, scheme, event string
		body                          []byte
	}{
		{"GitHubPing", hooks.GitHub, hooks.GitHub, "ping", []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)},
		{"GitHubPullRequest", hooks.GitHub, hooks.GitHub, "pull_request", []byte(`{"action":"opened"}`)},
		{"GitHubTag", hooks.GitHub, hooks.GitHub, "push", githubPush("refs/tags/main", "https://github.com/acme/api")},
		{"GitLabTagPush", hooks.GitLab, hooks.GitLab, "Tag Push Hook", gitlabPush("refs/tags/v1", "https://gitlab.com/acme/platform/api")},
		{"GitLabMergeRequest", hooks.GitLab, hooks.GitLab, "Merge Request Hook", []byte(`{"object_kind":"merge_request"}`)},
		{"GitLabSystemHookOther", hooks.GitLab, hooks.GitLab, "System Hook", []byte(`{"event_name":"project_create"}`)},
		{"GiteaIssues", hooks.Gitea, hooks.Gitea, "issues", []byte(`{"action":"opened"}`)},
		{"BitbucketPing", hooks.Bitbucket, hooks.Bitbucket, "diagnostics:ping", []byte(`{"test":true}`)},
		{"BitbucketPullRequest", hooks.Bitbucket, hooks.Bitbucket, "pullrequest:created", []byte(`{}`)},
		{"BitbucketTagOnly", hooks.Bitbucket, hooks.Bitbucket, "repo:push", []byte(`{"repository":{"links":{"html":{"href":"https://bitbucket.org/acme/api"}}},` +
			`"push":{"changes":[{"new":{"type":"tag","name":"main"}}]}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := MustServe(t, nil)
			got := f.send(t, http.MethodPost, tt.provider, signed(tt.scheme, secrets[tt.provider], tt.event, tt.body), tt.body)
			if got.Status != http.StatusOK || got.Ignored == "" || got.Refreshed == nil || len(got.Refreshed) != 0 {
				t.Errorf("got %+v; want 200, refreshed [] and why it is ignored", got)
			}
			if ids := f.ref.refreshed(); len(ids) > 0 {
				t.Errorf("refreshed %v; want none", ids)
			}
		})
	}
}

func TestHandler_Limits(t *testing.T) {
	t.Run("ErrTooLarge", func(t *testing.T) {
		f := MustServe(t, func(o *hooks.Options) { o.MaxBody = 64 })
		body := githubPush("refs/heads/main", "https://github.com/acme/api")
		got := f.send(t, http.MethodPost, hooks.GitHub, signed(hooks.GitHub, secrets[hooks.GitHub], "push", body), body)
		if got.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d; want 413", got.Status)
		}
		if ids := f.ref.refreshed(); len(ids) > 0 {
			t.Errorf("refreshed %v; want none", ids)
		}
	})
	t.Run("DefaultMaxBody", func(t *testing.T) {
		f := MustServe(t, nil)
		body := append(githubPush("refs/heads/main", "https://github.com/acme/api"), bytes.Repeat([]byte(" "), hooks.DefaultMaxBody)...)
		got := f.send(t, http.MethodPost, hooks.GitHub, signed(hooks.GitHub, secrets[hooks.GitHub], "push", body), body)
		if got.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d; want 413", got.Status)
		}
	})
	t.Run("ErrMethod", func(t *testing.T) {
		f := MustServe(t, nil)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+hooks.Prefix+hooks.GitHub, nil)
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
			t.Errorf("status %d, Allow %q; want 405, POST", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	t.Run("ErrNoSecret", func(t *testing.T) {
		f := MustServe(t, func(o *hooks.Options) {
			o.Secrets = map[string]string{hooks.GitHub: secrets[hooks.GitHub], hooks.GitLab: ""}
		})
		for _, d := range pushes {
			if d.provider == hooks.GitHub {
				continue
			}
			// Signed with the empty secret: an empty key is anyone's.
			got := f.send(t, http.MethodPost, d.provider, signed(d.scheme, "", d.event, d.body), d.body)
			if got.Status != http.StatusNotFound {
				t.Errorf("%s: status %d; want 404", d.name, got.Status)
			}
		}
		if ids := f.ref.refreshed(); len(ids) > 0 {
			t.Errorf("refreshed %v; want none", ids)
		}
	})
	t.Run("ErrOtherPath", func(t *testing.T) {
		f := MustServe(t, nil)
		for _, p := range []string{"/hooks/refresh/", "/hooks/refresh/github/x", "/hooks"} {
			resp, err := f.srv.Client().Post(f.srv.URL+p, "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("POST %s: status %d; want 404", p, resp.StatusCode)
			}
		}
	})
}

// TestHandler_Log checks that a refused delivery is logged with why, and
// without the secret or the signature.
func TestHandler_Log(t *testing.T) {
	f := MustServe(t, nil)
	body := githubPush("refs/heads/main", "https://github.com/acme/api")
	h := signed(hooks.GitHub, secrets[hooks.GitHub], "push", body)
	sig := h.Get("X-Hub-Signature-256")
	tampered := append(body, ' ')
	if got := f.send(t, http.MethodPost, hooks.GitHub, h, tampered); got.Status != http.StatusUnauthorized {
		t.Fatalf("status %d; want 401", got.Status)
	}
	got := f.log.String()
	for _, want := range []string{"webhook refused", "provider=github", "remote_addr=127.0.0.1", "reason="} {
		if !strings.Contains(got, want) {
			t.Errorf("log %q lacks %q", got, want)
		}
	}
	for _, secret := range []string{secrets[hooks.GitHub], sig, strings.TrimPrefix(sig, "sha256=")} {
		if strings.Contains(got, secret) {
			t.Errorf("log %q holds a secret", got)
		}
	}
}

func TestHandler_RefreshErrors(t *testing.T) {
	body := githubPush("refs/heads/main", "https://github.com/acme/api")
	h := signed(hooks.GitHub, secrets[hooks.GitHub], "push", body)
	t.Run("DeletedLocationSkipped", func(t *testing.T) {
		f := MustServe(t, nil)
		f.ref.fail = map[string]error{"gh-main": portal.Errorf(portal.ENOTFOUND, "no location gh-main")}
		got := f.send(t, http.MethodPost, hooks.GitHub, h, body)
		if diff := cmp.Diff(response{Status: 202, Refreshed: []string{"gh-raw"}}, got); diff != "" {
			t.Errorf("answer mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("ErrInternal", func(t *testing.T) {
		f := MustServe(t, nil)
		f.ref.fail = map[string]error{"gh-main": errors.New("queue: connection refused")}
		got := f.send(t, http.MethodPost, hooks.GitHub, h, body)
		if got.Status != http.StatusInternalServerError || got.Error != "internal error" {
			t.Errorf("got %+v; want 500 internal error", got)
		}
		if !strings.Contains(f.log.String(), "connection refused") {
			t.Errorf("log %q lacks the error", f.log.String())
		}
	})
	t.Run("ErrUnavailable", func(t *testing.T) {
		f := MustServe(t, func(o *hooks.Options) { o.Locations = failing{portal.Errorf(portal.EUNAVAILABLE, "busy")} })
		if got := f.send(t, http.MethodPost, hooks.GitHub, h, body); got.Status != http.StatusServiceUnavailable {
			t.Errorf("status %d; want 503", got.Status)
		}
	})
}

type failing struct{ err error }

func (f failing) Locations(context.Context) ([]catalog.Location, error) { return nil, f.err }
