package resolvers

import (
	"context"
	"encoding/json"

	"github.com/greenroomhq/greenroom/graph/model"
	"github.com/greenroomhq/greenroom/internal/app"
	"github.com/greenroomhq/greenroom/internal/gqltype"
	"github.com/greenroomhq/greenroom/internal/loader"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// Docs reads entities' TechDocs and asks for builds, each call authorized
// by the service (see internal/app).
type Docs interface {
	Page(ctx context.Context, site *portal.DocsSite, path string) (*portal.DocsPage, error)
	Pages(ctx context.Context, site *portal.DocsSite) ([]portal.DocsPage, error)
	Refresh(ctx context.Context, ref string) (*portal.DocsSite, error)
}

var errNoDocs = portal.Errorf(portal.EUNAVAILABLE, "this server serves no docs")

// entityDocs answers each kind's docs field.
func entityDocs(ctx context.Context, r *Resolver, obj gqltype.Node) (*portal.DocsSite, error) {
	if r.Docs == nil {
		return nil, nil
	}
	return app.SiteOf(ctx, obj.Record(), loader.DocsSite)
}

// navItem is an entry of a stored nav (techdocs.NavItem's JSON).
type navItem struct {
	Title    string     `json:"title"`
	Path     string     `json:"path"`
	URL      string     `json:"url"`
	Section  bool       `json:"section"`
	Children []*navItem `json:"children"`
}

func navItems(items []*navItem) []*model.TechDocsNavItem {
	out := make([]*model.TechDocsNavItem, 0, len(items))
	for _, it := range items {
		m := &model.TechDocsNavItem{Title: it.Title, Children: navItems(it.Children)}
		switch {
		case it.URL != "":
			m.URL = &it.URL
		case !it.Section:
			m.Path = &it.Path
		}
		out = append(out, m)
	}
	return out
}

func decodeNav(raw json.RawMessage) ([]*model.TechDocsNavItem, error) {
	var items []*navItem
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
	}
	return navItems(items), nil
}

func decodeReport(raw json.RawMessage) ([]*model.TechDocsWarning, error) {
	var ws []struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Message string `json:"message"`
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &ws); err != nil {
			return nil, err
		}
	}
	out := make([]*model.TechDocsWarning, len(ws))
	for i, w := range ws {
		out[i] = &model.TechDocsWarning{File: w.File, Message: w.Message}
		if w.Line > 0 {
			out[i].Line = &w.Line
		}
	}
	return out, nil
}

func decodeTOC(raw json.RawMessage) ([]*model.TechDocsHeading, error) {
	var out []*model.TechDocsHeading
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []*model.TechDocsHeading{}
	}
	return out, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
