package techdocs

import (
	"cmp"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// A file is a file of the docs folder, and where the build puts it.
type file struct {
	src  string // slash-separated, relative to the docs folder
	dest string // relative to the site's root
	// url is MkDocs' File.url: "." for the home page's folder URL,
	// "foo/" or "foo.html" for pages, the path for assets.
	url  string
	page bool
	size int64
}

// markdownExts are the extensions MkDocs takes for pages.
var markdownExts = []string{".md", ".markdown", ".mdown", ".mkdn", ".mkd"}

func isMarkdown(name string) bool {
	return slices.Contains(markdownExts, strings.ToLower(path.Ext(name)))
}

// stem is MkDocs' File.name: the file name without its extension, index
// for README.
func stem(src string) string {
	s := strings.TrimSuffix(path.Base(src), path.Ext(src))
	if s == "README" {
		return "index"
	}
	return s
}

func newFile(src string, size int64, dirURLs bool) *file {
	f := &file{src: src, dest: src, url: src, page: isMarkdown(src), size: size}
	if f.page {
		parent, name := path.Dir(src), stem(src)
		if !dirURLs || name == "index" {
			f.dest = path.Join(parent, name+".html")
		} else {
			f.dest = path.Join(parent, name, "index.html")
		}
		f.url = f.dest
		if dir, base := path.Split(f.dest); dirURLs && base == "index.html" {
			f.url = cmp.Or(dir, ".")
		}
	}
	return f
}

// pageURL is Page.url: "" for the home page.
func (f *file) pageURL() string {
	if f.url == "." {
		return ""
	}
	return f.url
}

// relativeURL is MkDocs' get_relative_url: url as seen from the page at
// other.
func relativeURL(url, other string) string {
	if other != "." {
		if dir, base := path.Split(other); strings.Contains(base, ".") {
			other = cmp.Or(strings.TrimSuffix(dir, "/"), ".")
		}
	}
	rel := relPath(url, other)
	if strings.HasSuffix(url, "/") {
		return rel + "/"
	}
	return rel
}

// relPath is Python's posixpath.relpath for relative paths.
func relPath(target, start string) string {
	split := func(p string) []string {
		var out []string
		for _, s := range strings.Split(path.Clean(p), "/") {
			if s != "" && s != "." {
				out = append(out, s)
			}
		}
		return out
	}
	t, s := split(target), split(start)
	i := 0
	for i < len(t) && i < len(s) && t[i] == s[i] {
		i++
	}
	var parts []string
	for range s[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, t[i:]...)
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

// walk lists the docs folder as MkDocs' get_files does: top-down, a
// folder's files before its subfolders, index and README first and the
// rest by name (case-sensitively), subfolders by name; dotfiles and a
// top-level templates folder left out, and what exclude_docs names. A
// README.md beside an index.md is skipped with a warning. Symlinks are
// followed while they stay in the source (fsys refuses the others).
func walk(fsys fs.FS, docs string, cfg *Config, r *reporter) ([]*file, error) {
	var out []*file
	var visit func(dir string) error
	visit = func(dir string) error {
		entries, err := fs.ReadDir(fsys, path.Join(docs, dir))
		if err != nil {
			return err
		}
		var files, dirs []string
		sizes := map[string]int64{}
		names := map[string]bool{}
		for _, e := range entries {
			names[e.Name()] = true
		}
		for _, e := range entries {
			name := e.Name()
			rel := path.Join(dir, name)
			if strings.HasPrefix(name, ".") || (dir == "." && name == "templates" && e.IsDir()) {
				continue
			}
			info, err := fs.Stat(fsys, path.Join(docs, rel))
			if err != nil {
				r.warn(rel, 0, "%s cannot be read (a symlink that leaves the docs source?)", rel)
				continue
			}
			if excluded(cfg.ExcludeDocs, rel, info.IsDir()) {
				continue
			}
			switch {
			case info.IsDir() && e.Type()&fs.ModeSymlink != 0:
				r.warn(rel, 0, "the folder symlink %s is not followed", rel)
			case info.IsDir():
				dirs = append(dirs, name)
			case info.Mode().IsRegular():
				if name == "README.md" && names["index.md"] {
					r.warn(rel, 0, "both index.md and README.md found: README.md is skipped")
					continue
				}
				files = append(files, name)
				sizes[name] = info.Size()
			}
		}
		slices.SortStableFunc(files, func(a, b string) int {
			ia, ib := isIndex(a), isIndex(b)
			switch {
			case ia && !ib:
				return -1
			case ib && !ia:
				return 1
			case ia && ib:
				return 0
			}
			return strings.Compare(a, b)
		})
		slices.Sort(dirs)
		for _, name := range files {
			if len(out) >= maxFiles {
				return fmt.Errorf("the docs folder holds more than %d files", maxFiles)
			}
			out = append(out, newFile(path.Join(dir, name), sizes[name], cfg.UseDirectoryURLs))
		}
		for _, d := range dirs {
			if err := visit(path.Join(dir, d)); err != nil {
				return err
			}
		}
		return nil
	}
	return out, visit(".")
}

func isIndex(name string) bool {
	s := strings.TrimSuffix(name, path.Ext(name))
	return s == "index" || s == "README"
}

// excluded reports whether an exclude_docs pattern (gitignore style)
// names rel: a pattern without a slash matches a name at any depth, one
// with a slash is anchored at the docs folder, a trailing slash matches
// only folders, and a later !pattern takes a path back.
func excluded(patterns []string, rel string, dir bool) bool {
	out := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		if strings.HasSuffix(p, "/") {
			if !dir {
				continue
			}
			p = strings.TrimSuffix(p, "/")
		}
		if !strings.Contains(p, "/") {
			p = "**/" + p
		}
		if ok, _ := doublestar.Match(strings.TrimPrefix(p, "/"), rel); ok {
			out = !neg
		}
	}
	return out
}
