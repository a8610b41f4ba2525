// Package gitfs reads a folder of a git repository at a branch or tag as
// an io/fs file system: the repository is cloned over smart HTTP, one
// commit deep, into memory, and files are read from its objects. It is
// how software templates fetch skeletons that live on a forge (a template
// registered by URL, or a fetch action given a URL), as Backstage's
// UrlReaders read trees: any git host works, with the token git itself
// takes, and nothing is written to disk.
package gitfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

// MaxBytes bounds the objects one clone may hold in memory: a commit of
// a repository of templates is a few MiB; one past this is refused
// rather than read whole.
const MaxBytes = 128 << 20

// ErrTooLarge is returned by Clone for a commit past MaxBytes.
var ErrTooLarge = fmt.Errorf("the repository's commit holds more than %d MiB", MaxBytes>>20)

// Clone reads dir ("" for the root) of the repository at remote, at ref:
// a branch, a tag or HEAD. auth may be nil.
func Clone(ctx context.Context, remote string, auth transport.AuthMethod, ref, dir string) (fs.FS, error) {
	var names []plumbing.ReferenceName
	if ref == "HEAD" {
		names = []plumbing.ReferenceName{plumbing.HEAD}
	} else {
		names = []plumbing.ReferenceName{plumbing.NewBranchReferenceName(ref), plumbing.NewTagReferenceName(ref)}
	}
	var repo *git.Repository
	var err error
	for _, name := range names {
		st := &bounded{Storage: memory.NewStorage()}
		repo, err = git.CloneContext(ctx, st, nil, &git.CloneOptions{
			URL: remote, Auth: auth, ReferenceName: name, SingleBranch: true, Depth: 1, Tags: git.NoTags,
		})
		if !isNoRef(err) {
			break
		}
	}
	if isNoRef(err) {
		return nil, fmt.Errorf("%s has no branch or tag %s", remote, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot clone %s: %w", remote, err)
	}
	head, err := repo.Head()
	if err != nil {
		return nil, err
	}
	commit, err := repo.CommitObject(head.Hash())
	if err != nil {
		return nil, err
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, err
	}
	if dir = strings.Trim(dir, "/"); dir != "" {
		if tree, err = tree.Tree(dir); err != nil {
			return nil, fmt.Errorf("%s has no folder %s at %s", remote, dir, ref)
		}
	}
	return &FS{tree: tree, when: commit.Committer.When}, nil
}

func isNoRef(err error) bool {
	var refspec git.NoMatchingRefSpecError
	return errors.Is(err, plumbing.ErrReferenceNotFound) || errors.As(err, &refspec)
}

// bounded is memory storage that refuses objects past MaxBytes in all, so
// that a clone stops reading there.
type bounded struct {
	*memory.Storage
	n int64
}

func (b *bounded) SetEncodedObject(o plumbing.EncodedObject) (plumbing.Hash, error) {
	if b.n += o.Size(); b.n > MaxBytes {
		return plumbing.ZeroHash, ErrTooLarge
	}
	return b.Storage.SetEncodedObject(o)
}

// FS is a tree of a commit. It implements fs.ReadDirFS, fs.ReadFileFS,
// fs.StatFS and fs.ReadLinkFS; a symlink is followed while it stays in
// the tree, and a submodule is an irregular file.
type FS struct {
	tree *object.Tree
	when time.Time // the commit's time, every file's
}

// lookup returns the entry of name, or nil for the root.
func (f *FS) lookup(op, name string) (*object.TreeEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return nil, nil
	}
	e, err := f.tree.FindEntry(name)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return e, nil
}

func (f *FS) info(name string, e *object.TreeEntry) (fileInfo, error) {
	fi := fileInfo{name: path.Base(name), when: f.when}
	if e == nil {
		fi.mode = fs.ModeDir | 0o755
		return fi, nil
	}
	switch e.Mode {
	case filemode.Dir:
		fi.mode = fs.ModeDir | 0o755
		return fi, nil
	case filemode.Regular, filemode.Deprecated:
		fi.mode = 0o644
	case filemode.Executable:
		fi.mode = 0o755
	case filemode.Symlink:
		fi.mode = fs.ModeSymlink | 0o777
	default: // a submodule
		fi.mode = fs.ModeIrregular
		return fi, nil
	}
	size, err := f.tree.Size(name)
	fi.size = size
	return fi, err
}

// Lstat implements fs.ReadLinkFS.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	e, err := f.lookup("lstat", name)
	if err != nil {
		return nil, err
	}
	return f.info(name, e)
}

// Stat implements fs.StatFS, following a symlink that stays in the tree.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	name, err := f.follow("stat", name)
	if err != nil {
		return nil, err
	}
	return f.Lstat(name)
}

// follow resolves name while it is a symlink whose target stays in the
// tree (a link through a linked folder is not followed).
func (f *FS) follow(op, name string) (string, error) {
	for range 40 {
		e, err := f.lookup(op, name)
		if err != nil || e == nil || e.Mode != filemode.Symlink {
			return name, err
		}
		target, err := f.contents(e)
		if err != nil {
			return "", err
		}
		next := path.Join(path.Dir(name), string(target))
		if path.IsAbs(string(target)) || !fs.ValidPath(next) {
			return "", &fs.PathError{Op: op, Path: name, Err: errLeaves}
		}
		name = next
	}
	return "", &fs.PathError{Op: op, Path: name, Err: errors.New("too many levels of symbolic links")}
}

var errLeaves = errors.New("is a symbolic link that leaves the tree")

// ReadLink implements fs.ReadLinkFS.
func (f *FS) ReadLink(name string) (string, error) {
	e, err := f.lookup("readlink", name)
	if err != nil {
		return "", err
	}
	if e == nil || e.Mode != filemode.Symlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	data, err := f.contents(e)
	return string(data), err
}

// ReadFile implements fs.ReadFileFS.
func (f *FS) ReadFile(name string) ([]byte, error) {
	fi, err := f.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	name, _ = f.follow("read", name)
	e, _ := f.lookup("read", name)
	return f.contents(e)
}

func (f *FS) contents(e *object.TreeEntry) ([]byte, error) {
	file, err := f.tree.TreeEntryFile(e)
	if err != nil {
		return nil, err
	}
	r, err := file.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// ReadDir implements fs.ReadDirFS: a tree's entries are in git's order,
// which is by name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	fi, err := f.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	tree := f.tree
	if name, err = f.follow("readdir", name); err != nil {
		return nil, err
	}
	if name != "." {
		if tree, err = f.tree.Tree(name); err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
		}
	}
	out := make([]fs.DirEntry, 0, len(tree.Entries))
	for i := range tree.Entries {
		p := path.Join(name, tree.Entries[i].Name)
		fi, err := f.info(p, &tree.Entries[i])
		if err != nil {
			return nil, err
		}
		out = append(out, fs.FileInfoToDirEntry(fi))
	}
	return out, nil
}

// Open implements fs.FS.
func (f *FS) Open(name string) (fs.File, error) {
	fi, err := f.Stat(name)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		entries, err := f.ReadDir(name)
		return &dir{fileInfo: fi.(fileInfo), entries: entries}, err
	}
	data, err := f.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &file{fileInfo: fi.(fileInfo), r: bytes.NewReader(data)}, nil
}

type fileInfo struct {
	name string
	mode fs.FileMode
	size int64
	when time.Time
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return i.when }
func (i fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }

type file struct {
	fileInfo
	r *bytes.Reader
}

func (f *file) Stat() (fs.FileInfo, error) { return f.fileInfo, nil }
func (f *file) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *file) Close() error               { return nil }

type dir struct {
	fileInfo
	entries []fs.DirEntry
}

func (d *dir) Stat() (fs.FileInfo, error) { return d.fileInfo, nil }
func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *dir) Close() error { return nil }

// ReadDir implements fs.ReadDirFile.
func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}

// Head returns the commit a branch or tag (or HEAD) of the repository at
// remote points to, asking the server for its refs only: how a caller
// tells a repository it read before is unchanged without cloning it.
func Head(ctx context.Context, remote string, auth transport.AuthMethod, ref string) (string, error) {
	r := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{remote}})
	refs, err := r.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil {
		return "", fmt.Errorf("cannot list the refs of %s: %w", remote, err)
	}
	want := []plumbing.ReferenceName{plumbing.NewBranchReferenceName(ref), plumbing.NewTagReferenceName(ref)}
	if ref == "HEAD" {
		want = []plumbing.ReferenceName{plumbing.HEAD}
	}
	byName := map[plumbing.ReferenceName]*plumbing.Reference{}
	for _, r := range refs {
		byName[r.Name()] = r
	}
	for _, name := range want {
		r := byName[name]
		for range 5 { // HEAD is symbolic
			if r == nil || r.Type() != plumbing.SymbolicReference {
				break
			}
			r = byName[r.Target()]
		}
		if r != nil && r.Type() == plumbing.HashReference {
			return r.Hash().String(), nil
		}
	}
	return "", fmt.Errorf("%s has no branch or tag %s", remote, ref)
}
