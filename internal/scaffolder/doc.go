// Package scaffolder owns software templates (scaffolder.backstage.io/v1beta3
// Template entities): their form, the values a user fills it with, their
// steps and the actions they run, the workspace a run works in, and the
// running of a task (Tasks) that internal/jobs schedules.
//
// A template's form is JSON Schema, written in YAML: one object or a list
// of them, each a page of a wizard (backstage-spec.md §3.1). Values are
// checked against every page, as Backstage does before it creates a task,
// with santhosh-tekuri/jsonschema/v6 under draft 7, the draft of the
// ajv/RJSF forms that render them. Keys a validator does not know, such as
// the ui: hints of form renderers, are passed through and ignored.
//
// A run (Run.Execute) renders each step's input, if and each with
// Backstage's rules (value.go), checks the input against its action's
// schema, and runs the action in a Workspace, whose every file operation
// goes through an os.Root. A task's run checkpoints each finished step
// (outputs and a tar.gz of the workspace) so that another process can
// resume it; a dry run runs the same steps with the actions that change
// something outside the workspace in dry-run mode.
package scaffolder
