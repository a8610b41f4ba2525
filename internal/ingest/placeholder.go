package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/greenroomhq/greenroom/internal/catalog"
)

// placeholderSource resolves $text, $json and $yaml placeholders for the
// documents of one file or URL (backstage-spec.md §2.2.5). Reads are
// confined to the registered location's tree: a file location may read
// files below its directory, a URL location URLs below its own.
type placeholderSource struct {
	typ  string // TypeFile or TypeURL
	name string // the path or URL the documents were read from
	tree string // directory or URL prefix reads must stay under
	r    *reader
	// inputs, when set, collects the files read.
	inputs *inputSet
}

type placeholderError struct{ path, code, msg string }

type placeholderErrors []placeholderError

// covers reports whether a problem at path lies under a failed placeholder.
func (pe placeholderErrors) covers(path string) bool {
	for _, e := range pe {
		if path == e.path || strings.HasPrefix(path, e.path+".") {
			return true
		}
	}
	return false
}

// resolve returns v, of size bytes (see [Document.Size]), with every
// placeholder replaced by what it reads, and its new size. A placeholder
// that fails, or would take the entity over max bytes, is left as written,
// and reported.
func (s placeholderSource) resolve(ctx context.Context, v any, size, max int64) (any, int64, placeholderErrors) {
	var errs placeholderErrors
	var walk func(v any, path string) any
	walk = func(v any, path string) any {
		switch v := v.(type) {
		case map[string]any:
			if len(v) == 1 {
				for k, target := range v {
					if k == "$text" || k == "$json" || k == "$yaml" {
						out, n, err := s.read(ctx, k, target, max-size)
						if err == nil && size+n > max {
							err = fmt.Errorf("the entity is %w: with what it reads it takes more than %d bytes", ErrTooLarge, max)
							size = max // read no more for this entity
						}
						if err != nil {
							code := catalog.ErrorCodePlaceholder
							if errors.Is(err, ErrTooLarge) {
								code = catalog.ErrorCodeTooLarge
							}
							errs = append(errs, placeholderError{path: path, code: code, msg: fmt.Sprintf("Placeholder %s at %s could not be resolved: %v", k, path, err)})
							return v
						}
						size += n
						return out
					}
				}
			}
			for k, item := range v {
				v[k] = walk(item, join(path, k))
			}
			return v
		case []any:
			for i, item := range v {
				v[i] = walk(item, join(path, strconv.Itoa(i)))
			}
			return v
		}
		return v
	}
	out := walk(v, "")
	return out, size, errs
}

func join(path, seg string) string {
	if path == "" {
		return seg
	}
	return path + "." + seg
}

// read reads one placeholder's target and returns its value and about its
// size as JSON. Nothing is read once the entity has no room left.
func (s placeholderSource) read(ctx context.Context, kind string, target any, room int64) (any, int64, error) {
	t, ok := target.(string)
	if !ok || t == "" {
		return nil, 0, fmt.Errorf("expected a non-empty string, got %s", typeName(target))
	}
	if room <= 0 {
		return nil, 0, fmt.Errorf("%s not read: the entity is %w already", t, ErrTooLarge)
	}
	data, err := s.fetch(ctx, t)
	if err != nil {
		return nil, 0, err
	}
	switch kind {
	case "$json":
		var out any
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, 0, fmt.Errorf("%s is not valid JSON: %w", t, err)
		}
		return out, int64(len(data)), nil
	case "$yaml":
		docs := ParseYAMLValues(data, room)
		if len(docs) != 1 {
			return nil, 0, fmt.Errorf("%s must hold exactly one YAML document, found %d", t, len(docs))
		}
		if docs[0].Err != nil {
			return nil, 0, fmt.Errorf("%s: %w", t, docs[0].Err)
		}
		return docs[0].Any, docs[0].Size, nil
	}
	return string(data), int64(len(data) + nodeOverhead), nil
}

// fetch reads target, relative to the file or URL of the documents.
func (s placeholderSource) fetch(ctx context.Context, target string) ([]byte, error) {
	abs, isURL := absoluteURL(target)
	switch s.typ {
	case TypeFile:
		if isURL {
			return nil, fmt.Errorf("cannot read %s: a file location may only read files inside its own tree %s", target, s.tree)
		}
		p := target
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(s.name), p)
		}
		if !within(s.tree, p) {
			return nil, fmt.Errorf("cannot read %s: it is outside the location's tree %s", target, s.tree)
		}
		if s.inputs != nil {
			s.inputs.add(p)
		}
		return s.r.readFile(ctx, p)
	case TypeURL:
		u := abs
		if !isURL {
			base, err := url.Parse(s.name)
			if err != nil {
				return nil, err
			}
			ref, err := url.Parse(target)
			if err != nil {
				return nil, fmt.Errorf("%q is not a valid URL reference: %w", target, err)
			}
			u = base.ResolveReference(ref)
		}
		if !strings.HasPrefix(u.String(), s.tree) {
			return nil, fmt.Errorf("cannot read %s: it is outside the location's tree %s", u, s.tree)
		}
		return s.r.readURL(ctx, u.String())
	}
	if s.typ == typeInline {
		return nil, fmt.Errorf("cannot read %s: YAML validated over the API has no files around it", target)
	}
	return nil, fmt.Errorf("unsupported location type %q", s.typ)
}

func absoluteURL(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	return u, true
}

// within reports whether path p lies inside dir, after resolving symbolic
// links, so that a link cannot lead a read out of the tree.
func within(dir, p string) bool {
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
