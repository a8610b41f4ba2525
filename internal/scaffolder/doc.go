// Package scaffolder owns software templates (scaffolder.backstage.io/v1beta3
// Template entities): their form, the values a user fills it with, and,
// as the software-templates issue lands, their steps, actions and tasks.
//
// A template's form is JSON Schema, written in YAML: one object or a list
// of them, each a page of a wizard (backstage-spec.md §3.1). Values are
// checked against every page, as Backstage does before it creates a task,
// with santhosh-tekuri/jsonschema/v6 under draft 7, the draft of the
// ajv/RJSF forms that render them. Keys a validator does not know, such as
// the ui: hints of form renderers, are passed through and ignored.
package scaffolder
