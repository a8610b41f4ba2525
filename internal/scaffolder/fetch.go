package scaffolder

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/greenroomhq/greenroom/internal/nunjucks"
)

// Bounds of what one fetch reads from a template's directory, so that a
// template cannot fill the server's memory or disk.
const (
	maxFetchBytes = 64 << 20
	maxFetchFiles = 10_000
)

// entry is a file, directory or symlink of a fetched tree.
type entry struct {
	path string // slash-separated, relative to the tree's root
	dir  bool
	link string // a symlink's target, relative
	mode fs.FileMode
	data []byte
}

// readTree reads every entry under dir of fsys, dotfiles included, in
// lexical order. A symlink is kept as a link when its target stays in the
// tree; one that leaves it is an error.
func readTree(ctx context.Context, fsys fs.FS, dir string) ([]entry, error) {
	info, err := fs.Stat(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch %s: %w", dir, unwrapPath(err))
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("cannot fetch %s: it is a file, not a directory", dir)
	}
	var out []entry
	var total int64
	err = fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel := strings.TrimPrefix(p, dir+"/")
		if dir == "." {
			rel = p
		}
		if len(out) >= maxFetchFiles {
			return fmt.Errorf("%s holds more than %d files", dir, maxFetchFiles)
		}
		switch {
		case d.IsDir():
			out = append(out, entry{path: rel, dir: true})
		case d.Type()&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(fsys, p)
			if err != nil {
				return err
			}
			if path.IsAbs(target) || !fs.ValidPath(path.Join(path.Dir(rel), target)) {
				return fmt.Errorf("symlink %s points outside the template (%s)", p, target)
			}
			out = append(out, entry{path: rel, link: target})
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			if total += info.Size(); total > maxFetchBytes {
				return fmt.Errorf("%s holds more than %d MiB", dir, maxFetchBytes>>20)
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			out = append(out, entry{path: rel, mode: info.Mode().Perm(), data: data})
		default:
			return fmt.Errorf("%s is not a file, directory or symlink", p)
		}
		return nil
	})
	return out, err
}

// readOne reads one regular file of the template's directory.
func readOne(fsys fs.FS, name string) (entry, error) {
	info, err := fs.Lstat(fsys, name)
	if err != nil {
		return entry{}, fmt.Errorf("cannot fetch %s: %w", name, unwrapPath(err))
	}
	if !info.Mode().IsRegular() {
		return entry{}, fmt.Errorf("cannot fetch %s: it is not a regular file", name)
	}
	if info.Size() > maxFetchBytes {
		return entry{}, fmt.Errorf("cannot fetch %s: it is larger than %d MiB", name, maxFetchBytes>>20)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return entry{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFetchBytes+1))
	return entry{path: path.Base(name), mode: info.Mode().Perm(), data: data}, err
}

// unwrapPath drops the operation and path an fs.PathError adds, which
// name the server's directories.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// place writes an entry to dst in the workspace: a directory made, a
// link made, a file written with its mode. An existing file is kept
// unless replace; kept reports whether it was written.
func place(ws *Workspace, dst string, e entry, replace bool) (written bool, err error) {
	if e.dir {
		p, err := Clean(dst)
		if err != nil {
			return false, err
		}
		return true, ws.root.MkdirAll(p, 0o755)
	}
	exists, err := ws.Exists(dst)
	if err != nil {
		return false, err
	}
	if exists && !replace {
		return false, nil
	}
	if e.link != "" {
		p, _ := Clean(dst)
		if !fs.ValidPath(path.Join(path.Dir(p), e.link)) {
			return false, fmt.Errorf("symlink %s would point outside the workspace (%s)", dst, e.link)
		}
		if dir := path.Dir(p); dir != "." {
			if err := ws.root.MkdirAll(dir, 0o755); err != nil {
				return false, err
			}
		}
		if exists {
			if err := ws.root.Remove(p); err != nil {
				return false, err
			}
		}
		return true, ws.root.Symlink(e.link, p)
	}
	return true, ws.WriteFile(dst, e.data, e.mode|0o600)
}

// isBinary reports whether data is not text: it holds a NUL byte or is
// not UTF-8, as the isbinaryfile package Backstage uses decides, roughly.
func isBinary(data []byte) bool {
	head := data[:min(len(data), 8000)]
	return bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(head[:len(head)-incompleteRune(head)])
}

// incompleteRune is the length of a rune cut at the end of b.
func incompleteRune(b []byte) int {
	for i := 1; i <= min(3, len(b)); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return i
			}
			return 0
		}
	}
	return 0
}

// fetchPlain is fetch:plain: a directory of the template copied as it is.
type fetchPlain struct{}

func (fetchPlain) Info() ActionInfo {
	return ActionInfo{
		ID:          "fetch:plain",
		Description: "Downloads content and places it in the workspace, or optionally in a subdirectory specified by the targetPath input option.",
		Input: object([]string{"url"}, map[string]any{
			"url":        str("Relative path or absolute URL pointing to the directory tree to fetch"),
			"targetPath": str("Target path within the working directory to download the contents to."),
			"token":      str("An optional token to use for authentication when reading the resources."),
		}),
		DryRun: true,
	}
}

func (fetchPlain) Run(ctx context.Context, ac *ActionContext) error {
	var in struct{ URL, TargetPath, Token string }
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	fsys, src, err := ac.Fetch(ctx, in.URL, in.Token)
	if err != nil {
		return err
	}
	entries, err := readTree(ctx, fsys, src)
	if err != nil {
		return err
	}
	ac.Logf("Fetching plain content from %s", in.URL)
	for _, e := range entries {
		if _, err := place(ac.Workspace, path.Join(cmp.Or(in.TargetPath, "."), e.path), e, true); err != nil {
			return err
		}
	}
	return nil
}

// fetchPlainFile is fetch:plain:file: one file of the template copied.
type fetchPlainFile struct{}

func (fetchPlainFile) Info() ActionInfo {
	return ActionInfo{
		ID:          "fetch:plain:file",
		Description: "Downloads single file and places it in the workspace.",
		Input: object([]string{"url", "targetPath"}, map[string]any{
			"url":        str("Relative path or absolute URL pointing to the single file to fetch."),
			"targetPath": str("Target path within the working directory to download the file as."),
			"token":      str("An optional token to use for authentication when reading the resources."),
		}),
		DryRun: true,
	}
}

func (fetchPlainFile) Run(ctx context.Context, ac *ActionContext) error {
	var in struct{ URL, TargetPath, Token string }
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	fsys, src, err := ac.Fetch(ctx, in.URL, in.Token)
	if err != nil {
		return err
	}
	e, err := readOne(fsys, src)
	if err != nil {
		return err
	}
	_, err = place(ac.Workspace, in.TargetPath, e, true)
	return err
}

// templateInput is the input of fetch:template and fetch:template:file.
type templateInput struct {
	URL                   string         `json:"url"`
	Token                 string         `json:"token"`
	TargetPath            string         `json:"targetPath"`
	Values                map[string]any `json:"values"`
	CopyWithoutTemplating []string       `json:"copyWithoutTemplating"`
	CookiecutterCompat    bool           `json:"cookiecutterCompat"`
	TemplateFileExtension any            `json:"templateFileExtension"`
	Replace               bool           `json:"replace"`
	TrimBlocks            bool           `json:"trimBlocks"`
	LstripBlocks          bool           `json:"lstripBlocks"`
}

// templater renders a skeleton's names and contents.
type templater struct {
	opts *nunjucks.Options
	data map[string]any
}

func newTemplater(in templateInput) *templater {
	opts := *templateOptions
	opts.TrimBlocks, opts.LstripBlocks = in.TrimBlocks, in.LstripBlocks
	key := "values"
	if in.CookiecutterCompat {
		opts.Syntax, opts.Cookiecutter, key = nunjucks.NunjucksSyntax, true, "cookiecutter"
	}
	values := in.Values
	if values == nil {
		values = map[string]any{}
	}
	return &templater{opts: &opts, data: map[string]any{key: values}}
}

// render renders one text: a name or a file's contents. Unlike a step's
// input, an error here fails the step, naming what failed.
func (t *templater) render(what, src string) (string, error) {
	tpl, err := nunjucks.Parse(src, t.opts)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	out, err := tpl.Render(t.data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// skipsPath reports a rendered path Backstage skips, which is how a
// template makes a file conditional (${{ 'x' if cond }}): empty, absolute,
// or with an empty segment.
func skipsPath(p string) bool {
	return p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "//")
}

// fetchTemplate is fetch:template: a skeleton of the template rendered
// into the workspace.
type fetchTemplate struct{}

var templateInputProps = map[string]any{
	"url":                   str("Relative path or absolute URL pointing to the directory tree to fetch"),
	"targetPath":            str("Target path within the working directory to download the contents to. Defaults to the working directory root."),
	"values":                map[string]any{"type": "object", "description": "Values to pass on to the templating engine"},
	"copyWithoutTemplating": map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "An array of glob patterns. Contents of matched files or directories are copied without being processed, but paths are subject to rendering."},
	"cookiecutterCompat":    map[string]any{"type": "boolean", "description": "Enable features to maximise compatibility with templates built for fetch:cookiecutter"},
	"templateFileExtension": map[string]any{"type": []any{"string", "boolean"}, "description": "If set, only files with the given extension will be templated. If set to `true`, the default extension `.njk` is used."},
	"replace":               map[string]any{"type": "boolean", "description": "If set, replace files in targetPath instead of skipping existing ones."},
	"trimBlocks":            map[string]any{"type": "boolean", "description": "If set, the first newline after a block is removed (block, not variable tag!)."},
	"lstripBlocks":          map[string]any{"type": "boolean", "description": "If set, leading spaces and tabs are stripped from the start of a line to a block."},
	"token":                 str("An optional token to use for authentication when reading the resources."),
}

func (fetchTemplate) Info() ActionInfo {
	return ActionInfo{
		ID:          "fetch:template",
		Description: "Downloads a skeleton, templates variables into file and directory names and content, and places the result in the workspace, or optionally in a subdirectory specified by the targetPath input option.",
		Input:       object([]string{"url"}, templateInputProps),
		DryRun:      true,
	}
}

func (fetchTemplate) Run(ctx context.Context, ac *ActionContext) error {
	var in templateInput
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	ext := ""
	switch e := in.TemplateFileExtension.(type) {
	case bool:
		if e {
			ext = ".njk"
		}
	case string:
		ext = e
		if ext != "" && !strings.HasPrefix(ext, ".") {
			ext = "." + ext
		}
	}
	if ext != "" && (len(in.CopyWithoutTemplating) > 0 || in.CookiecutterCompat) {
		return errors.New("input extension incompatible with copyWithoutTemplating and cookiecutterCompat")
	}
	fsys, src, err := ac.Fetch(ctx, in.URL, in.Token)
	if err != nil {
		return err
	}
	entries, err := readTree(ctx, fsys, src)
	if err != nil {
		return err
	}
	for _, pattern := range in.CopyWithoutTemplating {
		if !doublestar.ValidatePattern(strings.TrimPrefix(pattern, "./")) {
			return fmt.Errorf("copyWithoutTemplating: %q is not a glob pattern", pattern)
		}
	}
	t := newTemplater(in)
	ac.Logf("Fetching template content from %s", in.URL)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		name, renderContents := e.path, true
		if ext != "" {
			renderContents = strings.HasSuffix(name, ext)
			name = strings.TrimSuffix(name, ext)
		} else if copiedAsIs(in.CopyWithoutTemplating, e.path) {
			renderContents = false
		}
		name, err := t.render("the name "+e.path, name)
		if err != nil {
			return err
		}
		if skipsPath(name) {
			continue
		}
		dst := path.Join(cmp.Or(in.TargetPath, "."), name)
		if _, err := Clean(dst); err != nil {
			return fmt.Errorf("%s renders to %s, which leaves the workspace", e.path, name)
		}
		if renderContents && !e.dir && e.link == "" && !isBinary(e.data) {
			out, err := t.render(e.path, string(e.data))
			if err != nil {
				return err
			}
			e.data = []byte(out)
		} else if !renderContents && ext == "" && !e.dir {
			ac.Logf("Copying file %s without processing.", e.path)
		}
		if _, err := place(ac.Workspace, dst, e, in.Replace); err != nil {
			return err
		}
	}
	return nil
}

// copiedAsIs reports whether copyWithoutTemplating names p, or a directory
// that holds it.
func copiedAsIs(patterns []string, p string) bool {
	for _, pattern := range patterns {
		pattern = strings.TrimSuffix(strings.TrimPrefix(pattern, "./"), "/")
		for q := p; q != "."; q = path.Dir(q) {
			if ok, _ := doublestar.Match(pattern, q); ok {
				return true
			}
		}
	}
	return false
}

// fetchTemplateFile is fetch:template:file: one file of the template,
// rendered.
type fetchTemplateFile struct{}

func (fetchTemplateFile) Info() ActionInfo {
	props := map[string]any{}
	for _, k := range []string{"url", "values", "cookiecutterCompat", "replace", "trimBlocks", "lstripBlocks", "token"} {
		props[k] = templateInputProps[k]
	}
	props["targetPath"] = str("Target path within the working directory to download the file as.")
	return ActionInfo{
		ID:          "fetch:template:file",
		Description: "Downloads single file and places it in the workspace.",
		Input:       object([]string{"url", "targetPath"}, props),
		DryRun:      true,
	}
}

func (fetchTemplateFile) Run(ctx context.Context, ac *ActionContext) error {
	var in templateInput
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	fsys, src, err := ac.Fetch(ctx, in.URL, in.Token)
	if err != nil {
		return err
	}
	e, err := readOne(fsys, src)
	if err != nil {
		return err
	}
	if !isBinary(e.data) {
		out, err := newTemplater(in).render(src, string(e.data))
		if err != nil {
			return err
		}
		e.data = []byte(out)
	}
	written, err := place(ac.Workspace, in.TargetPath, e, in.Replace)
	if err == nil && !written {
		ac.Logf("Skipping %s: it exists and replace is not set", in.TargetPath)
	}
	return err
}

// object and str write the JSON Schemas of actions' inputs.
func object(required []string, props map[string]any) map[string]any {
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		req := make([]any, len(required))
		for i, r := range required {
			req[i] = r
		}
		s["required"] = req
	}
	return s
}

func str(description string) map[string]any {
	return map[string]any{"type": "string", "description": description}
}
