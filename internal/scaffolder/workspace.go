package scaffolder

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// A Workspace is the directory a task's steps work in, removed when the
// task ends. Every file operation goes through an os.Root, which refuses
// any name, .. or symlink that leads outside it; names are also checked
// up front (see Clean) so that a step fails with the name it was given.
type Workspace struct {
	dir  string
	root *os.Root
}

// NewWorkspace makes an empty workspace in parent (the system's temporary
// directory when empty).
func NewWorkspace(parent string) (*Workspace, error) {
	dir, err := os.MkdirTemp(parent, "greenroom-task-")
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Workspace{dir: dir, root: root}, nil
}

// Dir is the workspace's directory on disk.
func (w *Workspace) Dir() string { return w.dir }

// Root gives confined access to the workspace.
func (w *Workspace) Root() *os.Root { return w.root }

// Remove closes the workspace and deletes it with everything in it.
func (w *Workspace) Remove() error {
	return errors.Join(w.root.Close(), os.RemoveAll(w.dir))
}

// Clean returns name, a slash-separated path relative to the workspace
// (a leading ./ or / is allowed, as Backstage's resolveSafeChildPath
// allows them), cleaned; "." for the workspace itself. A path that leaves
// the workspace is an error.
func Clean(name string) (string, error) {
	if strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("path %q holds a NUL byte", name)
	}
	p := path.Clean("/" + filepath.ToSlash(name))[1:]
	if p == "" {
		return ".", nil
	}
	// Cleaning under / drops any .. that would climb above the root; a
	// path that names one is refused rather than quietly moved inside.
	for _, part := range strings.Split(filepath.ToSlash(name), "/") {
		if part == ".." {
			return "", fmt.Errorf("path %q leaves the workspace", name)
		}
	}
	return p, nil
}

// WriteFile writes a file, making its directories.
func (w *Workspace) WriteFile(name string, data []byte, mode fs.FileMode) error {
	p, err := Clean(name)
	if err != nil {
		return err
	}
	if dir := path.Dir(p); dir != "." {
		if err := w.root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return w.root.WriteFile(p, data, mode.Perm())
}

// Exists reports whether name exists (a symlink counts, followed or not).
func (w *Workspace) Exists(name string) (bool, error) {
	p, err := Clean(name)
	if err != nil {
		return false, err
	}
	_, err = w.root.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// A File is a file of a workspace as a run's result lists it.
type File struct {
	Path       string // slash-separated, relative to the workspace
	Data       []byte
	Executable bool
	Symlink    string // the link's target when the file is a symlink
}

// Files lists every file in the workspace, in path order, up to limit
// bytes of content in all.
func (w *Workspace) Files(limit int64) ([]File, error) {
	var out []File
	var total int64
	err := fs.WalkDir(w.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := w.root.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, File{Path: p, Symlink: target})
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if total += info.Size(); total > limit {
			return fmt.Errorf("the workspace holds more than %d bytes", limit)
		}
		data, err := w.root.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, File{Path: p, Data: data, Executable: info.Mode()&0o111 != 0})
		return nil
	})
	return out, err
}
