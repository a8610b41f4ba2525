package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/portal"
)

const pluginsUsage = `usage:
  greenroom plugins list   [--database URL] [--gateway URL]       the registry, and what the gateway made of each plugin
  greenroom plugins add    [--database URL] [--gateway URL] NAME URL   add a plugin subgraph (checked by the gateway first)
  greenroom plugins remove [--database URL] NAME                  remove a plugin; the gateway drops it
  greenroom plugins check  [--gateway URL] [--name NAME] URL|FILE...  compose a candidate plugin with the running supergraph

add and remove are audited, as cli:<OS user>, and act as addPlugin and
removePlugin do. The gateway (gateway/, --gateway or GREENROOM_GATEWAY_URL,
http://127.0.0.1:4000 by default) composes the registry's plugins with its
own within its poll interval, and refuses one that does not compose.

check sends the candidate's schema (the SDL of its _service field when it is
a URL; the files, or the .graphql/.graphqls files of a folder, when it is not)
to the gateway, which composes it with every subgraph it serves, the
candidate replacing the one of the same name (--name; "candidate" by
default). Each error is printed as FILE:LINE:COLUMN: message. Exit status: 0
when it composes, 1 when it does not, 2 when it could not be checked.
GREENROOM_GATEWAY_ADMIN_TOKEN, when set, is sent as the gateway's bearer token.
`

// defaultGateway is where make run serves the gateway.
const defaultGateway = "http://127.0.0.1:4000"

// cmdPlugins runs greenroom plugins list|add|remove|check.
func cmdPlugins(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := newDBCommand("plugins", pluginsUsage, stderr)
	gatewayURL := c.fs.String("gateway", "", "the gateway's base URL (default "+defaultGateway+"; GREENROOM_GATEWAY_URL)")
	name := c.fs.String("name", "candidate", "check: the candidate's subgraph name (a plugin's own, to check a new version of it)")
	rest, code, ok := c.parse(args)
	if !ok {
		return code
	}
	want := map[string]int{"list": 0, "add": 2, "remove": 1}
	n, known := want[first(rest)]
	if !known && first(rest) != "check" || known && len(rest) != n+1 || first(rest) == "check" && len(rest) < 2 {
		c.fs.Usage()
		return 2
	}
	c.name = "plugins " + rest[0]
	gw := gatewayClient{base: strings.TrimRight(firstNonEmpty(*gatewayURL, getenv("GREENROOM_GATEWAY_URL"), defaultGateway), "/"),
		token: getenv("GREENROOM_GATEWAY_ADMIN_TOKEN"), http: &http.Client{Timeout: 30 * time.Second}}
	if rest[0] == "check" {
		return checkPlugin(ctx, gw, *name, rest[1:], stdout, stderr)
	}
	cfg, db, err := c.open(ctx, getenv)
	if err != nil {
		return c.fail(err)
	}
	defer db.Close()
	log, err := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return c.fail(err)
	}
	// The service the API calls, as the operator: it checks and audits as
	// addPlugin and removePlugin do.
	svc := app.New(app.Deps{Store: db, Plugins: db, Logger: log}).Plugins
	ctx = app.Operator(ctx, operatorName(getenv))
	switch rest[0] {
	case "list":
		list, err := svc.List(ctx)
		if err != nil {
			return c.fail(err)
		}
		status, serr := gw.status(ctx)
		printPlugins(stdout, list, status)
		if serr != nil {
			fmt.Fprintf(stderr, "greenroom plugins list: the gateway's view is missing: %v\n", serr)
		}
	case "add":
		if err := app.ValidatePlugin(rest[1], rest[2]); err != nil {
			return c.fail(err)
		}
		report, err := gw.check(ctx, checkRequest{Name: rest[1], URL: rest[2]})
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "greenroom plugins add: not checked (%v); the gateway refuses the plugin if it does not compose\n", err)
		case !report.OK:
			printCompositionErrors(stderr, report.Errors, rest[1], sourceMap{name: rest[2]})
			fmt.Fprintf(stderr, "greenroom plugins add: %s does not compose with the supergraph the gateway serves: not added\n", rest[1])
			return 1
		}
		p, err := svc.Add(ctx, rest[1], rest[2])
		if err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(stdout, "added plugin %s %s\n", p.Name, p.URL)
	case "remove":
		p, err := svc.Remove(ctx, rest[1])
		if err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(stdout, "removed plugin %s %s\n", p.Name, p.URL)
	}
	return 0
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// printPlugins writes the registry as a table, with the state the gateway
// reports for each plugin when it answered.
func printPlugins(w io.Writer, list []portal.Plugin, status *gatewayStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tURL\tGATEWAY\tADDED BY\tADDED AT")
	for _, p := range list {
		state := "?"
		if status != nil {
			state = "not composed yet"
			if i := slices.IndexFunc(status.Subgraphs, func(s gatewaySubgraph) bool { return s.Name == p.Name }); i >= 0 {
				s := status.Subgraphs[i]
				state = s.State
				if s.Error != "" && !strings.HasPrefix(s.Error, s.State) {
					state += ": " + s.Error
				} else if s.Error != "" {
					state = s.Error
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, p.URL, state, p.AddedBy, p.AddedAt.Format(time.RFC3339))
	}
	tw.Flush()
}

// checkPlugin composes a candidate with the gateway's supergraph and prints
// its errors at their files and lines.
func checkPlugin(ctx context.Context, gw gatewayClient, name string, args []string, stdout, stderr io.Writer) int {
	req := checkRequest{Name: name}
	var src sourceMap
	if len(args) == 1 && (strings.HasPrefix(args[0], "http://") || strings.HasPrefix(args[0], "https://")) {
		req.URL, src.name = args[0], args[0]
	} else {
		var err error
		if src, err = readSDL(args); err != nil {
			fmt.Fprintf(stderr, "greenroom plugins check: %v\n", err)
			return 2
		}
		req.SDL = src.text
	}
	report, err := gw.check(ctx, req)
	if err != nil {
		fmt.Fprintf(stderr, "greenroom plugins check: %v\n", err)
		return 2
	}
	if !report.OK {
		printCompositionErrors(stdout, report.Errors, name, src)
		fmt.Fprintf(stdout, "%s does not compose: %s\n", name, count(len(report.Errors), "error"))
		return 1
	}
	fmt.Fprintf(stdout, "%s composes with the supergraph: %s\n", name, count(report.Types, "type"))
	return 0
}

// maxSDLFiles bounds what check reads from a folder.
const maxSDLFiles, maxSDLBytes = 200, 2 << 20

// sourceMap is a candidate's SDL, the files it was read from joined, and
// where each file begins in it, to print an error at its file's line.
type sourceMap struct {
	name  string // a URL: lines are the SDL's own
	text  string
	files []sdlFile
}

type sdlFile struct {
	path  string
	start int // the SDL's line where the file's first line is
}

// readSDL reads the files named, a folder standing for its .graphql and
// .graphqls files in name order.
func readSDL(args []string) (sourceMap, error) {
	var paths []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return sourceMap{}, err
		}
		if !st.IsDir() {
			paths = append(paths, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return sourceMap{}, err
		}
		for _, e := range entries {
			if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".graphql" || ext == ".graphqls") {
				paths = append(paths, filepath.Join(a, e.Name()))
			}
		}
	}
	if len(paths) == 0 {
		return sourceMap{}, errors.New("no .graphql or .graphqls file found")
	}
	if len(paths) > maxSDLFiles {
		return sourceMap{}, fmt.Errorf("%d schema files: at most %d", len(paths), maxSDLFiles)
	}
	var sm sourceMap
	var sb strings.Builder
	line := 1
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return sourceMap{}, err
		}
		if sb.Len()+len(b) > maxSDLBytes {
			return sourceMap{}, fmt.Errorf("the schema files hold more than %d bytes", maxSDLBytes)
		}
		sm.files = append(sm.files, sdlFile{path: p, start: line})
		sb.Write(b)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			sb.WriteByte('\n')
		}
		line += bytes.Count(b, []byte("\n"))
		if len(b) > 0 && b[len(b)-1] != '\n' {
			line++
		}
	}
	sm.text = sb.String()
	return sm, nil
}

// position returns the file and line of the SDL's line n.
func (s sourceMap) position(n int) (string, int) {
	if len(s.files) == 0 {
		return s.name, n
	}
	i := len(s.files) - 1
	for i > 0 && s.files[i].start > n {
		i--
	}
	return s.files[i].path, n - s.files[i].start + 1
}

// printCompositionErrors writes each error as FILE:LINE:COLUMN: message
// when it is at a line of the candidate, and as [subgraph] message when not.
func printCompositionErrors(w io.Writer, errs []compositionError, candidate string, src sourceMap) {
	for _, e := range errs {
		switch {
		case e.Line > 0 && (e.Subgraph == candidate || e.Subgraph == ""):
			file, line := src.position(e.Line)
			fmt.Fprintf(w, "%s:%d:%d: %s\n", file, line, max(e.Column, 1), e.Message)
		case e.Subgraph != "":
			fmt.Fprintf(w, "[%s] %s\n", e.Subgraph, e.Message)
		default:
			fmt.Fprintln(w, e.Message)
		}
	}
}

// gatewayClient calls the gateway's operator endpoints (gateway/README.md).
type gatewayClient struct {
	base, token string
	http        *http.Client
}

type checkRequest struct {
	Name string `json:"name"`
	SDL  string `json:"sdl,omitempty"`
	URL  string `json:"url,omitempty"`
}

type compositionError struct {
	Subgraph string `json:"subgraph"`
	Message  string `json:"message"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

type checkReport struct {
	OK     bool               `json:"ok"`
	Types  int                `json:"types"`
	Errors []compositionError `json:"errors"`
}

type gatewaySubgraph struct {
	Name  string `json:"name"`
	URL   string `json:"url"`
	State string `json:"state"`
	Error string `json:"error"`
}

type gatewayStatus struct {
	Ready     bool              `json:"ready"`
	Subgraphs []gatewaySubgraph `json:"subgraphs"`
}

func (g gatewayClient) check(ctx context.Context, req checkRequest) (*checkReport, error) {
	body, _ := json.Marshal(req) // strings only
	var out checkReport
	return &out, g.do(ctx, http.MethodPost, "/gateway/check", body, &out)
}

func (g gatewayClient) status(ctx context.Context) (*gatewayStatus, error) {
	var out gatewayStatus
	if err := g.do(ctx, http.MethodGet, "/gateway/status", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// do sends a request to the gateway and decodes its JSON answer into out.
func (g gatewayClient) do(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, g.base+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("gateway URL %q: %w", g.base, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if g.token != "" {
		req.Header.Set("Authorization", "Bearer "+g.token)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		return fmt.Errorf("the gateway at %s does not answer: %w", g.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("the gateway at %s: %w", g.base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the gateway at %s answered %s: %s", g.base, resp.Status, strings.TrimSpace(string(b)))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("the gateway at %s answered %s, which is not its JSON: %w", g.base, path, err)
	}
	return nil
}
