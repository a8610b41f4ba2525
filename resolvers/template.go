package resolvers

import (
	"github.com/greenroomhq/greenroom/graph/model"
	"github.com/greenroomhq/greenroom/internal/gqltype"
	"github.com/greenroomhq/greenroom/internal/portal"
	"github.com/greenroomhq/greenroom/internal/scaffolder"
)

// templatePages returns the pages of t's form.
func templatePages(t *gqltype.Template) ([]scaffolder.Page, error) {
	params, err := t.Parameters()
	if err != nil {
		return nil, err
	}
	return scaffolder.Pages(params)
}

// templateParameterPages answers Template.parameterPages.
func templateParameterPages(t *gqltype.Template) ([]*model.TemplateParameterPage, error) {
	pages, err := templatePages(t)
	if err != nil {
		return nil, err
	}
	out := make([]*model.TemplateParameterPage, len(pages))
	for i, p := range pages {
		out[i] = &model.TemplateParameterPage{Index: i, Title: optional(p.Title), Description: optional(p.Description), Schema: p.Schema}
	}
	return out, nil
}

// templateValidateValues answers Template.validateValues.
func templateValidateValues(t *gqltype.Template, values any) ([]*model.TemplateValueError, error) {
	obj, ok := values.(map[string]any)
	if !ok {
		return nil, portal.Errorf(portal.EINVALID, "values must be a JSON object of the form's fields")
	}
	pages, err := templatePages(t)
	if err != nil {
		return nil, err
	}
	errs, err := scaffolder.Validate(pages, obj)
	if err != nil {
		return nil, err
	}
	out := make([]*model.TemplateValueError, len(errs))
	for i, e := range errs {
		out[i] = &model.TemplateValueError{Page: e.Page, Path: e.Path, Message: e.Message}
	}
	return out, nil
}
