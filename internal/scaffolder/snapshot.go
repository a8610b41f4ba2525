package scaffolder

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
)

// maxSnapshot bounds a workspace kept as a task's checkpoint.
const maxSnapshot = 64 << 20

// Snapshot packs the workspace as tar.gz: what a task's checkpoint keeps,
// so that a replica that takes the task over finds the files its finished
// steps made, wherever they ran.
func (w *Workspace) Snapshot() ([]byte, error) {
	files, err := w.Files(maxSnapshot)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // a checkpoint per step: speed over size
	tw := tar.NewWriter(gz)
	for _, f := range files {
		h := &tar.Header{Name: f.Path, Mode: 0o644, Size: int64(len(f.Data)), Typeflag: tar.TypeReg}
		if f.Executable {
			h.Mode = 0o755
		}
		if f.Symlink != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, f.Symlink, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := errors.Join(tw.Close(), gz.Close()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Restore unpacks a snapshot into the workspace, confined to it as every
// write is.
func (w *Workspace) Restore(snapshot []byte) error {
	gz, err := gzip.NewReader(bytes.NewReader(snapshot))
	if err != nil {
		return fmt.Errorf("workspace snapshot: %w", err)
	}
	tr := tar.NewReader(io.LimitReader(gz, maxSnapshot+1<<20))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("workspace snapshot: %w", err)
		}
		switch h.Typeflag {
		case tar.TypeSymlink:
			if _, err := place(w, h.Name, entry{path: path.Base(h.Name), link: h.Linkname}, true); err != nil {
				return err
			}
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			if err := w.WriteFile(h.Name, data, fs.FileMode(h.Mode)&0o777); err != nil {
				return err
			}
		}
	}
}
