package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
)

const (
	// unknownKIDInterval is the least time between two reloads caused by
	// tokens naming an unknown key id. Anyone can send such tokens, so
	// without a limit every request could make Greenroom fetch the JWKS.
	unknownKIDInterval = time.Minute
	// loadTimeout bounds one fetch or read of the JWKS.
	loadTimeout = 10 * time.Second
	// maxJWKSBytes bounds the JWKS document; real ones are a few kilobytes.
	maxJWKSBytes = 1 << 20
)

// keyStore holds the signing keys of a JWKS and reloads them on a timer and
// when a token names a key id it does not hold, so that keys rotate without
// a restart. It is the [jwkset.Storage] behind the verifier's keyfunc.
type keyStore struct {
	*jwkset.MemoryJWKSet
	source string // the redacted URL or the file path, for messages
	load   loader
	logger *slog.Logger
	// replaced runs after the held keys are replaced: tokens the verifier
	// trusted may no longer verify.
	replaced func()

	// reloadMu serializes reloads, so that an older document never
	// replaces a newer one.
	reloadMu sync.Mutex

	mu         sync.Mutex
	lastForced time.Time     // start of the last unknown-kid reload
	inflight   chan struct{} // closed when the running unknown-kid reload ends
}

// newKeyStore loads the JWKS named by c and starts refreshing it every
// c.JWKSRefresh until ctx is done. It fails when the first load fails or
// finds no usable key: a verifier without keys would refuse every token,
// and a wrong URL or path is far likelier than an outage at start.
func newKeyStore(ctx context.Context, c Config, client *http.Client, replaced func()) (*keyStore, error) {
	s := &keyStore{MemoryJWKSet: jwkset.NewMemoryStorage(), logger: c.Logger, replaced: replaced}
	if c.JWKSURL != "" {
		s.source = redactURL(c.JWKSURL)
		s.load = fetchJWKS(client, c.JWKSURL, s.source)
	} else {
		s.source = c.JWKSFile
		s.load = readJWKS(c.JWKSFile)
	}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	go s.refreshEvery(ctx, c.JWKSRefresh)
	return s, nil
}

// KeyRead returns the key with the given id, reloading the JWKS first when
// the id is unknown and the last such reload is at least
// [unknownKIDInterval] old. It returns an error wrapping
// [jwkset.ErrKeyNotFound] when the key is still missing.
func (s *keyStore) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	k, err := s.MemoryJWKSet.KeyRead(ctx, kid)
	if !errors.Is(err, jwkset.ErrKeyNotFound) {
		return k, err
	}
	s.reloadForUnknownKID(ctx)
	// Read again even when the rate limit stopped the reload: another
	// request's reload may have finished since the first read.
	return s.MemoryJWKSet.KeyRead(ctx, kid)
}

// reloadForUnknownKID reloads the JWKS unless the rate limit forbids it.
// Requests that arrive while a reload runs wait for it rather than fail,
// since a freshly rotated key is usually used by many requests at once.
func (s *keyStore) reloadForUnknownKID(ctx context.Context) {
	s.mu.Lock()
	if done := s.inflight; done != nil {
		s.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
		}
		return
	}
	if time.Since(s.lastForced) < unknownKIDInterval {
		s.mu.Unlock()
		return
	}
	s.lastForced = time.Now()
	done := make(chan struct{})
	s.inflight = done
	s.mu.Unlock()

	// The reload serves every waiting request, so the one that started it
	// going away must not cancel it.
	if err := s.reload(context.WithoutCancel(ctx)); err != nil {
		s.logger.ErrorContext(ctx, "auth: reload JWKS for an unknown key id",
			"source", s.source, "err", err)
	}
	s.mu.Lock()
	s.inflight = nil
	s.mu.Unlock()
	close(done)
}

// refreshEvery reloads the JWKS every d until ctx is done. A failed reload
// keeps the previous keys: an unreachable provider should not log everyone
// out.
func (s *keyStore) refreshEvery(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.reload(ctx); err != nil && ctx.Err() == nil {
				s.logger.ErrorContext(ctx, "auth: refresh JWKS; keeping the previous keys",
					"source", s.source, "err", err)
			}
		}
	}
}

// reload loads the JWKS and replaces the held keys with its usable ones.
// A document without any usable key is refused and the held keys are kept.
func (s *keyStore) reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	data, err := s.load(ctx)
	if err != nil {
		return err
	}
	keys, skipped, err := parseJWKS(data)
	if err != nil {
		return fmt.Errorf("auth: JWKS %s: %w", s.source, err)
	}
	for _, err := range skipped {
		s.logger.WarnContext(ctx, "auth: skipped a JWKS key", "source", s.source, "err", err)
	}
	if len(keys) == 0 {
		return fmt.Errorf("auth: JWKS %s holds no usable signing key", s.source)
	}
	if err := s.KeyReplaceAll(ctx, keys); err != nil {
		return err
	}
	s.replaced()
	return nil
}

// parseJWKS returns the public signing keys of a JWKS document, and an error
// for each key it skipped because it could not be used. Encryption keys,
// which providers such as Keycloak publish beside their signing keys, are
// left out silently. Private and symmetric key material is never loaded.
func parseJWKS(data []byte) (keys []jwkset.JWK, skipped []error, err error) {
	var set jwkset.JWKSMarshal
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, nil, fmt.Errorf("not a JWKS document: %w", err)
	}
	for _, m := range set.Keys {
		if m.USE == jwkset.UseEnc {
			continue
		}
		k, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			skipped = append(skipped, fmt.Errorf("key %q: %w", m.KID, err))
			continue
		}
		keys = append(keys, k)
	}
	return keys, skipped, nil
}

// loader returns the bytes of a JWKS document.
type loader func(ctx context.Context) ([]byte, error)

// fetchJWKS returns a loader that GETs the JWKS at rawURL; source is the
// URL without credentials, for messages.
func fetchJWKS(client *http.Client, rawURL, source string) loader {
	if client == nil {
		client = http.DefaultClient
	}
	return func(ctx context.Context) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return nil, fmt.Errorf("auth: fetch JWKS %s: %w", source, err)
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("auth: fetch JWKS: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("auth: fetch JWKS %s: %s", source, resp.Status)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
		if err != nil {
			return nil, fmt.Errorf("auth: fetch JWKS %s: %w", source, err)
		}
		if len(data) > maxJWKSBytes {
			return nil, fmt.Errorf("auth: fetch JWKS %s: larger than %d bytes", source, maxJWKSBytes)
		}
		return data, nil
	}
}

// readJWKS returns a loader that reads the JWKS file at path.
func readJWKS(path string) loader {
	return func(context.Context) ([]byte, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("auth: read JWKS: %w", err)
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, maxJWKSBytes+1))
		if err != nil {
			return nil, fmt.Errorf("auth: read JWKS: %w", err)
		}
		if len(data) > maxJWKSBytes {
			return nil, fmt.Errorf("auth: read JWKS %s: larger than %d bytes", path, maxJWKSBytes)
		}
		return data, nil
	}
}
