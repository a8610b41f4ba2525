package techdocs

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is what Greenroom reads of an mkdocs.yml. Other keys are
// ignored, as techdocs-core's sanitizer drops all but an allowlist and
// the theme is Greenroom's.
type Config struct {
	File            string // mkdocs.yaml or mkdocs.yml; "" when none was found
	SiteName        string
	SiteDescription string
	DocsDir         string // slash-separated, relative to the config's folder
	// Nav is the explicit nav; nil builds it from the docs folder.
	Nav []NavEntry
	// ExcludeDocs are gitignore-style patterns of files not built.
	ExcludeDocs []string
	// UseDirectoryURLs is MkDocs' use_directory_urls (default true).
	UseDirectoryURLs bool
	// Extensions and Plugins are the names the file asks for, reported
	// when Greenroom does not provide them.
	Extensions, Plugins []string
}

// NavEntry is an entry of an explicit nav: a page (Path, with an
// optional Title), a link (URL) or a section (Title and Children).
type NavEntry struct {
	Title    string
	Path     string
	URL      string
	Children []NavEntry
	Line     int
}

// configNames are looked for in order, as Backstage's generator does.
var configNames = []string{"mkdocs.yaml", "mkdocs.yml"}

// maxConfigBytes bounds an mkdocs.yml.
const maxConfigBytes = 1 << 20

// ReadConfig reads the mkdocs.yml of fsys's root. Without one, the
// config is Backstage's default: the site named defaultName, docs in
// docs/.
func ReadConfig(fsys fs.FS, defaultName string) (*Config, error) {
	cfg := &Config{SiteName: defaultName, DocsDir: "docs", UseDirectoryURLs: true}
	var data []byte
	for _, name := range configNames {
		info, err := fs.Stat(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if info.Size() > maxConfigBytes {
			return nil, fmt.Errorf("%s: larger than %d KiB", name, maxConfigBytes>>10)
		}
		if data, err = fs.ReadFile(fsys, name); err != nil {
			return nil, err
		}
		cfg.File = name
		break
	}
	if cfg.File == "" {
		return cfg, nil
	}
	if err := cfg.parse(data); err != nil {
		return nil, fmt.Errorf("%s:%w", cfg.File, err)
	}
	return cfg, nil
}

// parse reads the keys Greenroom uses from the YAML document; tags such
// as !!python/name are kept as nodes and never resolved.
func (c *Config) parse(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf(" %v", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%d: the file is not a mapping", root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		bad := func(want string) error { return fmt.Errorf("%d: %s must be %s", v.Line, k.Value, want) }
		switch k.Value {
		case "site_name", "site_description", "docs_dir":
			if v.Kind != yaml.ScalarNode {
				return bad("a string")
			}
			switch k.Value {
			case "site_name":
				c.SiteName = v.Value
			case "site_description":
				c.SiteDescription = v.Value
			default:
				c.DocsDir = v.Value
			}
		case "use_directory_urls":
			var b bool
			if v.Decode(&b) != nil {
				return bad("true or false")
			}
			c.UseDirectoryURLs = b
		case "exclude_docs":
			if v.Kind != yaml.ScalarNode {
				return bad("a string of patterns, one per line")
			}
			for _, line := range strings.Split(v.Value, "\n") {
				if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
					c.ExcludeDocs = append(c.ExcludeDocs, line)
				}
			}
		case "nav":
			nav, err := parseNav(v)
			if err != nil {
				return err
			}
			c.Nav = nav
		case "markdown_extensions":
			c.Extensions = names(v)
		case "plugins":
			c.Plugins = names(v)
		}
	}
	if c.SiteName == "" {
		return fmt.Errorf("1: site_name is required")
	}
	docs := path.Clean(strings.TrimPrefix(c.DocsDir, "./"))
	if path.IsAbs(docs) || docs == ".." || strings.HasPrefix(docs, "../") || docs == "." {
		return fmt.Errorf("%d: docs_dir %q must be a folder inside the docs source", root.Line, c.DocsDir)
	}
	c.DocsDir = docs
	return nil
}

// names lists a markdown_extensions or plugins value's names: strings,
// or one-key mappings of a name to its options.
func names(v *yaml.Node) []string {
	var out []string
	add := func(n *yaml.Node) {
		switch n.Kind {
		case yaml.ScalarNode:
			out = append(out, n.Value)
		case yaml.MappingNode:
			for i := 0; i < len(n.Content); i += 2 {
				out = append(out, n.Content[i].Value)
			}
		}
	}
	switch v.Kind {
	case yaml.SequenceNode:
		for _, n := range v.Content {
			add(n)
		}
	case yaml.MappingNode:
		add(v)
	}
	return out
}

// parseNav reads an explicit nav: a list of "path.md", "Title: path.md",
// "Title: https://…" and "Section: [entries]".
func parseNav(v *yaml.Node) ([]NavEntry, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%d: nav must be a list", v.Line)
	}
	var out []NavEntry
	for _, n := range v.Content {
		switch n.Kind {
		case yaml.ScalarNode:
			out = append(out, target(NavEntry{Line: n.Line}, n.Value))
		case yaml.MappingNode:
			if len(n.Content) != 2 {
				return nil, fmt.Errorf("%d: a nav entry must be one \"Title: page\" or \"Section: [...]\"", n.Line)
			}
			title, val := n.Content[0], n.Content[1]
			e := NavEntry{Title: title.Value, Line: n.Line}
			switch val.Kind {
			case yaml.ScalarNode:
				e = target(e, val.Value)
			case yaml.SequenceNode:
				children, err := parseNav(val)
				if err != nil {
					return nil, err
				}
				e.Children = children
			default:
				return nil, fmt.Errorf("%d: nav entry %q must name a page or list a section", val.Line, title.Value)
			}
			out = append(out, e)
		default:
			return nil, fmt.Errorf("%d: a nav entry must be a page or a \"Title: page\" mapping", n.Line)
		}
	}
	return out, nil
}

func target(e NavEntry, v string) NavEntry {
	if strings.Contains(v, "://") || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "mailto:") {
		e.URL = v
	} else {
		e.Path = path.Clean(strings.TrimPrefix(v, "./"))
	}
	return e
}

// supportedExtensions are the markdown extensions Greenroom renders (or
// whose effect it has anyway); others are reported as unknown.
var supportedExtensions = []string{
	"toc", "admonition", "attr_list", "def_list", "footnotes", "tables", "abbr", "md_in_html", "extra",
	"meta", "codehilite", "fenced_code", "sane_lists", "mdx_truly_sane_lists",
	"pymdownx.details", "pymdownx.tabbed", "pymdownx.tasklist", "pymdownx.emoji", "pymdownx.highlight",
	"pymdownx.superfences", "pymdownx.inlinehilite", "pymdownx.magiclink", "pymdownx.tilde", "pymdownx.betterem",
	"plantuml_markdown", "markdown_inline_graphviz",
}

// supportedPlugins are the plugins whose work Greenroom does.
var supportedPlugins = []string{"techdocs-core", "search", "material/search"}

func unknown(names, known []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(known, n) {
			out = append(out, n)
		}
	}
	return out
}
