package scaffolder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"go.yaml.in/yaml/v3"
)

// fsRename is fs:rename.
type fsRename struct{}

func (fsRename) Info() ActionInfo {
	return ActionInfo{
		ID:          "fs:rename",
		Description: "Renames files and directories in the workspace.",
		Input: object([]string{"files"}, map[string]any{
			"files": map[string]any{
				"type":        "array",
				"description": "A list of file and directory names that will be renamed",
				"items": object([]string{"from", "to"}, map[string]any{
					"from":      str("The source location of the file to be renamed"),
					"to":        str("The destination of the new file"),
					"overwrite": map[string]any{"type": "boolean", "description": "Overwrite existing file or directory, default is false"},
				}),
			},
		}),
		DryRun: true,
	}
}

func (fsRename) Run(_ context.Context, ac *ActionContext) error {
	var in struct {
		Files []struct {
			From, To  string
			Overwrite bool
		}
	}
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	root := ac.Workspace.root
	for _, f := range in.Files {
		from, err := Clean(f.From)
		if err != nil {
			return err
		}
		to, err := Clean(f.To)
		if err != nil {
			return err
		}
		if from == "." || to == "." {
			return errors.New("the workspace itself cannot be renamed")
		}
		if _, err := root.Lstat(from); err != nil {
			return fmt.Errorf("cannot rename %s: %w", f.From, unwrapPath(err))
		}
		if _, err := root.Lstat(to); err == nil {
			if !f.Overwrite {
				return fmt.Errorf("cannot rename %s to %s: the destination exists (set overwrite)", f.From, f.To)
			}
			if err := root.RemoveAll(to); err != nil {
				return err
			}
		}
		if dir := path.Dir(to); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		if err := root.Rename(from, to); err != nil {
			return fmt.Errorf("cannot rename %s to %s: %w", f.From, f.To, unwrapPath(err))
		}
	}
	return nil
}

// fsDelete is fs:delete.
type fsDelete struct{}

func (fsDelete) Info() ActionInfo {
	return ActionInfo{
		ID:          "fs:delete",
		Description: "Deletes files and directories from the workspace",
		Input: object([]string{"files"}, map[string]any{
			"files": map[string]any{
				"type":        "array",
				"description": "A list of files and directories that will be deleted. Glob patterns are supported.",
				"items":       map[string]any{"type": "string"},
			},
		}),
		DryRun: true,
	}
}

func (fsDelete) Run(_ context.Context, ac *ActionContext) error {
	var in struct{ Files []string }
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	root := ac.Workspace.root
	for _, pattern := range in.Files {
		p, err := Clean(pattern)
		if err != nil {
			return err
		}
		if p == "." {
			return errors.New("the workspace itself cannot be deleted")
		}
		// Dotfiles match as any file does (globby's dot: true).
		matches, err := doublestar.Glob(root.FS(), p, doublestar.WithNoFollow())
		if err != nil {
			return fmt.Errorf("%q is not a glob pattern", pattern)
		}
		// Deepest first, so that a directory goes after what it holds.
		slices.SortFunc(matches, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
		for _, m := range matches {
			if err := root.RemoveAll(m); err != nil {
				return err
			}
			ac.Logf("File %s deleted successfully", m)
		}
	}
	return nil
}

// fsReaddir is fs:readdir.
type fsReaddir struct{}

func (fsReaddir) Info() ActionInfo {
	entries := map[string]any{"type": "array", "items": object(nil, map[string]any{
		"name": str("The name of the entry"), "path": str("The path relative to the workspace"), "fullPath": str("The absolute path"),
	})}
	return ActionInfo{
		ID:          "fs:readdir",
		Description: "Reads files and directories from the workspace",
		Input: object([]string{"paths"}, map[string]any{
			"paths":     map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"recursive": map[string]any{"type": "boolean", "default": false},
		}),
		Output: object(nil, map[string]any{"files": entries, "folders": entries}),
		DryRun: true,
	}
}

func (fsReaddir) Run(_ context.Context, ac *ActionContext) error {
	var in struct {
		Paths     []string
		Recursive bool
	}
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	files, folders := []any{}, []any{}
	fsys := ac.Workspace.root.FS()
	for _, p := range in.Paths {
		dir, err := Clean(p)
		if err != nil {
			return err
		}
		err = fs.WalkDir(fsys, dir, func(q string, d fs.DirEntry, err error) error {
			if err != nil || q == dir {
				return err
			}
			e := map[string]any{"name": d.Name(), "path": q, "fullPath": path.Join(ac.Workspace.dir, q)}
			if d.IsDir() {
				folders = append(folders, e)
				if !in.Recursive {
					return fs.SkipDir
				}
				return nil
			}
			files = append(files, e)
			return nil
		})
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", p, unwrapPath(err))
		}
	}
	ac.Output("files", files)
	ac.Output("folders", folders)
	return nil
}

// debugLog is debug:log.
type debugLog struct{}

func (debugLog) Info() ActionInfo {
	return ActionInfo{
		ID:          "debug:log",
		Description: "Writes a message into the log and/or lists all files in the workspace.",
		Input: object(nil, map[string]any{
			"message": str("Message to output."),
			"listWorkspace": map[string]any{
				"description": "List all files in the workspace. If used with \"with-contents\", also the file contents are listed.",
				"type":        []any{"boolean", "string"},
				"enum":        []any{false, true, "with-filenames", "with-contents"},
			},
		}),
		DryRun: true,
	}
}

func (debugLog) Run(_ context.Context, ac *ActionContext) error {
	var in struct {
		Message       string
		ListWorkspace any
	}
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	if in.Message != "" {
		ac.Logf("%s", in.Message)
	}
	if in.ListWorkspace == nil || in.ListWorkspace == false {
		return nil
	}
	files, err := ac.Workspace.Files(maxFetchBytes)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("Workspace:")
	for _, f := range files {
		b.WriteString("\n  - " + f.Path)
		if in.ListWorkspace == "with-contents" && f.Symlink == "" && !isBinary(f.Data) {
			b.WriteString(":\n" + string(f.Data))
		}
	}
	ac.Logf("%s", b.String())
	return nil
}

// maxWait is the longest debug:wait, as Backstage's default.
const maxWait = 10 * time.Minute

// debugWait is debug:wait.
type debugWait struct{}

func (debugWait) Info() ActionInfo {
	return ActionInfo{
		ID:          "debug:wait",
		Description: "Waits for a certain period of time.",
		Input: object(nil, map[string]any{
			"minutes":      map[string]any{"type": "number", "description": "Waiting period in minutes."},
			"seconds":      map[string]any{"type": "number", "description": "Waiting period in seconds."},
			"milliseconds": map[string]any{"type": "number", "description": "Waiting period in milliseconds."},
		}),
		DryRun: true,
	}
}

func (debugWait) Run(ctx context.Context, ac *ActionContext) error {
	var in struct{ Minutes, Seconds, Milliseconds float64 }
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	d := time.Duration((in.Minutes*60+in.Seconds)*float64(time.Second) + in.Milliseconds*float64(time.Millisecond))
	if d > maxWait || d < 0 {
		return fmt.Errorf("waiting duration is longer than the maximum threshold of %s", maxWait)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// SourceTemplateAnnotation names the template an entity written by
// catalog:write came from, as Backstage writes it.
const SourceTemplateAnnotation = "backstage.io/source-template"

// catalogWrite is catalog:write.
type catalogWrite struct{}

func (catalogWrite) Info() ActionInfo {
	return ActionInfo{
		ID:          "catalog:write",
		Description: "Writes the catalog-info.yaml for your template",
		Input: object([]string{"entity"}, map[string]any{
			"filePath": str("Defaults to catalog-info.yaml"),
			"entity":   map[string]any{"type": "object", "description": "You can provide the same values used in the Entity schema."},
		}),
		DryRun: true,
	}
}

func (catalogWrite) Run(_ context.Context, ac *ActionContext) error {
	var in struct {
		FilePath string
		Entity   map[string]any
	}
	if err := ac.DecodeInput(&in); err != nil {
		return err
	}
	if in.FilePath == "" {
		in.FilePath = "catalog-info.yaml"
	}
	if ac.TemplateRef != "" {
		meta, _ := in.Entity["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			in.Entity["metadata"] = meta
		}
		ann, _ := meta["annotations"].(map[string]any)
		if ann == nil {
			ann = map[string]any{}
			meta["annotations"] = ann
		}
		ann[SourceTemplateAnnotation] = ac.TemplateRef
	}
	data, err := yaml.Marshal(in.Entity)
	if err != nil {
		return err
	}
	ac.Logf("Writing %s", in.FilePath)
	return ac.Workspace.WriteFile(in.FilePath, data, 0o644)
}

// Builtins returns the built-in actions that work on the workspace alone.
func Builtins() []Action {
	return []Action{
		fetchPlain{}, fetchPlainFile{}, fetchTemplate{}, fetchTemplateFile{},
		fsRename{}, fsDelete{}, fsReaddir{}, debugLog{}, debugWait{}, catalogWrite{}, approval{},
	}
}
