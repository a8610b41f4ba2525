package scaffolder

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/greenroomhq/greenroom/internal/nunjucks"
)

// TemplateFile is the file a template folder keeps its Template entity
// in, as Backstage's template repositories name it.
const TemplateFile = "template.yaml"

// Source is a template read from a folder on disk: template.yaml and the
// files beside it (skeletons).
type Source struct {
	Dir, File string
	// Doc is the Template entity as the catalog would hold it (JSON).
	Doc  map[string]any
	node *yaml.Node
}

// LoadDir reads the template of a folder (or of a template file and the
// folder it is in). The file must hold one YAML document, a Template.
func LoadDir(dir string) (*Source, error) {
	file := filepath.Join(dir, TemplateFile)
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		file, dir = dir, filepath.Dir(dir)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var v any
	if err := root.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	normal, err := jsonNormal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: not JSON: %w", file, err)
	}
	doc, ok := normal.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s:%d: the template is not a YAML mapping", file, root.Line)
	}
	var extra yaml.Node
	if dec.Decode(&extra) == nil {
		return nil, fmt.Errorf("%s:%d: a template file holds one document", file, extra.Line)
	}
	return &Source{Dir: dir, File: file, Doc: doc, node: &root}, nil
}

// Spec is the template's spec, parsed.
func (s *Source) Spec() (*Spec, error) {
	spec, _ := s.Doc["spec"].(map[string]any)
	return ParseSpec(spec)
}

// Ref is the template's entity ref.
func (s *Source) Ref() string {
	meta, _ := s.Doc["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	ns, _ := meta["namespace"].(string)
	if ns == "" {
		ns = "default"
	}
	return "template:" + strings.ToLower(ns) + "/" + strings.ToLower(name)
}

// line returns the line of the value at a path of keys and indexes, or of
// the deepest part of it that exists.
func (s *Source) line(at ...any) int {
	n := s.node
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, step := range at {
		var next *yaml.Node
		switch k := step.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return n.Line
}

// Problem is something wrong with a template, where it is.
type Problem struct {
	File    string
	Line    int
	Message string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
	return p.File + ": " + p.Message
}

// Check checks a template without running it: its kind, its spec, that
// each page of its form is a JSON Schema, that every action is in the
// registry and gets the input its schema asks for where the input is
// written out, that every ${{ }} expression parses, and that the skeletons
// its fetch actions name exist and parse.
func Check(ctx context.Context, s *Source, r *Registry) []Problem {
	var out []Problem
	add := func(line int, format string, args ...any) {
		out = append(out, Problem{File: s.File, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	if s.Doc["apiVersion"] != "scaffolder.backstage.io/v1beta3" || s.Doc["kind"] != "Template" {
		add(s.line("kind"), "not a template: want apiVersion scaffolder.backstage.io/v1beta3 and kind Template")
		return out
	}
	spec, err := s.Spec()
	if err != nil {
		add(s.line("spec"), "%v", err)
		return out
	}
	for i, p := range spec.Pages {
		if _, err := compile(i, p.Schema); err != nil {
			add(s.line("spec", "parameters", i), "%v", err)
		}
		if when, ok := p.Schema["when"].(string); ok {
			out = append(out, s.checkExpr(when, "spec", "parameters", i, "when")...)
		}
	}
	for i, step := range spec.Steps {
		a, ok := r.actions[step.Action]
		if !ok {
			add(s.line("spec", "steps", i, "action"), "step %s: action %s is not registered", step.ID, step.Action)
		}
		for _, key := range []string{"input", "if", "each"} {
			out = append(out, s.checkStrings(step.raw(key), "spec", "steps", i, key)...)
		}
		if ok && !hasExpr(step.Input) {
			if err := r.checkInput(step.Action, step.Input); err != nil {
				add(s.line("spec", "steps", i, "input"), "step %s: %v", step.ID, err)
			}
		}
		if ok && strings.HasPrefix(a.info.ID, "fetch:") {
			out = append(out, s.checkFetch(ctx, step, i)...)
		}
	}
	out = append(out, s.checkStrings(spec.Output, "spec", "output")...)
	return out
}

// raw returns a step's value of key as written.
func (st Step) raw(key string) any {
	switch key {
	case "input":
		return st.Input
	case "if":
		return st.If
	}
	return st.Each
}

// checkStrings parses every string in v as a template.
func (s *Source) checkStrings(v any, at ...any) []Problem {
	var out []Problem
	switch v := v.(type) {
	case string:
		out = append(out, s.checkExpr(v, at...)...)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			out = append(out, s.checkStrings(v[k], append(slices.Clone(at), k)...)...)
		}
	case []any:
		for i, item := range v {
			out = append(out, s.checkStrings(item, append(slices.Clone(at), i)...)...)
		}
	}
	return out
}

func (s *Source) checkExpr(src string, at ...any) []Problem {
	if !strings.Contains(src, "${{") && !strings.Contains(src, "{%") {
		return nil
	}
	if _, err := nunjucks.Parse(src, templateOptions); err != nil {
		line := s.line(at...)
		var ne *nunjucks.Error
		if errors.As(err, &ne) {
			err = errors.New(ne.Msg)
		}
		return []Problem{{File: s.File, Line: line, Message: fmt.Sprintf("%s does not parse: %v", dotPath(at), err)}}
	}
	return nil
}

// checkFetch checks what a fetch step names, when its input is written
// out: the path exists in the template's folder, and a skeleton's names
// and text files parse with the options the step gives.
func (s *Source) checkFetch(ctx context.Context, step Step, i int) []Problem {
	url, ok := step.Input["url"].(string)
	if !ok || strings.Contains(url, "${{") || strings.Contains(url, "://") {
		return nil
	}
	line := s.line("spec", "steps", i, "input", "url")
	problem := func(format string, args ...any) []Problem {
		return []Problem{{File: s.File, Line: line, Message: fmt.Sprintf("step %s: "+format, append([]any{step.ID}, args...)...)}}
	}
	p, err := Clean(url)
	if err != nil {
		return problem("url %s leaves the template's folder", url)
	}
	root, err := os.OpenRoot(s.Dir)
	if err != nil {
		return problem("%v", err)
	}
	defer root.Close()
	fsys := root.FS()
	if step.Action == "fetch:plain:file" || step.Action == "fetch:template:file" {
		if _, err := readOne(fsys, p); err != nil {
			return problem("%v", err)
		}
		return nil
	}
	entries, err := readTree(ctx, fsys, p)
	if err != nil {
		return problem("%v", err)
	}
	if step.Action != "fetch:template" || hasExpr(step.Input) {
		return nil
	}
	var in templateInput
	data, _ := json.Marshal(step.Input)
	json.Unmarshal(data, &in)
	opts := newTemplater(in).opts
	ext := ""
	if e, ok := in.TemplateFileExtension.(string); ok && e != "" {
		ext = "." + strings.TrimPrefix(e, ".")
	} else if in.TemplateFileExtension == true {
		ext = ".njk"
	}
	var out []Problem
	for _, e := range entries {
		file := filepath.Join(s.Dir, filepath.FromSlash(path.Join(p, e.path)))
		if _, err := nunjucks.Parse(e.path, opts); err != nil {
			out = append(out, Problem{File: file, Message: "the name does not parse: " + err.Error()})
		}
		render := !e.dir && e.link == "" && !isBinary(e.data)
		if ext != "" {
			render = render && strings.HasSuffix(e.path, ext)
		} else if copiedAsIs(in.CopyWithoutTemplating, e.path) {
			render = false
		}
		if !render {
			continue
		}
		if _, err := nunjucks.Parse(string(e.data), opts); err != nil {
			var ne *nunjucks.Error
			if errors.As(err, &ne) {
				out = append(out, Problem{File: file, Line: ne.Line, Message: "does not parse: " + ne.Msg})
			} else {
				out = append(out, Problem{File: file, Message: "does not parse: " + err.Error()})
			}
		}
	}
	return out
}

// hasExpr reports whether any string in v is a template, whose value is
// known only when it runs.
func hasExpr(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.Contains(v, "${{") || strings.Contains(v, "{%")
	case map[string]any:
		for _, item := range v {
			if hasExpr(item) {
				return true
			}
		}
	case []any:
		return slices.ContainsFunc(v, hasExpr)
	}
	return false
}

func dotPath(at []any) string {
	var b strings.Builder
	for i, p := range at {
		switch p := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(p) + "]")
		case string:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		}
	}
	return b.String()
}
