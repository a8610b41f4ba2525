package techdocs

import (
	"bytes"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	emoji "github.com/yuin/goldmark-emoji"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdown is the one goldmark instance every page is rendered with:
// CommonMark plus GFM (tables, strikethrough, autolinks, task lists),
// footnotes, definition lists, emoji shortcodes, attribute lists
// ({#id .class}) and the indented blocks of blocks.go; raw HTML is kept
// and sanitized afterwards (see sanitize). Headings, code blocks and task
// list boxes are rendered as Python-Markdown and Material render them.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM, extension.Footnote, extension.DefinitionList, emoji.Emoji, blocks{}),
	goldmark.WithParserOptions(parser.WithAttribute()),
	goldmark.WithRendererOptions(html.WithUnsafe(),
		renderer.WithNodeRenderers(util.Prioritized(materialRenderer{}, 100))),
)

// Heading is an entry of a page's table of contents.
type Heading struct {
	Level int    `json:"level"`
	ID    string `json:"id"`
	Text  string `json:"text"`
}

// Link is a relative link or image of a page, which each build checks
// (a page not rendered again keeps its links).
type Link struct {
	Target   string `json:"target"` // the file it resolved to, relative to the docs folder
	Fragment string `json:"fragment,omitempty"`
	Line     int    `json:"line"`
	Image    bool   `json:"image,omitempty"`
}

// rendered is what rendering one page's Markdown gives.
type rendered struct {
	Title   string // from front matter or the first "# " line; "" for none
	HTML    string
	TOC     []Heading
	Links   []Link
	Missing []Link // links to files that are not in the docs
}

// renderCtx is what rendering a page needs from its site.
type renderCtx struct {
	self  *file
	files map[string]*file // by src
}

var frontMatterRE = regexp.MustCompile(`(?s)\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\z)`)

// render renders one page.
func render(src []byte, rc renderCtx) rendered {
	var out rendered
	if m := frontMatterRE.FindSubmatchIndex(src); m != nil {
		out.Title = frontMatterTitle(src[m[2]:m[3]])
		// Lines are kept for the report: the front matter becomes blank.
		blank := bytes.Repeat([]byte{'\n'}, bytes.Count(src[:m[1]], []byte{'\n'}))
		src = append(blank, src[m[1]:]...)
	}
	if out.Title == "" {
		out.Title = markdownTitle(src)
	}
	doc := markdown.Parser().Parse(text.NewReader(src))
	unsafe := prepare(doc, src, rc, &out)
	var buf bytes.Buffer
	buf.Grow(len(src) * 2)
	if err := markdown.Renderer().Render(&buf, src, doc); err != nil {
		out.HTML = "<p>" + esc(err.Error()) + "</p>"
		return out
	}
	if unsafe {
		out.HTML = sanitize(buf.Bytes())
	} else {
		out.HTML = buf.String()
	}
	return out
}

// markdownTitle is MkDocs 1.4's get_markdown_title: the first non-blank
// line, if it is a "# " heading, with the #s and spaces before it
// stripped; raw Markdown is kept.
func markdownTitle(src []byte) string {
	for line := range strings.SplitSeq(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "# ") {
			return ""
		}
		return strings.TrimLeft(line, "# ")
	}
	return ""
}

var titleKeyRE = regexp.MustCompile(`(?m)^title:[ \t]*(.*?)[ \t]*$`)

// frontMatterTitle reads the title key of a page's YAML front matter.
func frontMatterTitle(meta []byte) string {
	m := titleKeyRE.FindSubmatch(meta)
	if m == nil {
		return ""
	}
	t := string(m[1])
	if len(t) >= 2 && (t[0] == '"' || t[0] == '\'') && t[len(t)-1] == t[0] {
		if t[0] == '"' {
			if u, err := strconv.Unquote(t); err == nil {
				return u
			}
		}
		return strings.ReplaceAll(t[1:len(t)-1], "''", "'")
	}
	return t
}

// prepare walks the parsed page: heading ids as Python-Markdown's toc
// gives them (ids set with {#id} kept, the others slugified and made
// unique), GitHub alerts made admonitions, task lists classed, relative
// links rewritten to the built site's URLs. It reports whether the page
// holds raw HTML.
func prepare(doc ast.Node, src []byte, rc renderCtx, out *rendered) (unsafe bool) {
	used := map[string]bool{}
	var headings []*ast.Heading
	var quotes []*ast.Blockquote // made admonitions after the walk, which a replaced node would cut short
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		if id, ok := n.AttributeString("id"); ok {
			if b, ok := id.([]byte); ok {
				used[string(b)] = true
			}
		}
		switch n := n.(type) {
		case *ast.Heading:
			headings = append(headings, n)
		case *ast.RawHTML, *ast.HTMLBlock:
			unsafe = true
		case *ast.Blockquote:
			quotes = append(quotes, n)
		case *extast.TaskCheckBox:
			if li := n.Parent().Parent(); li != nil && li.Kind() == ast.KindListItem {
				li.SetAttributeString("class", []byte("task-list-item"))
				li.Parent().SetAttributeString("class", []byte("task-list"))
			}
		case *ast.Link:
			n.Destination = rc.rewrite(n.Destination, lineOf(n, src), false, out)
		case *ast.Image:
			n.Destination = rc.rewrite(n.Destination, lineOf(n, src), true, out)
		}
		return ast.WalkContinue, nil
	})
	for _, q := range quotes {
		alert(q, src)
	}
	for _, h := range headings {
		txt := plainText(h, src)
		id := ""
		if v, ok := h.AttributeString("id"); ok {
			id = string(v.([]byte))
		} else {
			id = unique(slugify(txt), used)
			h.SetAttributeString("id", []byte(id))
		}
		out.TOC = append(out.TOC, Heading{Level: h.Level, ID: id, Text: txt})
	}
	return unsafe
}

// lineOf is the 1-based line a node starts on, or 0: an inline's first
// text, else its block's first line.
func lineOf(n ast.Node, src []byte) int {
	for c := n; c != nil && c.Type() == ast.TypeInline; c = c.FirstChild() {
		if t, ok := c.(*ast.Text); ok {
			return bytes.Count(src[:t.Segment.Start], []byte{'\n'}) + 1
		}
	}
	for ; n != nil; n = n.Parent() {
		if n.Type() == ast.TypeBlock && n.Lines().Len() > 0 {
			return bytes.Count(src[:n.Lines().At(0).Start], []byte{'\n'}) + 1
		}
		if t, ok := n.(*ast.Text); ok {
			return bytes.Count(src[:t.Segment.Start], []byte{'\n'}) + 1
		}
	}
	return 0
}

// plainText is a heading's text as the toc names it: its text and code,
// without markup or raw HTML.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Value(src))
			if c.SoftLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		case *ast.AutoLink:
			b.Write(c.Label(src))
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

var alertRE = regexp.MustCompile(`^\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\][ \t]*$`)

// alert turns a GitHub alert (a blockquote opening with [!NOTE]) into an
// admonition, as techdocs-core's gh-admonitions does.
func alert(bq *ast.Blockquote, src []byte) {
	p, ok := bq.FirstChild().(*ast.Paragraph)
	if !ok || p.Lines().Len() == 0 {
		return
	}
	first := p.Lines().At(0)
	m := alertRE.FindSubmatch(bytes.TrimSpace(first.Value(src)))
	if m == nil {
		return
	}
	kind := strings.ToLower(string(m[1]))
	a := &Admonition{Classes: kind}
	// The inlines of the marker's line go, up to its line break.
	for c := p.FirstChild(); c != nil; {
		next := c.NextSibling()
		t, isText := c.(*ast.Text)
		p.RemoveChild(p, c)
		if isText && (t.SoftLineBreak() || t.HardLineBreak()) {
			break
		}
		c = next
	}
	if p.ChildCount() == 0 {
		bq.RemoveChild(bq, p)
	}
	parent := bq.Parent()
	parent.ReplaceChild(parent, bq, a)
	for c := bq.FirstChild(); c != nil; {
		next := c.NextSibling()
		bq.RemoveChild(bq, c)
		a.AppendChild(a, c)
		c = next
	}
}

// rewrite rewrites a relative link to a file of the docs as MkDocs does:
// to the URL of the built file, relative to this page's URL. A link to a
// file that is not there stays as it is, and is reported.
func (rc renderCtx) rewrite(dest []byte, line int, image bool, out *rendered) []byte {
	d := string(dest)
	u, err := url.Parse(d)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/") {
		return dest
	}
	if u.Path == "" {
		if u.Fragment != "" {
			out.Links = append(out.Links, Link{Target: rc.self.src, Fragment: u.Fragment, Line: line, Image: image})
		}
		return dest
	}
	target := path.Join(path.Dir(rc.self.src), u.Path)
	f, ok := rc.files[target]
	if !ok {
		// A folder link to its index page.
		for _, idx := range []string{"index.md", "README.md"} {
			if f, ok = rc.files[path.Join(target, idx)]; ok {
				break
			}
		}
	}
	l := Link{Target: target, Fragment: u.Fragment, Line: line, Image: image}
	if !ok || strings.HasPrefix(target, "../") || target == ".." {
		out.Missing = append(out.Missing, l)
		return dest
	}
	l.Target = f.src
	out.Links = append(out.Links, l)
	rel := relativeURL(f.url, rc.self.url)
	if u.Fragment != "" {
		rel += "#" + u.Fragment
	}
	return []byte(rel)
}

// materialRenderer renders headings with a permalink, code blocks with
// chroma's CSS classes (diagrams passed through), and task list boxes as
// Material's.
type materialRenderer struct{}

func (r materialRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindHeading, r.heading)
	reg.Register(ast.KindFencedCodeBlock, r.code)
	reg.Register(ast.KindCodeBlock, r.code)
	reg.Register(extast.KindTaskCheckBox, r.checkbox)
}

func (materialRenderer) heading(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Heading)
	level := strconv.Itoa(n.Level)
	if entering {
		w.WriteString("<h" + level)
		html.RenderAttributes(w, n, html.HeadingAttributeFilter)
		w.WriteByte('>')
		return ast.WalkContinue, nil
	}
	if id, ok := n.AttributeString("id"); ok {
		w.WriteString(`<a class="headerlink" href="#`)
		w.Write(util.EscapeHTML(util.URLEscape(id.([]byte), false)))
		w.WriteString(`" title="Permanent link">&para;</a>`)
	}
	w.WriteString("</h" + level + ">\n")
	return ast.WalkContinue, nil
}

func (materialRenderer) checkbox(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	w.WriteString(`<label class="task-list-control"><input type="checkbox" disabled`)
	if node.(*extast.TaskCheckBox).IsChecked {
		w.WriteString(` checked`)
	}
	w.WriteString(`/><span class="task-list-indicator"></span></label> `)
	return ast.WalkContinue, nil
}

// diagrams are the fences passed through for a diagram renderer in the
// browser, not highlighted: chroma took 30 times as long on them.
var diagrams = map[string]bool{"mermaid": true, "plantuml": true}

func (materialRenderer) code(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	var lang string
	if f, ok := node.(*ast.FencedCodeBlock); ok {
		if l := f.Language(source); l != nil {
			lang = strings.ToLower(string(l))
		}
	}
	var code bytes.Buffer
	lines := node.Lines()
	for i := range lines.Len() {
		seg := lines.At(i)
		code.Write(seg.Value(source))
	}
	if diagrams[lang] {
		w.WriteString(`<pre class="` + lang + `"><code>`)
		w.Write(util.EscapeHTML(code.Bytes()))
		w.WriteString("</code></pre>\n")
		return ast.WalkSkipChildren, nil
	}
	cls := "highlight"
	if lang != "" {
		cls = "language-" + esc(lang) + " highlight"
	}
	w.WriteString(`<div class="` + cls + `"><pre><span></span><code>`)
	if err := highlight(w, lang, code.String()); err != nil {
		w.Write(util.EscapeHTML(code.Bytes()))
	}
	w.WriteString("</code></pre></div>\n")
	return ast.WalkSkipChildren, nil
}

// formatter writes chroma's tokens as spans with Pygments' short class
// names, which Material's stylesheets (and highlight.css) colour.
var formatter = chromahtml.New(chromahtml.WithClasses(true), chromahtml.PreventSurroundingPre(true))

// codeStyle colours highlight.css; pages carry only class names.
var codeStyle = styles.Get("github")

var lexerCache sync.Map // language → chroma.Lexer

func highlight(w util.BufWriter, lang, code string) error {
	if lang == "" {
		_, err := w.Write(util.EscapeHTML([]byte(code)))
		return err
	}
	lx, ok := lexerCache.Load(lang)
	if !ok {
		l := lexers.Get(lang)
		if l == nil {
			l = lexers.Fallback
		}
		lx, _ = lexerCache.LoadOrStore(lang, chroma.Coalesce(l))
	}
	it, err := lx.(chroma.Lexer).Tokenise(nil, code)
	if err != nil {
		return err
	}
	return formatter.Format(w, codeStyle, it)
}

// policy keeps what pages written in Markdown and HTML need and drops
// scripts, styles, event handlers and javascript: URLs.
var policy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(false)
	p.AllowAttrs("class", "id", "role", "title").Globally()
	p.AllowElements("details", "summary", "input", "label", "figure", "figcaption", "mark", "kbd", "abbr")
	p.AllowAttrs("open").OnElements("details")
	p.AllowAttrs("type", "checked", "disabled", "name").OnElements("input")
	p.AllowAttrs("for").OnElements("label")
	p.AllowAttrs("data-tabs").OnElements("div")
	p.AllowAttrs("align").OnElements("p", "div", "img", "td", "th")
	return p
})

// sanitize cleans the HTML of a page that held raw HTML; goldmark's own
// output escapes text and drops dangerous URLs, so other pages skip it.
func sanitize(b []byte) string { return string(policy().SanitizeBytes(b)) }
