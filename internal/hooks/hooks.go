package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Locations lists the registered locations: internal/store, or
// internal/access's guard when [Options.Principal] must be allowed to.
type Locations interface {
	Locations(ctx context.Context) ([]catalog.Location, error)
}

// Refresher asks for the refresh of a location through its job, without
// waiting for it: internal/jobs' RefreshSoon. ENOTFOUND (the location was
// deleted since it was listed) skips the location; any other error ends
// the request.
type Refresher interface {
	RefreshSoon(ctx context.Context, locationID string) error
}

// The providers, as [Options.Secrets] and the path name them.
const (
	GitHub    = "github"
	GitLab    = "gitlab"
	Gitea     = "gitea" // and Forgejo
	Bitbucket = "bitbucket"
)

// Prefix is the path the webhooks are served under: Prefix + provider.
const Prefix = "/hooks/refresh/"

// DefaultMaxBody is [Options.MaxBody] when it is not set: a push of
// GitHub's 20 listed commits, each with its changed files, fits many times.
const DefaultMaxBody = 1 << 20

// Options configures the handler.
type Options struct {
	// Secrets holds each provider's webhook secret (the GitLab token) by
	// provider name. A provider without one, or with "", is not served:
	// 404, as for an unknown name, since a delivery there could not be
	// verified and its sender should be told the URL is wrong rather than
	// that its signature is.
	Secrets   map[string]string
	Locations Locations
	Refresher Refresher
	// Principal is who the locations are listed and their refreshes asked
	// for as, since a webhook carries no token; the refresh jobs then run
	// as it. Nil leaves the request's principal (anonymous, unless a
	// middleware set one).
	Principal *portal.Principal
	// MaxBody bounds a request's body, which is held whole to be verified:
	// [DefaultMaxBody] when zero. A larger one is refused with 413.
	MaxBody int64
	Logger  *slog.Logger // nil logs nothing
}

// New returns the handler of POST [Prefix]{provider}; it answers 404 to
// any other path, so it can be mounted at [Prefix] or at the root.
func New(opts Options) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Secrets = maps.Clone(opts.Secrets) // the caller's map may change
	h := &handler{opts: opts, log: opts.Logger.With("component", "hooks")}
	mux := http.NewServeMux()
	mux.HandleFunc(Prefix+"{provider}", h.refresh)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, portal.Errorf(portal.ENOTFOUND, "no webhook at %s", r.URL.Path))
	})
	return mux
}

type handler struct {
	opts Options
	log  *slog.Logger
}

// result is the body of a 2xx answer.
type result struct {
	Refreshed []string `json:"refreshed"`
	Ignored   string   `json:"ignored,omitempty"`
}

func (h *handler) refresh(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{"webhooks are POST requests"})
		return
	}
	name := r.PathValue("provider")
	p, ok := providers[name]
	secret := h.opts.Secrets[name]
	if !ok || secret == "" {
		h.fail(w, r, portal.Errorf(portal.ENOTFOUND, "no webhook is configured for provider %q", name))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBody))
	if err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge,
				errorBody{fmt.Sprintf("the body is larger than the %d bytes a webhook may send", h.opts.MaxBody)})
			return
		}
		h.fail(w, r, portal.Errorf(portal.EINVALID, "the body could not be read"))
		return
	}
	if reason := p.verify(r.Header, body, secret); reason != "" {
		h.log.WarnContext(ctx, "webhook refused", "provider", name, "remote_addr", r.RemoteAddr,
			"reason", reason, "request_id", portal.RequestIDFromContext(ctx))
		h.fail(w, r, portal.Errorf(portal.EUNAUTHENTICATED, "%s", reason))
		return
	}
	ev, err := p.parse(r.Header, body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ev.ignored != "" {
		h.log.DebugContext(ctx, "webhook ignored", "provider", name, "reason", ev.ignored)
		writeJSON(w, http.StatusOK, result{Refreshed: []string{}, Ignored: ev.ignored})
		return
	}
	if h.opts.Principal != nil {
		ctx = portal.NewContextWithPrincipal(ctx, h.opts.Principal)
	}
	ids, err := h.refreshPush(ctx, ev)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.InfoContext(ctx, "push webhook", "provider", name, "repository", ev.repo.url,
		"branches", ev.branches, "refreshed", len(ids), "request_id", portal.RequestIDFromContext(ctx))
	writeJSON(w, http.StatusAccepted, result{Refreshed: ids})
}

// refreshPush asks for a refresh of each url location of the push's
// repository and branches, and returns their ids.
func (h *handler) refreshPush(ctx context.Context, ev push) ([]string, error) {
	locs, err := h.opts.Locations.Locations(ctx)
	if err != nil {
		return nil, fmt.Errorf("hooks: list locations: %w", err)
	}
	ids := []string{}
	for _, loc := range locs {
		if loc.Type != "url" || !ev.repo.hasAny(loc.Target, ev.branches) {
			continue
		}
		switch err := h.opts.Refresher.RefreshSoon(ctx, loc.ID); {
		case err == nil:
			ids = append(ids, loc.ID)
		case portal.ErrorCode(err) == portal.ENOTFOUND:
		default:
			return ids, fmt.Errorf("hooks: refresh location %s: %w", loc.ID, err)
		}
	}
	return ids, nil
}

type errorBody struct {
	Error string `json:"error"`
}

// fail answers with err's status and user-safe message; an internal error
// is logged, and the sender is told no more than that.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := portal.HTTPStatus(portal.ErrorCode(err))
	if status == http.StatusInternalServerError {
		h.log.ErrorContext(r.Context(), "internal error", "path", r.URL.Path,
			"request_id", portal.RequestIDFromContext(r.Context()), "err", err)
	}
	writeJSON(w, status, errorBody{portal.ErrorMessage(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the sender is gone; nothing to tell it
}
