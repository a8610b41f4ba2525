package hooks

import "testing"

func TestRepo_Has(t *testing.T) {
	const (
		gh  = "https://github.com/acme/api"
		ghe = "https://ghe.example.com/acme/api"
		gl  = "https://gitlab.com/acme/platform/team/api"
		gt  = "https://gitea.example.com/acme/api"
		bb  = "https://bitbucket.org/acme/api"
		bbs = "https://bitbucket.example.com/projects/PRJ/repos/api/browse"
	)
	tests := []struct {
		forge, repo, branch, target string
		want                        bool
	}{
		// GitHub
		{GitHub, gh, "main", "https://github.com/acme/api/blob/main/catalog-info.yaml", true},
		{GitHub, gh, "main", "https://github.com/acme/api/tree/main/services", true},
		{GitHub, gh, "main", "https://github.com/acme/api/tree/main", true},
		{GitHub, gh, "main", "https://github.com/acme/api/raw/main/catalog-info.yaml", true},
		{GitHub, gh, "main", "https://raw.githubusercontent.com/acme/api/main/catalog-info.yaml", true},
		{GitHub, gh, "main", "https://raw.githubusercontent.com/acme/api/refs/heads/main/catalog-info.yaml", true},
		{GitHub, gh, "main", "https://github.com/acme/api/blob/refs/heads/main/catalog-info.yaml", true},
		{GitHub, gh, "main", "https://GitHub.com/ACME/Api/blob/main/catalog-info.yaml", true},
		{GitHub, gh, "main", "https://github.com:443/acme/api/blob/main/catalog-info.yaml", true},
		{GitHub, gh + ".git", "main", "https://github.com/acme/api/blob/main/catalog-info.yaml", true},
		{GitHub, gh + "/", "main", "https://github.com/acme/api/blob/main/catalog-info.yaml", true},
		{GitHub, gh, "main", "https://github.com/acme/api.git/blob/main/catalog-info.yaml", true},
		{GitHub, gh, "feature/x", "https://github.com/acme/api/blob/feature/x/catalog-info.yaml", true},
		{GitHub, gh, "feature/x", "https://github.com/acme/api/blob/feature%2Fx/catalog-info.yaml", true},
		{GitHub, gh, "feature/x", "https://github.com/acme/api/blob/feature/y/catalog-info.yaml", false},
		{GitHub, gh, "feature/x", "https://github.com/acme/api/blob/feature/xy/catalog-info.yaml", false},
		{GitHub, gh, "main", "https://github.com/acme/api/blob/Main/catalog-info.yaml", false},
		{GitHub, gh, "main", "https://github.com/acme/api/blob/mainline/catalog-info.yaml", false},
		{GitHub, gh, "main", "https://github.com/acme/api/blob/dev/catalog-info.yaml", false},
		{GitHub, gh, "main", "https://github.com/acme/api2/blob/main/catalog-info.yaml", false},
		{GitHub, gh, "main", "https://github.com/acme/ap/blob/main/catalog-info.yaml", false},
		{GitHub, gh, "main", "https://github.com/other/api/blob/main/catalog-info.yaml", false},
		{GitHub, gh, "main", "https://gitlab.com/acme/api/blob/main/catalog-info.yaml", false},
		{GitHub, gh, "main", "https://github.com/acme/api/commits/main/catalog-info.yaml", false},
		{GitHub, gh, "main", "https://github.com/acme/api", false},
		{GitHub, gh, "main", "ftp://github.com/acme/api/blob/main/catalog-info.yaml", false},
		{GitHub, gh, "", "https://github.com/acme/api/blob/main/catalog-info.yaml", false},
		{GitHub, ghe, "main", "https://ghe.example.com/acme/api/blob/main/catalog-info.yaml", true},
		{GitHub, ghe, "main", "https://ghe.example.com/raw/acme/api/main/catalog-info.yaml", true},
		{GitHub, ghe, "main", "https://raw.ghe.example.com/acme/api/main/catalog-info.yaml", true},
		{GitHub, ghe, "main", "https://github.com/acme/api/blob/main/catalog-info.yaml", false},
		// GitLab
		{GitLab, gl, "main", "https://gitlab.com/acme/platform/team/api/-/blob/main/catalog-info.yaml", true},
		{GitLab, gl, "main", "https://gitlab.com/acme/platform/team/api/-/raw/main/catalog-info.yaml", true},
		{GitLab, gl, "main", "https://gitlab.com/acme/platform/team/api/-/tree/main/services", true},
		{GitLab, gl, "main", "https://gitlab.com/acme/platform/team/api/blob/main/catalog-info.yaml", true},
		{GitLab, gl, "release/1.x", "https://gitlab.com/acme/platform/team/api/-/blob/release/1.x/c.yaml", true},
		{GitLab, gl, "main", "https://GITLAB.com/Acme/Platform/Team/API/-/blob/main/catalog-info.yaml", true},
		{GitLab, gl, "main", "https://gitlab.com/acme/platform/api/-/blob/main/catalog-info.yaml", false},
		{GitLab, gl, "main", "https://gitlab.com/acme/platform/team/api-docs/-/blob/main/c.yaml", false},
		{GitLab, gl, "main", "https://gitlab.com/acme/platform/team/api/-/blob/develop/c.yaml", false},
		// Gitea and Forgejo
		{Gitea, gt, "main", "https://gitea.example.com/acme/api/src/branch/main/catalog-info.yaml", true},
		{Gitea, gt, "main", "https://gitea.example.com/acme/api/raw/branch/main/catalog-info.yaml", true},
		{Gitea, gt, "feat/a/b", "https://gitea.example.com/acme/api/raw/branch/feat/a/b/c.yaml", true},
		{Gitea, gt, "main", "https://gitea.example.com/acme/api/src/tag/main/catalog-info.yaml", false},
		{Gitea, gt, "main", "https://gitea.example.com/acme/api/src/commit/main/catalog-info.yaml", false},
		{Gitea, gt, "main", "https://gitea.example.com/acme/api/blob/main/catalog-info.yaml", false},
		{Gitea, "http://localhost:3000/acme/api", "main", "http://localhost:3000/acme/api/src/branch/main/c.yaml", true},
		{Gitea, "http://localhost:80/acme/api", "main", "http://LOCALHOST/acme/api/src/branch/main/c.yaml", true},
		// Bitbucket Cloud
		{Bitbucket, bb, "main", "https://bitbucket.org/acme/api/src/main/catalog-info.yaml", true},
		{Bitbucket, bb, "main", "https://bitbucket.org/acme/api/raw/main/catalog-info.yaml", true},
		{Bitbucket, bb, "a/b", "https://bitbucket.org/acme/api/src/a/b/catalog-info.yaml", true},
		{Bitbucket, bb, "main", "https://bitbucket.org/acme/api/src/dev/catalog-info.yaml", false},
		{Bitbucket, bb, "main", "https://bitbucket.org/acme/api-old/src/main/catalog-info.yaml", false},
		// Bitbucket Data Center
		{bitbucketServer, bbs, "main", "https://bitbucket.example.com/projects/PRJ/repos/api/browse/catalog-info.yaml?at=refs/heads/main", true},
		{bitbucketServer, bbs, "main", "https://bitbucket.example.com/projects/prj/repos/api/browse/catalog-info.yaml?at=refs%2Fheads%2Fmain", true},
		{bitbucketServer, bbs, "main", "https://bitbucket.example.com/projects/PRJ/repos/api/raw/catalog-info.yaml?at=main", true},
		{bitbucketServer, bbs, "feature/x", "https://bitbucket.example.com/projects/PRJ/repos/api/browse/c.yaml?at=refs/heads/feature/x", true},
		{bitbucketServer, bbs, "dev", "https://bitbucket.example.com/projects/PRJ/repos/api/browse/catalog-info.yaml", true},
		{bitbucketServer, bbs, "dev", "https://bitbucket.example.com/projects/PRJ/repos/api/browse/catalog-info.yaml?at=refs/heads/main", false},
		{bitbucketServer, bbs, "v1", "https://bitbucket.example.com/projects/PRJ/repos/api/browse/catalog-info.yaml?at=refs/tags/v1", false},
		{bitbucketServer, bbs, "main", "https://bitbucket.example.com/projects/PRJ/repos/api-x/browse/c.yaml?at=main", false},
		{bitbucketServer, bbs, "main", "https://bitbucket.example.com/projects/PRJ/repos/api/browsex/c.yaml?at=main", false},
		{bitbucketServer, bbs, "main", "https://bitbucket.example.com/projects/PRJ/repos/api/commits/c.yaml?at=main", false},
		{bitbucketServer, "https://bb.example.com/bitbucket/users/jane/repos/api/browse", "main",
			"https://bb.example.com/bitbucket/users/jane/repos/api/browse/c.yaml?at=main", true},
	}
	for _, tt := range tests {
		rp, err := parseRepo(tt.forge, tt.repo)
		if err != nil {
			t.Errorf("parseRepo(%s, %q): %v", tt.forge, tt.repo, err)
			continue
		}
		if got := rp.has(tt.target, tt.branch); got != tt.want {
			t.Errorf("%s %s on %q has %s: got %v; want %v", tt.forge, tt.repo, tt.branch, tt.target, got, tt.want)
		}
	}
}

func TestParseRepo_Invalid(t *testing.T) {
	for _, raw := range []string{"", "github.com/acme/api", "https://github.com", "https://github.com/", "git@github.com:acme/api.git", "://x"} {
		if _, err := parseRepo(GitHub, raw); err == nil {
			t.Errorf("parseRepo(%q): no error", raw)
		}
	}
}
