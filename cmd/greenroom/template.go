package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/scaffolder"
)

const templateUsage = `usage:
  greenroom template validate DIR
      checks a template folder (its template.yaml and skeletons) offline:
      the entity, the form's schemas, known actions, expressions that parse
  greenroom template dry-run DIR --values FILE [--secrets FILE] --out OUTDIR
      runs the template offline in dry-run mode (nothing outside the
      workspace changes), writes the files it produced to OUTDIR and prints
      its log and output; exits 1 when the values or a step fail
`

// cmdTemplate is "greenroom template", for template authors and their CI.
func cmdTemplate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, templateUsage)
		return 2
	}
	switch args[0] {
	case "validate":
		return cmdTemplateValidate(ctx, args[1:], stdout, stderr)
	case "dry-run":
		return cmdTemplateDryRun(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, templateUsage)
		return 0
	}
	fmt.Fprintf(stderr, "greenroom template: unknown subcommand %q\n\n%s", args[0], templateUsage)
	return 2
}

// templateActions is the registry of every built-in action, publishing
// through forges and reading the catalog c.
func templateActions(forges *scaffolder.Forges, c scaffolder.Catalog) *scaffolder.Registry {
	actions := append(scaffolder.Builtins(), forges.PublishActions()...)
	r, err := scaffolder.NewRegistry(append(actions, scaffolder.CatalogActions(c)...)...)
	if err != nil {
		panic(err) // the built-in actions' schemas compile; TestBuiltins checks it
	}
	return r
}

func cmdTemplateValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("template validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, templateUsage) }
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	src, err := scaffolder.LoadDir(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "greenroom template validate:", err)
		return 1
	}
	// The entity as the catalog would check it, then the template.
	res, err := ingest.Validate(ctx, []string{src.File}, ingest.DefaultMaxFileSize)
	if err != nil {
		fmt.Fprintln(stderr, "greenroom template validate:", err)
		return 2
	}
	errs := printProblems(stdout, res.Problems)
	problems := scaffolder.Check(ctx, src, templateActions(scaffolder.NewForges(nil, nil), scaffolder.OfflineCatalog{}))
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	errs += len(problems)
	if errs > 0 {
		fmt.Fprintf(stdout, "%s: %s\n", src.File, count(errs, "problem"))
		return 1
	}
	fmt.Fprintf(stdout, "%s: template %s is valid\n", src.File, src.Ref())
	return 0
}

func cmdTemplateDryRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("template dry-run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, templateUsage) }
	valuesFile := fs.String("values", "", "YAML or JSON `file` of the form's values")
	secretsFile := fs.String("secrets", "", "YAML or JSON `file` of the task's secrets")
	outDir := fs.String("out", "", "`directory` to write the produced files to")
	timeout := fs.Duration("step-timeout", 10*time.Minute, "bound on each step")
	// Flags may follow the folder, as the usage writes them.
	var dir string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		dir, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if dir == "" && fs.NArg() == 1 {
		dir = fs.Arg(0)
	} else if fs.NArg() != 0 || dir == "" {
		fs.Usage()
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "greenroom template dry-run:", err)
		return 1
	}
	src, err := scaffolder.LoadDir(dir)
	if err != nil {
		return fail(err)
	}
	spec, err := src.Spec()
	if err != nil {
		return fail(fmt.Errorf("%s: %w", src.File, err))
	}
	values, err := readObject(*valuesFile)
	if err != nil {
		return fail(err)
	}
	secrets, err := readObject(*secretsFile)
	if err != nil {
		return fail(err)
	}
	fieldErrs, err := scaffolder.Validate(spec.Pages, values)
	if err != nil {
		return fail(err)
	}
	if len(fieldErrs) > 0 {
		for _, e := range fieldErrs {
			fmt.Fprintf(stdout, "%s: page %d: %s %s\n", *valuesFile, e.Page+1, e.Path, e.Message)
		}
		return 1
	}
	root, err := os.OpenRoot(src.Dir)
	if err != nil {
		return fail(err)
	}
	defer root.Close()
	ws, err := scaffolder.NewWorkspace("")
	if err != nil {
		return fail(err)
	}
	defer ws.Remove()
	run := scaffolder.Run{
		Spec: spec, Registry: templateActions(scaffolder.NewForges(nil, nil), scaffolder.OfflineCatalog{}), Values: scaffolder.VisibleValues(spec.Pages, values), Secrets: secrets,
		TemplateRef: src.Ref(), TaskID: "dry-run", Template: scaffolder.TemplateBase{Dir: root.FS()}, Workspace: ws, DryRun: true, StepTimeout: *timeout,
		Emit: func(e scaffolder.Event) {
			fmt.Fprintf(stdout, "%s [%s] %s\n", e.Time.Format("15:04:05.000"), e.StepID, e.Message)
		},
	}
	res := run.Execute(ctx)
	// The files are written even when a step failed: what it left is
	// what an author debugs.
	files, err := ws.Files(1 << 30)
	if err != nil {
		return fail(err)
	}
	if *outDir != "" {
		if err := writeFiles(*outDir, files); err != nil {
			return fail(err)
		}
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "file %s (%d bytes)\n", f.Path, len(f.Data))
	}
	if res.Err != nil {
		return fail(res.Err)
	}
	out, _ := json.MarshalIndent(res.Output, "", "  ")
	fmt.Fprintf(stdout, "output %s\n", out)
	return 0
}

// readObject reads a YAML or JSON object from a file; none is empty.
func readObject(file string) (map[string]any, error) {
	if file == "" {
		return map[string]any{}, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if v == nil {
		v = map[string]any{}
	}
	return v, nil
}

// writeFiles writes a run's files under dir, which it makes.
func writeFiles(dir string, files []scaffolder.File) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, f := range files {
		if err := root.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
			return err
		}
		root.Remove(f.Path)
		if f.Symlink != "" {
			err = root.Symlink(f.Symlink, f.Path)
		} else {
			mode := os.FileMode(0o644)
			if f.Executable {
				mode = 0o755
			}
			err = root.WriteFile(f.Path, f.Data, mode)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func usageExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
