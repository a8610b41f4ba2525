package forge_test

import (
	"net/url"
	"testing"

	"github.com/greenroomhq/greenroom/internal/forge"
)

func TestRawRequest(t *testing.T) {
	list := []forge.Integration{
		{Kind: forge.GitHub, Host: "ghe.example.com", APIBaseURL: "https://ghe.example.com/api/v3/", Token: "gh"},
		{Kind: forge.GitLab, Host: "git.example.com:8443", APIBaseURL: "https://git.example.com:8443/api/v4", Token: "gl"},
	}
	for _, tc := range []struct{ in, want, header string }{
		{"https://ghe.example.com/org/repo/blob/main/catalog-info.yaml", "https://ghe.example.com/api/v3/repos/org/repo/contents/catalog-info.yaml?ref=main", "Bearer gh"},
		{"https://github.com/org/repo/blob/v1.2/docs/a b.yaml", "https://api.github.com/repos/org/repo/contents/docs/a%20b.yaml?ref=v1.2", ""},
		{"https://git.example.com:8443/group/sub/proj/-/blob/main/dir/catalog-info.yaml", "https://git.example.com:8443/api/v4/projects/group%2Fsub%2Fproj/repository/files/dir%2Fcatalog-info.yaml/raw?ref=main", "gl"},
		{"https://ghe.example.com/org/repo/tree/main/x", "", ""},
		{"https://ghe.example.com/org/repo/blob/main/", "", ""},
		{"https://elsewhere.example.com/org/repo/blob/main/x.yaml", "", ""},
	} {
		u, _ := url.Parse(tc.in)
		got, h, ok := forge.RawRequest(list, u)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: %q %v, want %q", tc.in, got, ok, tc.want)
		}
		if ok && h.Get("Authorization")+h.Get("Private-Token") != tc.header {
			t.Errorf("%s: header %v, want %q", tc.in, h, tc.header)
		}
	}
}

func TestParse(t *testing.T) {
	list := []forge.Integration{{Kind: forge.GitLab, Host: "git.example.com", Token: "gl"}}
	for _, tc := range []struct{ in, clone, ref, path, user string }{
		{"https://github.com/org/repo/tree/main/templates/go", "https://github.com/org/repo.git", "main", "templates/go", "x-access-token"},
		{"https://github.com/org/repo/tree/v1/", "https://github.com/org/repo.git", "v1", "", "x-access-token"},
		{"http://git.example.com/group/sub/proj/-/tree/main/skeleton/", "http://git.example.com/group/sub/proj.git", "main", "skeleton", "oauth2"},
		{"https://git.example.com/group/proj/-/blob/dev/a/template.yaml", "https://git.example.com/group/proj.git", "dev", "a/template.yaml", "oauth2"},
		{"https://github.com/org/repo/commits/main", "", "", "", ""},
		{"https://github.com/org/repo", "", "", "", ""},
		{"https://git.example.com/group/proj/tree/main", "", "", "", ""},
		{"https://unknown.example.com/org/repo/tree/main/x", "", "", "", ""},
	} {
		u, _ := url.Parse(tc.in)
		loc, ok := forge.Parse(list, u)
		if ok != (tc.clone != "") {
			t.Errorf("%s: parsed %v", tc.in, ok)
			continue
		}
		if ok && (loc.CloneURL() != tc.clone || loc.Ref != tc.ref || loc.Path != tc.path || loc.GitUser() != tc.user) {
			t.Errorf("%s: %s %s %q %s", tc.in, loc.CloneURL(), loc.Ref, loc.Path, loc.GitUser())
		}
	}
}
