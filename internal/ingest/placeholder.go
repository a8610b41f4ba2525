package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
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
}

type placeholderError struct{ path, msg string }

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

// resolve returns v with every placeholder replaced by what it reads. A
// placeholder that fails is left as written, and reported.
func (s placeholderSource) resolve(ctx context.Context, v any) (any, placeholderErrors) {
	var errs placeholderErrors
	var walk func(v any, path string) any
	walk = func(v any, path string) any {
		switch v := v.(type) {
		case map[string]any:
			if len(v) == 1 {
				for k, target := range v {
					if k == "$text" || k == "$json" || k == "$yaml" {
						out, err := s.read(ctx, k, target)
						if err != nil {
							errs = append(errs, placeholderError{path: path, msg: fmt.Sprintf("Placeholder %s at %s could not be resolved: %v", k, path, err)})
							return v
						}
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
	return walk(v, ""), errs
}

func join(path, seg string) string {
	if path == "" {
		return seg
	}
	return path + "." + seg
}

func (s placeholderSource) read(ctx context.Context, kind string, target any) (any, error) {
	t, ok := target.(string)
	if !ok || t == "" {
		return nil, fmt.Errorf("expected a non-empty string, got %s", typeName(target))
	}
	data, err := s.fetch(ctx, t)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "$json":
		var out any
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, fmt.Errorf("%s is not valid JSON: %w", t, err)
		}
		return out, nil
	case "$yaml":
		docs := ParseYAMLValues(data)
		if len(docs) != 1 {
			return nil, fmt.Errorf("%s must hold exactly one YAML document, found %d", t, len(docs))
		}
		if docs[0].Err != nil {
			return nil, fmt.Errorf("%s: %w", t, docs[0].Err)
		}
		return docs[0].Any, nil
	}
	return string(data), nil
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
