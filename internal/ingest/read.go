package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/greenroomhq/greenroom/internal/forge"
)

// Location types Greenroom reads.
const (
	TypeFile = "file"
	TypeURL  = "url"
	// typeInline is YAML given over the API: it has no files around it.
	typeInline = "inline"
)

// DefaultMaxFileSize bounds every file or URL body that ingestion reads.
const DefaultMaxFileSize = 4 << 20

// ErrTooLarge is returned for a file or body over the size limit.
var ErrTooLarge = errors.New("over the size limit")

// ErrNotFound is returned when a target matches nothing.
var ErrNotFound = errors.New("not found")

// errOffline is returned for a URL that offline validation does not fetch.
var errOffline = errors.New("not read: validation works offline")

// reader reads the targets of locations, files from disk and URLs over
// HTTP, keeping each URL's ETag and body so that an unchanged document is
// not downloaded again.
type reader struct {
	client  *http.Client
	maxSize int64
	offline bool // refuse to fetch URLs, for offline validation
	// fileRoots, when set, are the only directories files may be read from.
	fileRoots []string
	hosts     []string // allowed host patterns; none allows every host
	// forges read the files of forges' web URLs through their APIs.
	forges []forge.Integration

	mu    sync.Mutex
	cache map[string]cachedBody
}

type cachedBody struct {
	etag string
	body []byte
}

func newReader(client *http.Client, maxSize int64) *reader {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	return &reader{client: client, maxSize: maxSize, cache: map[string]cachedBody{}}
}

// guard makes every request of the reader's client, redirects included,
// go to allowed hosts only and carry the credentials configured for its
// host.
func (r *reader) guard(hosts []string, auth []URLAuth) {
	if len(hosts) == 0 && len(auth) == 0 {
		return
	}
	c := *r.client
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &guardedTransport{base: base, hosts: hosts, auth: auth}
	r.client, r.hosts = &c, hosts
}

func (r *reader) hostAllowed(host string) bool { return HostAllowed(r.hosts, host) }

// allowedFile returns the path a file is read through: p with its symbolic
// links resolved when file roots are set, so that what is checked is what
// is opened. A path outside every root is refused.
func (r *reader) allowedFile(p string) (string, error) {
	if len(r.fileRoots) == 0 {
		return p, nil
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s: %w", p, ErrNotFound)
		}
		return "", err
	}
	for _, root := range r.fileRoots {
		if within(root, real) {
			return real, nil
		}
	}
	return "", fmt.Errorf("%s is outside catalog.fileRoots: %w", p, errForbidden)
}

// glob returns the files a file target names, sorted. A target without
// glob characters names itself.
func (r *reader) glob(target string) ([]string, error) {
	if !hasMeta(target) {
		st, err := os.Stat(target)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("%s: %w", target, ErrNotFound)
			}
			return nil, err
		}
		if st.IsDir() {
			return nil, fmt.Errorf("%s is a directory; name a file or a glob such as %s", target, filepath.Join(target, "**", "catalog-info.yaml"))
		}
		return []string{target}, nil
	}
	base, pattern := doublestar.SplitPattern(filepath.ToSlash(target))
	matches, err := doublestar.Glob(os.DirFS(base), pattern, doublestar.WithFilesOnly())
	if err != nil {
		return nil, fmt.Errorf("glob %s: %w", target, err)
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("%s matched no files: %w", target, ErrNotFound)
	}
	out := make([]string, len(matches))
	for i, m := range matches {
		out[i] = filepath.Join(base, filepath.FromSlash(m))
	}
	sort.Strings(out)
	return out, nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, "*?[{") }

// globBase is the directory a file target's tree starts at: the part of a
// glob before its first wildcard, or a file's directory.
func globBase(target string) string {
	if hasMeta(target) {
		base, _ := doublestar.SplitPattern(filepath.ToSlash(target))
		return filepath.FromSlash(base)
	}
	return filepath.Dir(target)
}

// errNotRegular is returned for a file target that is not a regular file:
// a FIFO, a device or a socket could block a read for ever or never end.
var errNotRegular = errors.New("not a regular file")

// fileReadTimeout bounds one file read, so that a file on a hung network
// or FUSE mount cannot hold a refresh, and the locations after it, for ever.
const fileReadTimeout = 30 * time.Second

// readFile reads a regular file of at most maxSize bytes. The file is
// checked before it is opened, since opening a FIFO blocks until a writer
// comes, and opened non-blocking and checked again, in case it was
// replaced in between. The read gives up when ctx is done or after
// fileReadTimeout. Under file roots, the path is resolved first and what
// it resolves to is read.
func (r *reader) readFile(ctx context.Context, path string) ([]byte, error) {
	real, err := r.allowedFile(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(real)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
		}
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	f, err := os.OpenFile(real, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
		}
		return nil, err
	}
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, err
		}
		return nil, notRegular(path, st.Mode())
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1) // the reader never waits for a receiver
	go func() {
		defer f.Close()
		b, err := readLimited(f, r.maxSize, path)
		done <- result{b, err}
	}()
	timer := time.NewTimer(fileReadTimeout)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.b, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return nil, fmt.Errorf("read %s: gave up after %s", path, fileReadTimeout)
	}
}

func notRegular(path string, mode fs.FileMode) error {
	what := "a special file"
	switch {
	case mode&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		what = "a socket"
	case mode&fs.ModeDevice != 0:
		what = "a device"
	case mode.IsDir():
		what = "a directory"
	}
	return fmt.Errorf("%s is %s, %w: only regular files are read", path, what, errNotRegular)
}

// readURL fetches u, sending the ETag of the last response for it and
// returning the cached body when the server answers 304 Not Modified.
func (r *reader) readURL(ctx context.Context, u string) ([]byte, error) {
	if r.offline {
		return nil, fmt.Errorf("%s %w", u, errOffline)
	}
	fetch, header := u, http.Header{}
	if parsed, err := url.Parse(u); err == nil {
		if raw, h, ok := forge.RawRequest(r.forges, parsed); ok {
			fetch, header = raw, h
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fetch, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	r.mu.Lock()
	cached, haveCache := r.cache[u]
	r.mu.Unlock()
	if haveCache && cached.etag != "" {
		req.Header.Set("If-None-Match", cached.etag)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("could not read %s: %w", u, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && haveCache:
		return cached.body, nil
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%s: %w (HTTP 404)", u, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("could not read %s: HTTP %s", u, resp.Status)
	}
	body, err := readLimited(resp.Body, r.maxSize, u)
	if err != nil {
		return nil, err
	}
	if etag := resp.Header.Get("ETag"); etag != "" {
		r.mu.Lock()
		r.cache[u] = cachedBody{etag: etag, body: body}
		r.mu.Unlock()
	}
	return body, nil
}

func readLimited(rd io.Reader, max int64, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rd, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is %w of %d bytes", name, ErrTooLarge, max)
	}
	return b, nil
}
