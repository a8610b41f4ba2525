package techdocs

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// The indented blocks of the Python-Markdown extensions techdocs-core
// enables, which goldmark has no extension for:
//
//	!!! note "Title"      admonition (an empty title "" shows none)
//	??? note "Title"      pymdownx.details, closed; ???+ open
//	=== "Tab"             pymdownx.tabbed (alternate style); consecutive
//	                      tabs form one set
//
// each followed by its content indented by four spaces. As in
// Python-Markdown, a block starts a new block (it does not interrupt a
// paragraph).

// Admonition is an admonition or a details block.
type Admonition struct {
	ast.BaseBlock
	Classes string // "note", "danger highlight"
	Title   string // "" with HasTitle: no title bar
	// HasTitle says a title was given (possibly empty).
	HasTitle bool
	Details  bool // ??? (a <details>)
	Open     bool // ???+
}

// KindAdmonition is Admonition's kind.
var KindAdmonition = ast.NewNodeKind("Admonition")

// Kind implements ast.Node.
func (n *Admonition) Kind() ast.NodeKind { return KindAdmonition }

// Dump implements ast.Node.
func (n *Admonition) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"Classes": n.Classes, "Title": n.Title}, nil)
}

// DisplayTitle is the title shown: the one given, or the first class
// capitalised.
func (n *Admonition) DisplayTitle() string {
	if n.HasTitle {
		return n.Title
	}
	first, _, _ := strings.Cut(n.Classes, " ")
	if first == "" {
		return ""
	}
	return strings.ToUpper(first[:1]) + first[1:]
}

// Tab is one tab of a tabbed set; TabSet holds consecutive tabs.
type Tab struct {
	ast.BaseBlock
	Label string
}

// KindTab is Tab's kind.
var KindTab = ast.NewNodeKind("Tab")

// Kind implements ast.Node.
func (n *Tab) Kind() ast.NodeKind { return KindTab }

// Dump implements ast.Node.
func (n *Tab) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"Label": n.Label}, nil)
}

// TabSet is a set of consecutive tabs.
type TabSet struct {
	ast.BaseBlock
	N int // the set's number in the page, from 1
}

// KindTabSet is TabSet's kind.
var KindTabSet = ast.NewNodeKind("TabSet")

// Kind implements ast.Node.
func (n *TabSet) Kind() ast.NodeKind { return KindTabSet }

// Dump implements ast.Node.
func (n *TabSet) Dump(source []byte, level int) { ast.DumpHelper(n, source, level, nil, nil) }

var (
	admonitionRE = regexp.MustCompile(`^(!!!|\?\?\?\+?) ?([\w\-]+(?: +[\w\-]+)*)(?: +"(.*?)")? *$`)
	tabRE        = regexp.MustCompile(`^===(!?) +"(.*?)" *$`)
)

// indentedBlock parses the blocks whose content is indented by four.
type indentedBlock struct {
	trigger byte
}

func (p indentedBlock) Trigger() []byte { return []byte{p.trigger} }

func (p indentedBlock) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	line, seg := reader.PeekLine()
	if pos := pc.BlockOffset(); pos < 0 || pos > 3 {
		return nil, parser.NoChildren
	}
	s := strings.TrimRight(string(line[pc.BlockOffset():]), "\r\n")
	var node ast.Node
	switch p.trigger {
	case '!', '?':
		m := admonitionRE.FindStringSubmatch(s)
		if m == nil {
			return nil, parser.NoChildren
		}
		a := &Admonition{Classes: strings.Join(strings.Fields(m[2]), " "), Details: m[1] != "!!!", Open: m[1] == "???+"}
		if strings.Contains(s, `"`) {
			a.Title, a.HasTitle = m[3], true
		}
		node = a
	case '=':
		m := tabRE.FindStringSubmatch(s)
		if m == nil {
			return nil, parser.NoChildren
		}
		node = &Tab{Label: m[2]}
	}
	reader.Advance(seg.Len() - 1)
	return node, parser.HasChildren
}

func (p indentedBlock) Continue(node ast.Node, reader text.Reader, pc parser.Context) parser.State {
	line, _ := reader.PeekLine()
	if util.IsBlank(line) {
		reader.Advance(len(line) - 1)
		return parser.Continue | parser.HasChildren
	}
	indent, _ := util.IndentWidth(line, reader.LineOffset())
	if indent < 4 {
		return parser.Close
	}
	pos, padding := util.IndentPosition(line, reader.LineOffset(), 4)
	reader.AdvanceAndSetPadding(pos, padding)
	return parser.Continue | parser.HasChildren
}

func (indentedBlock) Close(ast.Node, text.Reader, parser.Context) {}
func (indentedBlock) CanInterruptParagraph() bool                 { return false }
func (indentedBlock) CanAcceptIndentedLine() bool                 { return false }

// groupTabs puts each run of consecutive tabs in a TabSet.
type groupTabs struct{}

func (groupTabs) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	n := 0
	var visit func(parent ast.Node)
	visit = func(parent ast.Node) {
		for c := parent.FirstChild(); c != nil; {
			next := c.NextSibling()
			if c.Kind() == KindTab {
				n++
				set := &TabSet{N: n}
				parent.InsertBefore(parent, c, set)
				for c != nil && c.Kind() == KindTab {
					following := c.NextSibling()
					parent.RemoveChild(parent, c)
					set.AppendChild(set, c)
					visit(c)
					c = following
				}
				next = c
			} else {
				visit(c)
			}
			c = next
		}
	}
	visit(doc)
}

// blockRenderer renders admonitions, details and tabs as Python-Markdown
// and pymdownx do, with Material's class names.
type blockRenderer struct{}

func (r blockRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(KindAdmonition, r.admonition)
	reg.Register(KindTabSet, r.tabSet)
	reg.Register(KindTab, r.tab)
}

func (blockRenderer) admonition(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*Admonition)
	title := n.DisplayTitle()
	if n.Details {
		if entering {
			w.WriteString(`<details class="` + esc(n.Classes) + `"`)
			if n.Open {
				w.WriteString(` open="open"`)
			}
			w.WriteString(">\n<summary>" + esc(title) + "</summary>\n")
		} else {
			w.WriteString("</details>\n")
		}
		return ast.WalkContinue, nil
	}
	if entering {
		w.WriteString(`<div class="admonition ` + esc(n.Classes) + `">` + "\n")
		if title != "" {
			w.WriteString(`<p class="admonition-title">` + esc(title) + "</p>\n")
		}
	} else {
		w.WriteString("</div>\n")
	}
	return ast.WalkContinue, nil
}

func (blockRenderer) tabSet(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*TabSet)
	if !entering {
		w.WriteString("</div>\n</div>\n")
		return ast.WalkContinue, nil
	}
	count := n.ChildCount()
	set := strconv.Itoa(n.N)
	w.WriteString(`<div class="tabbed-set tabbed-alternate" data-tabs="` + set + ":" + strconv.Itoa(count) + `">`)
	for i := 1; i <= count; i++ {
		id := "__tabbed_" + set + "_" + strconv.Itoa(i)
		w.WriteString(`<input `)
		if i == 1 {
			w.WriteString(`checked="checked" `)
		}
		w.WriteString(`id="` + id + `" name="__tabbed_` + set + `" type="radio" />`)
	}
	w.WriteString(`<div class="tabbed-labels">`)
	i := 0
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		i++
		w.WriteString(`<label for="__tabbed_` + set + "_" + strconv.Itoa(i) + `">` + esc(c.(*Tab).Label) + "</label>")
	}
	w.WriteString("</div>\n" + `<div class="tabbed-content">` + "\n")
	return ast.WalkContinue, nil
}

func (blockRenderer) tab(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		w.WriteString(`<div class="tabbed-block">` + "\n")
	} else {
		w.WriteString("</div>\n")
	}
	return ast.WalkContinue, nil
}

// blocks is the goldmark extension of the three.
type blocks struct{}

func (blocks) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(
		parser.WithBlockParsers(
			util.Prioritized(indentedBlock{trigger: '!'}, 150),
			util.Prioritized(indentedBlock{trigger: '?'}, 150),
			util.Prioritized(indentedBlock{trigger: '='}, 150),
		),
		parser.WithASTTransformers(util.Prioritized(groupTabs{}, 100)),
	)
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(blockRenderer{}, 100)))
}

// esc escapes text for HTML.
func esc(s string) string { return string(util.EscapeHTML([]byte(s))) }
