// Package hooks refreshes URL locations as soon as their repository is
// pushed to, rather than at the next refresh interval: a forge's push
// webhook, POST /hooks/refresh/{provider}, asks for a refresh of every
// registered "url" location whose target is a file (or directory) of the
// pushed repository on a pushed branch.
//
// Each provider has its own path, its own secret ([Options.Secrets]) and
// its own way of proving a delivery came from it, checked in constant time
// before the body is parsed (an HMAC over the raw body; GitLab's token
// proves the sender, not the body, which only TLS keeps whole):
//
//   - github: X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>;
//     X-GitHub-Event: push (ping and other events refresh nothing).
//   - gitlab: X-Gitlab-Token equal to the secret; X-Gitlab-Event: Push Hook,
//     or System Hook carrying a push (Tag Push Hook refreshes nothing).
//   - gitea (Forgejo too): X-Gitea-Signature or X-Forgejo-Signature: <hex
//     HMAC-SHA256 of the body>, the Forgejo one checked when present;
//     X-Gitea-Event or X-Forgejo-Event: push.
//   - bitbucket: X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>;
//     X-Event-Key: repo:push (Bitbucket Cloud) or repo:refs_changed
//     (Bitbucket Data Center); diagnostics:ping refreshes nothing.
//
// The body is JSON, or for GitHub and Gitea a form whose payload parameter
// is. A push names its repository by its web address and its branches by ref;
// tags refresh nothing. A deleted branch is refreshed like an updated one:
// its locations' refreshes fail at once and record why on the location,
// rather than at the next interval (a failed refresh orphans nothing). How
// a location's target is matched to a repository and branch is in
// match.go: the file URL shapes of each forge, compared without regard to
// the case of host and path, the branch exactly.
//
// A refresh is asked for through the location's job ([Refresher], what
// internal/jobs' RefreshSoon does), not waited for: the webhook is answered
// within the provider's timeout, and whichever process takes the job runs it.
// Polling stays: a push whose webhook is lost is read at the next interval.
//
// Answers, each with a JSON body: 202 {"refreshed": [location ids]} for a
// push (the list may be empty); 200 {"refreshed": [], "ignored": why} for
// a verified event that is not a branch push; 400 for a verified delivery
// whose event header or JSON is malformed; 401 for a missing or wrong
// signature or token (logged with the provider, remote address and reason,
// never the secret or the signature); 404 for an unknown provider or one
// without a secret; 405 for a method other than POST; 413 for a body over
// [Options.MaxBody]; 500 or 503 when the locations cannot be listed or a
// refresh cannot be asked for. Errors are {"error": message}.
//
// A webhook carries no token, so the handler runs as [Options.Principal].
// It imports internal/catalog and internal/portal.
package hooks
